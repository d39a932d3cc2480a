"""The built Ingest and Predict functions serve real requests from their bundles alone.

Lambda's Python 3.12, no site-packages, the function's code and layers first on the path (the prediction
layer's own trimmed botocore shadows the runtime's, as on Lambda), the local stand-in as AWS. The dev venv
has the full SDK and Python 3.11: only this test sees what Lambda will run.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lead_ai_dev.local.events import api_event, load_event
from lead_ai_dev.local.invoke import resolve_environment
from tests.conftest import ROOT, Api, lead_history
from tests.infrastructure.sam_build import lambda_runtime_dir

SERIES = "bundle-check"

_RUN = """
import json, sys
import app
class Context:
    function_name = sys.argv[3]
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + sys.argv[3]
    aws_request_id = "bundle-check"
with open(sys.argv[1]) as f:
    event = json.load(f)
response = app.lambda_handler(event, Context())
with open(sys.argv[2], "w") as f:
    json.dump(response, f)
"""


def run_built(
    built: tuple[Path, str], api: Api, logical_id: str, event: dict[str, Any], work: Path
) -> dict[str, Any]:
    build_dir, python312 = built
    function = api.template.function(logical_id)
    layers = [layer["Ref"] for layer in function.layers]  # the template's order, as Lambda stacks them
    path = [build_dir / logical_id, *(build_dir / layer / "python" for layer in layers), work / "runtime"]
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        **resolve_environment(api.template, function),
        **api.stack.environment(),
        **api.overrides,
    }
    (work / "event.json").write_text(json.dumps(event))
    (work / "run.py").write_text(_RUN)
    result = subprocess.run(
        [python312, "-S", "-B", "run.py", "event.json", "response.json", logical_id],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=work,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    response: dict[str, Any] = json.loads((work / "response.json").read_text())
    return response


@pytest.mark.slow
def test_built_ingest_and_predict_functions_serve_like_the_source(
    built: tuple[Path, str], api: Api, tmp_path: Path
) -> None:
    lambda_runtime_dir(tmp_path)
    # Given a series ingested and trained in-process (the dev venv's code and SDK)
    api.overrides["LEAD_AI_MIN_TRAINING_POINTS"] = "200"
    stamps, values = lead_history(21, seed=3)
    api.ingest_and_train(SERIES, stamps[:-1], values[:-1])
    events = ROOT / "events"
    forecast_event = api_event(load_event(events, "forecast.json"), series_id=SERIES, query={"horizon": "24"})
    # When the built PredictFunction answers a forecast in Lambda's Python
    built_answer = run_built(built, api, "PredictFunction", forecast_event, tmp_path)
    # Then it is the forecast the source gives, to the last digit
    status, expected = api.forecast(SERIES, 24)
    assert (built_answer["statusCode"], status) == (200, 200), built_answer
    assert json.loads(built_answer["body"]) == expected
    # When the built IngestFunction stores the next hour
    last = datetime.fromtimestamp(int(stamps[-1]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({"observations": [{"timestamp": last, "value": float(values[-1])}]})
    ingest_event = api_event(load_event(events, "ingest-observations.json"), series_id=SERIES, body=body)
    ingested = run_built(built, api, "IngestFunction", ingest_event, tmp_path)
    # Then it is accepted, and the source's next forecast starts an hour later
    assert ingested["statusCode"] == 200, ingested
    status, moved = api.forecast(SERIES, 24)
    assert status == 200
    assert moved["origin"] != expected["origin"]
    assert json.loads(ingested["body"])["span"]["last"] == moved["origin"]
