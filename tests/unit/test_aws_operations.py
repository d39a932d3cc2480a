"""The prediction layer's botocore knows only the operations in aws-operations.json: lead_ai calls no other.

trim_botocore.py strips every other operation from the layer's service models, so a call to an operation
missing from that list would work in every test here (the dev venv has the full SDK) and fail in Lambda.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import botocore.session
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
ALLOWLIST = ROOT / "layers" / "predict-deps" / "aws-operations.json"


def allowed() -> dict[str, set[str]]:
    data = json.loads(ALLOWLIST.read_text())
    return {service: set(ops) for service, ops in data.items() if not service.startswith("_")}


def operations_by_method(service: str) -> dict[str, str]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def referenced_operations(service: str) -> dict[str, set[str]]:
    """Operation -> files, for every attribute named like one of the service's client methods."""
    methods = operations_by_method(service)
    found: dict[str, set[str]] = {}
    # lead_ai is the layer; the developer tools (lead_ai_dev: moto set-up through boto3) never run in Lambda.
    for path in (ROOT / "lead_ai").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            # Attributes, not only calls: `partial(self._client.list_object_versions, ...)` counts too.
            if isinstance(node, ast.Attribute) and node.attr in methods:
                found.setdefault(methods[node.attr], set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_operation_lead_ai_calls_is_kept_in_the_layer() -> None:
    # Given the allowlist the layer build trims botocore to
    kept = allowed()
    for service in ("dynamodb", "s3"):
        # When lead_ai's code is scanned for the service's client methods
        used = referenced_operations(service)
        # Then each one is kept
        missing = {op: files for op, files in used.items() if op not in kept[service]}
        assert not missing, f"add to {ALLOWLIST.name}: {missing}"


# Called by botocore itself, never by lead_ai's code (S3 region redirects, S3 Express sessions).
_CALLED_BY_BOTOCORE = {"HeadBucket", "CreateSession"}


def test_the_layer_keeps_no_operation_lead_ai_does_not_call() -> None:
    # Given the allowlist and the operations lead_ai's code names
    kept = allowed()
    for service in ("dynamodb", "s3"):
        used = set(referenced_operations(service))
        # Then the list holds nothing else: an operation nobody calls is only a larger layer and a wider
        # reading of what the functions do (the prediction layer's PutItem outlived its last caller)
        assert sorted(kept[service] - used - _CALLED_BY_BOTOCORE) == [], service


def test_the_scan_sees_the_calls_it_guards() -> None:
    # A scan that found nothing would pass the test above vacuously.
    assert {"GetItem", "TransactWriteItems", "Query", "UpdateItem"} <= set(referenced_operations("dynamodb"))
    assert {"GetObject", "PutObject", "ListObjectVersions"} <= set(referenced_operations("s3"))


def test_every_listed_operation_exists() -> None:
    for service, ops in allowed().items():
        assert ops <= set(operations_by_method(service).values()), service


# SQS is not in the prediction layer's trimmed botocore: only the planner (on the training layer, which
# uses the Lambda runtime's whole SDK) may call it, and nothing the prediction or ingest function runs may.
_NO_SQS_PROBE = """
import importlib.util, json, sys
for name in ("predict", "ingest"):
    spec = importlib.util.spec_from_file_location(name + "_app", f"functions/{name}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
import lead_ai.service.model_cache, lead_ai.forecasting.inference, lead_ai.service.series_list
print(json.dumps(sorted(name for name in sys.modules if name.startswith("lead_ai"))))
"""


def test_only_the_queue_adapter_calls_sqs_and_the_layer_keeps_no_sqs() -> None:
    # Given the SQS operations lead_ai's code names
    used = referenced_operations("sqs")
    # Then only the planner's queue adapter names one, and it is SendMessageBatch
    assert used == {"SendMessageBatch": {"lead_ai/storage/queue.py"}}
    # and the prediction layer's SDK keeps no SQS (the planner and the worker run on the training layer)
    assert "sqs" not in allowed()


def test_the_prediction_and_ingest_functions_never_load_the_queue() -> None:
    import os
    import subprocess
    import sys

    # Given a fresh interpreter with the functions' environment
    env = {
        **os.environ,
        "LEAD_AI_BUCKET": "b",
        "LEAD_AI_REGISTRY_TABLE": "r",
        "LEAD_AI_OBSERVATIONS_TABLE": "o",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # When both handlers and what their requests load are imported
    result = subprocess.run(
        [sys.executable, "-c", _NO_SQS_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    # Then neither the queue adapter nor the planner is among the modules they run
    assert "lead_ai.service.series_list" in loaded  # the probe reached the new GET /series path
    assert loaded.isdisjoint({"lead_ai.storage.queue", "lead_ai.service.schedule"}), loaded
