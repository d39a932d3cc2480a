"""What the probes share: the Lambda context, the stand-in's answer time, the config and result files.

Standard library only, imported lazily where it touches the SDK: the probes run on a bundle (`python -S`,
a PYTHONPATH of the function and its layers only) and find this module beside them (a script's own
directory is sys.path[0]). A probe imports it after the phase it times, never inside it.
"""

from __future__ import annotations

import json
import time
from typing import Any


class LambdaContext:
    """The parts of Lambda's context object the handler and Powertools' logger read."""

    function_name = "PredictFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:PredictFunction"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    function_version = "$LATEST"
    log_group_name = "/aws/lambda/PredictFunction"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30000


class ServerWait:
    """Time spent waiting on the stand-in's HTTP answers (every botocore request goes through
    `Endpoint._send`), so the report can separate moto's own speed from the handler's work.

    Installed after the imports phase, which makes no AWS call."""

    def __init__(self) -> None:
        import botocore.endpoint

        self.seconds = 0.0
        # A private method (no stub): the one place every request and its answer pass through.
        send = botocore.endpoint.Endpoint._send  # type: ignore[attr-defined]

        def timed_send(endpoint: Any, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return send(endpoint, request)
            finally:
                self.seconds += time.perf_counter() - started

        botocore.endpoint.Endpoint._send = timed_send  # type: ignore[attr-defined]


def read_config(path: str) -> dict[str, Any]:
    with open(path) as source:
        config: dict[str, Any] = json.load(source)
    return config


def write_result(path: str, result: dict[str, Any]) -> None:
    with open(path, "w") as out:
        json.dump(result, out)
