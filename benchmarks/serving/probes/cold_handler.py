"""Cold-start probe: one fresh process = one Lambda cold start of a prediction handler.

usage: python3.12 -S -B cold_handler.py CONFIG.json RESULT.json   (PYTHONPATH: the function, its layers,
the runtime's SDK). The clock starts at the first statement; phases:
  imports       `import app`: module init, incl. the clients and the model cache
  model_load    registry read, S3 get, onnxruntime session, observation window (deps.cache.state)
  first_answer  lambda_handler with an API Gateway event
`total` leaves out the probe's own set-up between the imports and the model load. After the clock stops
the probe also reports which SDK and router it ran (the A/B variants are checked against them) and a
digest of the answer (every variant must give the same one).
"""

# ruff: noqa: E402  -- the clock starts before the imports it measures
import time

STARTED = time.perf_counter()
import app

IMPORTED = time.perf_counter()

import json
import os
import sys
from typing import Any

from probe_support import LambdaContext, ServerWait, read_config, write_result


def sdk_facts() -> dict[str, Any]:
    """Which botocore the handler imported: where from and how many service models it has."""
    import botocore

    package = os.path.dirname(botocore.__file__ or "")
    data = os.path.join(package, "data")
    return {
        "botocore_version": botocore.__version__,
        "botocore_path": package,
        "botocore_services": sum(os.path.isdir(os.path.join(data, name)) for name in os.listdir(data)),
    }


def main(config_path: str, result_path: str) -> None:
    config = read_config(config_path)
    wait = ServerWait()
    resumed = time.perf_counter()
    app.deps.cache.state(config["series_id"])
    loaded = time.perf_counter()
    response = app.lambda_handler(config["event"], LambdaContext())
    answered = time.perf_counter()
    modules = len(sys.modules)
    body = json.loads(response["body"])
    if response["statusCode"] != 200 or len(body["forecast"]) != config["horizon"]:
        raise SystemExit(f"unexpected answer: {response}")

    import hashlib

    write_result(
        result_path,
        {
            "imports": IMPORTED - STARTED,
            "model_load": loaded - resumed,
            "first_answer": answered - loaded,
            "total": answered - STARTED - (resumed - IMPORTED),
            "server_wait": wait.seconds,
            "modules": modules,
            "boto3_imported": "boto3" in sys.modules,
            "router": type(app.app).__name__,
            "body_sha256": hashlib.sha256(response["body"].encode()).hexdigest(),
            **sdk_facts(),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
