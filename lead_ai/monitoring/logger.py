"""The monitoring logger: every module logs through this one Powertools Logger (structured JSON).

Handlers decorate themselves with `logger.inject_lambda_context(correlation_id_path=...)` so each
line carries the API Gateway request id or the EventBridge event id as `correlation_id`.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "lead_ai")

logger = Logger(service=SERVICE_NAME)
