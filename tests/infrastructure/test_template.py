"""template.yaml: linters clean, the resources the code relies on present and locked down, and a
`sam build` whose bundles fit Lambda and ship bytecode Lambda will actually use.

Tools: cfn-lint comes from the test venv; sam and checkov from .venv-tools (`make tools`: they pin
conflicting boto3 versions, so each has its own venv, linked into .venv-tools/bin).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.bundle_sizes import LAMBDA_UNZIPPED_LIMIT, MIB, load_template, measure
from tests.infrastructure.sam_build import CHECKOV, ROOT, SAM, TEMPLATE, lambda_runtime_dir, require_tool

PREDICTION_LIMIT = 150 * MIB  # issue 4: prediction function + layers

FUNCTIONS = {
    # logical id: (CodeUri, memory, layers, {(path, method)})
    "IngestFunction": (
        "functions/ingest/",
        512,
        ["LeadAiLayer", "PredictDepsLayer"],
        {("/series/{series_id}/observations", "post"), ("/series/{series_id}", "put")},
    ),
    "TrainFunction": (
        "functions/train/",
        3008,
        ["LeadAiLayer", "TrainDepsLayer"],
        {
            ("/series/{series_id}/train", "post"),
            ("/series/{series_id}/models/{version}/promote", "post"),
            ("/pools/{pool_id}/models/{version}/promote", "post"),
        },
    ),
    "PredictFunction": (
        "functions/predict/",
        1024,
        ["LeadAiLayer", "PredictDepsLayer"],
        {
            ("/series/{series_id}/forecast", "get"),
            ("/series/{series_id}/models", "get"),
            ("/pools/{pool_id}/models", "get"),
            ("/series/{series_id}/dashboard", "get"),
            ("/openapi.json", "get"),
            ("/series", "get"),
            ("/series/{series_id}", "get"),
            ("/series/{series_id}/staffing", "get"),
        },
    ),
    # The planner and the worker carry the training layer: the runtime's whole SDK (SQS) is theirs.
    "PlannerFunction": ("functions/planner/", 512, ["LeadAiLayer", "TrainDepsLayer"], set()),
    "TrainWorkerFunction": ("functions/train_worker/", 3008, ["LeadAiLayer", "TrainDepsLayer"], set()),
    "DeleteFunction": (
        "functions/delete/",
        512,
        ["LeadAiLayer", "PredictDepsLayer"],
        {("/series/{series_id}/observations", "delete"), ("/series/{series_id}", "delete")},
    ),
}

SHARED_ENV = {
    "POWERTOOLS_SERVICE_NAME": "lead_ai",
    "POWERTOOLS_METRICS_NAMESPACE": "LeadAI",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "OMP_NUM_THREADS": "1",
    "LEAD_AI_BUCKET": {"Ref": "ArtifactBucket"},
    "LEAD_AI_REGISTRY_TABLE": {"Ref": "RegistryTable"},
    "LEAD_AI_OBSERVATIONS_TABLE": {"Ref": "ObservationsTable"},
    "LEAD_AI_IDEMPOTENCY_TABLE": {"Ref": "IdempotencyTable"},
    "LEAD_AI_MIN_TRAINING_POINTS": {"Ref": "MinTrainingPoints"},
    "LEAD_AI_DEFAULT_INTERVAL": {"Ref": "DefaultInterval"},
    "LEAD_AI_MAX_HORIZON": "7d",
    "LEAD_AI_REGISTRY_TTL_SECONDS": "5",
    "LEAD_AI_MAX_BODY_BYTES": "1048576",
    "LEAD_AI_MAX_OBSERVATIONS_PER_REQUEST": "10000",
    "LEAD_AI_TRAINING_QUEUE_URL": {"Ref": "TrainingQueue"},
    "LEAD_AI_DEFAULT_TIMEZONE": {"Ref": "DefaultTimezone"},
    "LEAD_AI_DEFAULT_HOLIDAYS": {"Ref": "DefaultHolidays"},
    "LEAD_AI_AWS_CONNECT_TIMEOUT_SECONDS": "1",
    "LEAD_AI_AWS_READ_TIMEOUT_SECONDS": "4",
    "LEAD_AI_AWS_MAX_ATTEMPTS": "3",
    "LEAD_AI_API_TIME_BUDGET_SECONDS": "24",
    "LEAD_AI_VERSION_RETENTION_DAYS": {"Ref": "VersionRetentionDays"},
    "LEAD_AI_POOL_RECHECK_SECONDS": "900",
    "LEAD_AI_TRAINING_MIN_SECONDS_LEFT": "90",
}
API_GATEWAY_TIMEOUT_SECONDS = 29  # REST API integration timeout: API Gateway answers 504 after it

# Read-only verbs a prediction role may hold.
READ_ONLY_ACTION = re.compile(
    r"^(s3:(Get|List)[A-Za-z]*|dynamodb:(GetItem|BatchGetItem|Query|DescribeTable))$"
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


def _function_env(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    props = template["Resources"][logical_id]["Properties"]
    env.update(props.get("Environment", {}).get("Variables", {}))
    return env


def _get_att_target(value: dict[str, Any]) -> str:
    """The logical id a `!GetAtt X.Attr` (this loader keeps it as the string "X.Attr") points at."""
    target = value["Fn::GetAtt"]
    return str(target.split(".")[0] if isinstance(target, str) else target[0])


def _statements(
    resource: dict[str, Any], resources: dict[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """A function's policy statements: its inline SAM Policies, or those of the role it names."""
    role = resource["Properties"].get("Role")
    if role is not None:
        assert resources is not None, "a function with its own role: pass the resources to find it"
        role_props = resources[_get_att_target(role)]["Properties"]
        assert not role_props.get("ManagedPolicyArns"), "managed policies hide their actions"
        for policy in role_props["Policies"]:
            yield from policy["PolicyDocument"]["Statement"]
        return
    for policy in resource["Properties"].get("Policies", []):
        assert isinstance(policy, dict) and set(policy) == {"Statement"}, (
            f"only inline statements are allowed (SAM policy templates hide their actions): {policy!r}"
        )
        yield from policy["Statement"]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


# ----------------------------------------------------------------------------------- linters


def test_cfn_lint_reports_nothing() -> None:
    # Given the template and the cfn-lint installed next to this interpreter
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    # When cfn-lint checks it (errors, warnings and the SAM transform)
    result = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    # Then it reports no finding at all
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_sam_validate_lint_reports_nothing() -> None:
    require_tool(SAM)
    # Given sam from the tools venv, offline (no telemetry) with a default region
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    # When it validates the template with its linter
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--template-file", str(TEMPLATE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    # Then the template is valid and nothing is reported
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_checkov_has_no_failed_check_and_every_skip_has_a_reason(tmp_path: Path) -> None:
    require_tool(CHECKOV)
    # Given checkov from the tools venv, offline (no platform download)
    # When it scans the template
    result = subprocess.run(
        [
            str(CHECKOV),
            "-f",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    # Then no check fails, and each skipped one carries a written reason
    assert failed == [], [(c["check_id"], c["resource"]) for c in failed]
    assert result.returncode == 0, result.stderr
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason.strip()) >= 30, f"{check['check_id']} on {check['resource']}: no real reason"


def test_every_checkov_skip_in_the_template_is_written_with_a_reason(resources: dict[str, Any]) -> None:
    # Given every checkov skip declared in resource Metadata
    skips = [
        (name, skip)
        for name, resource in resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    # Then each names a check and explains itself
    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip.get("comment", "").split()) >= 8, f"{name} {skip['id']}: reason too thin"


# ----------------------------------------------------------------------------------- functions


def test_transform_runtime_and_globals(template: dict[str, Any]) -> None:
    # Given the template's Globals
    function_globals = template["Globals"]["Function"]
    # Then it is a SAM template on python3.12, x86_64, with bounded timeout and memory
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Architectures"] == ["x86_64"]
    assert 1 <= function_globals["Timeout"] <= 900
    assert 128 <= function_globals["MemorySize"] <= 10240
    # and the shared environment is exactly the one the code expects
    assert function_globals["Environment"]["Variables"] == SHARED_ENV


def test_parameters_drive_min_training_points_and_schedule(template: dict[str, Any]) -> None:
    # Given the template parameters
    params = template["Parameters"]
    # Then both tunables are parameters with the documented defaults, and are wired in
    assert params["MinTrainingPoints"]["Type"] == "Number"
    assert str(params["MinTrainingPoints"]["Default"]) == "1000"
    assert params["TrainingSchedule"]["Default"] == "rate(1 day)"
    schedule = template["Resources"]["PlannerFunction"]["Properties"]["Events"]["DailyPlan"]
    assert schedule["Type"] == "Schedule"
    assert schedule["Properties"]["Schedule"] == {"Ref": "TrainingSchedule"}
    assert schedule["Properties"].get("Enabled", True) is True


def test_series_defaults_are_template_parameters(template: dict[str, Any]) -> None:
    # Given the template parameters
    params = template["Parameters"]
    # Then a new series' interval, time zone and calendar are parameters with the documented defaults
    assert params["DefaultInterval"]["Default"] == "1h"
    assert set(params["DefaultInterval"]["AllowedValues"]) == {"15min", "30min", "1h", "1d"}
    assert params["DefaultTimezone"]["Default"] == "UTC"
    assert params["DefaultHolidays"]["Default"] == "none"
    for code in ("none", "US", "GB", "DE-BY", "US-CA"):
        assert re.fullmatch(params["DefaultHolidays"]["AllowedPattern"], code)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_function_code_handler_layers_and_routes(resources: dict[str, Any], logical_id: str) -> None:
    code_uri, memory, layers, routes = FUNCTIONS[logical_id]
    # Given the function resource
    resource = resources[logical_id]
    props = resource["Properties"]
    # Then it runs app.lambda_handler from its own directory, which holds the handler
    assert resource["Type"] == "AWS::Serverless::Function"
    assert props["CodeUri"] == code_uri
    assert props["Handler"] == "app.lambda_handler"
    assert (ROOT / code_uri / "app.py").is_file()
    assert props["MemorySize"] == memory
    assert props.get("Runtime", "python3.12") == "python3.12"
    # built by the functions Makefile (which ships app.py as bytecode)
    assert resource["Metadata"]["BuildMethod"] == "makefile"
    makefile = ROOT / resource["Metadata"]["ContextPath"] / "Makefile"
    assert logical_id in makefile.read_text()
    # with exactly its layers
    assert props["Layers"] == [{"Ref": name} for name in layers]
    # and serves exactly its routes, on the authorised API
    api_events = {
        (e["Properties"]["Path"], e["Properties"]["Method"].lower()): e
        for e in props.get("Events", {}).values()
        if e["Type"] == "Api"
    }
    assert set(api_events) == routes
    for event in api_events.values():
        assert event["Properties"]["RestApiId"] == {"Ref": "LeadAiApi"}


def test_train_function_can_run_fifteen_minutes(resources: dict[str, Any]) -> None:
    # Given the training function
    props = resources["TrainFunction"]["Properties"]
    # Then it gets Lambda's maximum timeout (a 5-year history fits) and is not API-bound in memory
    assert props["Timeout"] == 900


@pytest.mark.parametrize(
    ("layer", "content_uri"),
    [
        ("LeadAiLayer", "lead_ai/"),
        ("PredictDepsLayer", "layers/predict-deps/"),
        ("TrainDepsLayer", "layers/train-deps/"),
    ],
)
def test_layers_are_built_by_their_makefiles(resources: dict[str, Any], layer: str, content_uri: str) -> None:
    # Given a layer
    resource = resources[layer]
    # Then it is a python3.12 x86_64 layer built by a Makefile (which compiles and trims it)
    assert resource["Type"] == "AWS::Serverless::LayerVersion"
    assert resource["Properties"]["ContentUri"] == content_uri
    assert resource["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert resource["Properties"]["CompatibleArchitectures"] == ["x86_64"]
    assert resource["Metadata"]["BuildMethod"] == "makefile"
    makefile_dir = ROOT / resource["Metadata"].get("ContextPath", content_uri)
    assert f"build-{layer}:" in (makefile_dir / "Makefile").read_text()


# ----------------------------------------------------------------------------------- API


def test_api_requires_a_key_and_is_throttled(resources: dict[str, Any]) -> None:
    # Given the REST API
    api = resources["LeadAiApi"]
    props = api["Properties"]
    # Then every method needs an API key from a usage plan that throttles and caps usage
    assert api["Type"] == "AWS::Serverless::Api"
    assert props["StageName"]
    assert props["Auth"]["ApiKeyRequired"] is True
    plan = props["Auth"]["UsagePlan"]
    assert plan["CreateUsagePlan"] == "PER_API"
    assert plan["Throttle"]["RateLimit"] > 0 and plan["Throttle"]["BurstLimit"] > 0
    assert plan["Quota"]["Limit"] > 0
    assert all(s["ThrottlingRateLimit"] > 0 for s in props["MethodSettings"])
    # and no route opts out of the key
    for name, resource in resources.items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                assert event["Properties"].get("Auth", {}).get("ApiKeyRequired", True) is True, name


def test_outputs_give_the_api_url_key_bucket_and_tables(template: dict[str, Any]) -> None:
    # Given the outputs
    outputs = template["Outputs"]
    # Then the stage URL of the API is there, with the key id and every storage name
    url = outputs["ApiUrl"]["Value"]["Fn::Sub"]
    stage = template["Resources"]["LeadAiApi"]["Properties"]["StageName"]
    assert url.startswith("https://${LeadAiApi}.execute-api.${AWS::Region}.")
    assert url.endswith(f"/{stage}")
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "LeadAiApiApiKey"}
    for name, ref in [
        ("ArtifactBucketName", "ArtifactBucket"),
        ("RegistryTableName", "RegistryTable"),
        ("ObservationsTableName", "ObservationsTable"),
        ("IdempotencyTableName", "IdempotencyTable"),
    ]:
        assert outputs[name]["Value"] == {"Ref": ref}


# ----------------------------------------------------------------------------------- storage


def test_artifact_bucket_is_versioned_encrypted_private_and_tls_only(resources: dict[str, Any]) -> None:
    # Given the artifact bucket and its policy
    bucket = resources["ArtifactBucket"]["Properties"]
    policy = next(
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": "ArtifactBucket"}
    )
    # Then versioning and default encryption are on and public access is fully blocked
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] in {"AES256", "aws:kms", "aws:kms:dsse"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    # and every request without TLS is denied, on the bucket and on its objects
    deny_plain = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] in ("s3:*", ["s3:*"])
        and str(s["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false"
    ]
    assert len(deny_plain) == 1
    assert deny_plain[0]["Resource"] == [
        {"Fn::GetAtt": "ArtifactBucket.Arn"},
        {"Fn::Sub": "${ArtifactBucket.Arn}/*"},
    ]


@pytest.mark.parametrize(
    ("table", "keys"),
    [
        ("RegistryTable", [("series_id", "S", "HASH"), ("record", "S", "RANGE")]),
        ("ObservationsTable", [("series_id", "S", "HASH"), ("ts", "N", "RANGE")]),
        ("IdempotencyTable", [("id", "S", "HASH")]),
    ],
)
def test_tables_are_on_demand_recoverable_and_encrypted(
    resources: dict[str, Any], table: str, keys: list[tuple[str, str, str]]
) -> None:
    # Given a table
    props = resources[table]["Properties"]
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    # Then its key is the one the code queries, billing is on demand, PITR and SSE are on
    assert [(k["AttributeName"], types[k["AttributeName"]], k["KeyType"]) for k in props["KeySchema"]] == keys
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_idempotency_records_expire(resources: dict[str, Any]) -> None:
    # Given the idempotency table, Then Powertools' `expiration` attribute is its TTL
    ttl = resources["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expiration", "Enabled": True}


# ----------------------------------------------------------------------------------- IAM


def test_prediction_role_is_read_only(resources: dict[str, Any]) -> None:
    # Given every statement of the prediction function's role
    statements = list(_statements(resources["PredictFunction"]))
    actions = [a for s in statements for a in _actions(s)]
    # Then it only reads: no Put/Update/Delete/Write of any kind, and no wildcard
    assert actions
    assert all(s["Effect"] == "Allow" for s in statements)
    for action in actions:
        assert READ_ONLY_ACTION.match(action), f"PredictFunction may not {action}"
        assert not re.search(r"Put|Update|Delete|Write|Create|Restore|Tag|Batch(?!Get)", action), action


STACK_RESOURCES = (
    "ArtifactBucket",
    "RegistryTable",
    "ObservationsTable",
    "IdempotencyTable",
    "TrainingQueue",
    "TrainWorkerLogGroup",
)


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_roles_are_scoped_to_the_stack_resources(resources: dict[str, Any], logical_id: str) -> None:
    # Given every statement of a function's role
    for statement in _statements(resources[logical_id], resources):
        actions = _actions(statement)
        res = statement["Resource"]
        res_list = res if isinstance(res, list) else [res]
        # Then no action or resource is a wildcard, and objects are limited to the models/ prefix
        assert all("*" not in a for a in actions), (logical_id, actions)
        assert "*" not in res_list, (logical_id, statement)
        for r in res_list:
            text = json.dumps(r)
            assert any(n in text for n in STACK_RESOURCES), (logical_id, r)
            if "ArtifactBucket.Arn}/" in text:
                assert text.endswith('/models/*"}'), (logical_id, r)


def test_ingest_and_train_have_the_writes_they_need(resources: dict[str, Any]) -> None:
    # Given the ingest and training roles
    def grants(logical_id: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for statement in _statements(resources[logical_id], resources):
            key = json.dumps(statement["Resource"])
            out.setdefault(key, set()).update(_actions(statement))
        return out

    ingest = grants("IngestFunction")
    train = grants("TrainFunction")
    obs = json.dumps({"Fn::GetAtt": "ObservationsTable.Arn"})
    reg = json.dumps({"Fn::GetAtt": "RegistryTable.Arn"})
    idem = json.dumps({"Fn::GetAtt": "IdempotencyTable.Arn"})
    models = json.dumps({"Fn::Sub": "${ArtifactBucket.Arn}/models/*"})
    # Then ingest reads the chunks it touches and writes them with the series summary (one transaction,
    # authorised per item action), never reads a whole history, and cannot touch models
    assert ingest[obs] == {"dynamodb:BatchGetItem", "dynamodb:PutItem"}
    assert ingest[reg] == {"dynamodb:UpdateItem", "dynamodb:GetItem"}
    assert models not in ingest and idem not in ingest
    # and training (on request, or from the queue) reads history, writes registry records (transactions
    # authorise per item action) and artifacts, but never writes observations and never scans
    for worker in (train, grants("TrainWorkerFunction")):
        assert worker[obs] == {"dynamodb:Query"}
        # (the queue's worker also trains pooled models: it reads the CURRENT pointers of a pool's series)
        pool_reads = {"dynamodb:BatchGetItem"} if worker is not train else set()
        assert (
            worker[reg]
            == {
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:ConditionCheckItem",
                "dynamodb:Query",
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",  # pruning the series' expired rejected/failed versions
            }
            | pool_reads
        )
        assert {"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObjectVersion"} <= worker[
            models
        ]
    # idempotency records are the queue worker's (per message) and the planner's (per scheduled event)
    assert idem not in train
    for logical_id in ("TrainWorkerFunction", "PlannerFunction"):
        assert grants(logical_id)[idem] == {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        }


# ----------------------------------------------------------------------------------- training fan-out


def _sqs_events(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, event["Properties"])
        for name, resource in resources.items()
        for event in resource.get("Properties", {}).get("Events", {}).values()
        if event["Type"] == "SQS"
    ]


def test_the_worker_drains_the_training_queue_with_partial_failures_and_bounded_concurrency(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the SQS event sources of the template
    events = _sqs_events(resources)
    # Then the training worker alone consumes the training queue, reporting failures per message
    assert [name for name, _ in events] == ["TrainWorkerFunction"]
    props = events[0][1]
    assert props["Queue"] == {"Fn::GetAtt": "TrainingQueue.Arn"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 2 <= props["BatchSize"] <= 10  # > 1: a poison message shares batches; <= 10: one receive
    # with its concurrency a template parameter within Lambda's bounds for SQS (2-1000)
    assert props["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "TrainingConcurrency"}
    concurrency = template["Parameters"]["TrainingConcurrency"]
    assert concurrency["Type"] == "Number"
    assert 2 <= concurrency["MinValue"] <= concurrency["Default"] <= concurrency["MaxValue"] <= 1000
    # and a timeout that fits a whole batch: a production training measured ~20 s wall (~35 s on one
    # vCPU); allow twice that for each message of a batch (docs/fleet.md, "Sizing")
    worker = resources["TrainWorkerFunction"]["Properties"]
    assert worker["Timeout"] >= props["BatchSize"] * 2 * 35


def test_the_worker_starts_a_training_only_with_time_to_finish_it(template: dict[str, Any]) -> None:
    from lead_ai.time_budget import ANSWER_MARGIN_SECONDS

    # Given the time the worker keeps for a training (LEAD_AI_TRAINING_MIN_SECONDS_LEFT) and its timeout
    env = _function_env(template, "TrainWorkerFunction")
    guard = float(env["LEAD_AI_TRAINING_MIN_SECONDS_LEFT"])
    timeout = template["Resources"]["TrainWorkerFunction"]["Properties"]["Timeout"]
    # Then a training started with that much left ends before the timeout: ~20 s wall measured, ~35 s on
    # one vCPU; allow twice that (docs/fleet.md, "Sizing")
    assert guard >= 2 * 35
    # and the first message of an invocation is always started: with a guard past the timeout every
    # message would be sent around the queue for ever
    assert guard + ANSWER_MARGIN_SECONDS < timeout, (guard, timeout)


def test_the_training_queue_is_encrypted_and_redrives_to_a_dead_letter_queue(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the training queue and its dead-letter queue
    queue = resources["TrainingQueue"]["Properties"]
    dlq = resources["TrainingDeadLetterQueue"]["Properties"]
    # Then both are encrypted at rest
    for props in (queue, dlq):
        assert props.get("SqsManagedSseEnabled") is True or props.get("KmsMasterKeyId")
    # and a message that failed maxReceiveCount deliveries moves to the dead-letter queue
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": "TrainingDeadLetterQueue.Arn"}
    assert redrive["maxReceiveCount"] == {"Ref": "TrainingMaxReceiveCount"}
    assert 2 <= template["Parameters"]["TrainingMaxReceiveCount"]["Default"] <= 10
    assert "RedrivePolicy" not in dlq
    # which keeps it longer than the queue would (a standard queue's message keeps its first enqueue time)
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_visibility_timeout_is_at_least_six_times_the_consumers_timeout(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given each queue a function consumes
    for name, props in _sqs_events(resources):
        queue = resources[_get_att_target(props["Queue"])]["Properties"]
        timeout = resources[name]["Properties"].get("Timeout", template["Globals"]["Function"]["Timeout"])
        # Then a batch still running is never handed to a second worker (AWS: visibility >= 6 x timeout)
        assert queue["VisibilityTimeout"] >= 6 * timeout, (name, queue["VisibilityTimeout"], timeout)


def test_a_message_in_the_dead_letter_queue_raises_an_alarm(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the alarms of the template
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    # Then one fires as soon as the dead-letter queue holds a visible message
    dlq_alarms = [
        a
        for a in alarms
        if a["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": "TrainingDeadLetterQueue.QueueName"}}]
    ]
    assert len(dlq_alarms) == 1
    alarm = dlq_alarms[0]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["Statistic"] == "Maximum" and alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"  # an empty queue publishes nothing: that is fine
    # and notifies the operator's topic when one is given
    assert alarm["AlarmActions"]["Fn::If"][0] == "HasAlarmTopic"
    assert alarm["AlarmActions"]["Fn::If"][1] == [{"Ref": "AlarmTopicArn"}]


def test_the_planner_reads_the_due_index_and_sends_to_the_training_queue_only(
    resources: dict[str, Any],
) -> None:
    # Given the planner's statements
    statements = list(_statements(resources["PlannerFunction"], resources))
    by_resource: dict[str, set[str]] = {}
    for statement in statements:
        by_resource.setdefault(json.dumps(statement["Resource"]), set()).update(_actions(statement))
    # Then it queries the DueIndex (and the table, for the sweep's version lists), sends to the training
    # queue, and may delete model objects the sweep finds orphaned; nothing else, and it never scans
    assert by_resource[json.dumps({"Fn::Sub": "${RegistryTable.Arn}/index/DueIndex"})] == {"dynamodb:Query"}
    # (and reads the settings of the series too young for a model of their own: which pools to queue)
    assert by_resource[json.dumps({"Fn::GetAtt": "RegistryTable.Arn"})] == {
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
    }
    assert by_resource[json.dumps({"Fn::GetAtt": "TrainingQueue.Arn"})] == {"sqs:SendMessage"}
    assert by_resource[json.dumps({"Fn::Sub": "${ArtifactBucket.Arn}/models/*"})] == {
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
    }
    # and the schedule that used to start the whole retraining now starts the planner
    events = resources["PlannerFunction"]["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["Schedule"]
    assert not [e for e in resources["TrainFunction"]["Properties"]["Events"].values() if e["Type"] != "Api"]


def test_no_role_in_the_template_may_scan(resources: dict[str, Any]) -> None:
    # The planner reads the sparse DueIndex; GET /series reads the SeriesIndex: no Scan is left to grant.
    for logical_id in FUNCTIONS:
        actions = {a for s in _statements(resources[logical_id], resources) for a in _actions(s)}
        assert "dynamodb:Scan" not in actions, logical_id


def test_the_worker_has_its_own_role_scoped_to_the_training_queue(resources: dict[str, Any]) -> None:
    # Given the training worker: with a generated role, SAM would attach the managed
    # AWSLambdaSQSQueueExecutionRole policy, whose SQS actions apply to every queue ("*")
    worker = resources["TrainWorkerFunction"]["Properties"]
    assert worker["Role"] == {"Fn::GetAtt": "TrainWorkerRole.Arn"}
    assert "Policies" not in worker
    role = resources["TrainWorkerRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    statements = list(_statements(resources["TrainWorkerFunction"], resources))
    # Then its SQS rights are what Lambda's poller needs, and sending (a pool waiting for its group's
    # first models sends its message again; so does a message the invocation has no time left to train),
    # on the training queue only
    sqs = [s for s in statements if any(a.startswith("sqs:") for a in _actions(s))]
    assert {a for s in sqs for a in _actions(s)} == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
    }
    assert all(s["Resource"] == {"Fn::GetAtt": "TrainingQueue.Arn"} for s in sqs)
    # and it writes its own log group only
    logs = [s for s in statements if any(a.startswith("logs:") for a in _actions(s))]
    assert len(logs) == 1 and logs[0]["Resource"] == {"Fn::GetAtt": "TrainWorkerLogGroup.Arn"}
    assert set(_actions(logs[0])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert worker["LoggingConfig"]["LogGroup"] == {"Ref": "TrainWorkerLogGroup"}


def test_the_registry_indexes_are_the_ones_the_code_queries(resources: dict[str, Any]) -> None:
    from lead_ai.storage import registry_table

    # Given the registry table's global secondary indexes
    props = resources["RegistryTable"]["Properties"]
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}

    def keys(name: str) -> list[tuple[str, str]]:
        return [(k["AttributeName"], k["KeyType"]) for k in indexes[name]["KeySchema"]]

    # Then the due index is keyed on `due` (present on due SERIES items only) and holds what the planner reads
    assert set(indexes) == {registry_table.DUE_INDEX, registry_table.SERIES_INDEX}
    assert keys(registry_table.DUE_INDEX) == [("due", "HASH"), ("series_id", "RANGE")]
    projection = indexes[registry_table.DUE_INDEX]["Projection"]
    assert projection["ProjectionType"] == "INCLUDE"
    assert set(projection["NonKeyAttributes"]) == {"revision", "observation_count", "interval_seconds"}
    # and the series index on `kind` (on SERIES items only), with every attribute GET /series shows
    assert keys(registry_table.SERIES_INDEX) == [("kind", "HASH"), ("series_id", "RANGE")]
    assert indexes[registry_table.SERIES_INDEX]["Projection"] == {"ProjectionType": "ALL"}
    assert types["due"] == types["kind"] == "S"


def test_predict_lists_series_from_the_series_index(resources: dict[str, Any]) -> None:
    statements = list(_statements(resources["PredictFunction"]))
    grants = {json.dumps(s["Resource"]): set(_actions(s)) for s in statements}
    assert grants[json.dumps({"Fn::Sub": "${RegistryTable.Arn}/index/SeriesIndex"})] == {"dynamodb:Query"}
    assert "dynamodb:BatchGetItem" in grants[json.dumps({"Fn::GetAtt": "RegistryTable.Arn"})]


def test_outputs_give_the_training_queues(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["TrainingQueueUrl"]["Value"] == {"Ref": "TrainingQueue"}
    assert outputs["TrainingDeadLetterQueueUrl"]["Value"] == {"Ref": "TrainingDeadLetterQueue"}


def test_only_the_delete_function_deletes_data_and_it_reads_no_model(resources: dict[str, Any]) -> None:
    # Given every grant of every role
    def grants(logical_id: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for statement in _statements(resources[logical_id]):
            out.setdefault(json.dumps(statement["Resource"]), set()).update(_actions(statement))
        return out

    obs = json.dumps({"Fn::GetAtt": "ObservationsTable.Arn"})
    reg = json.dumps({"Fn::GetAtt": "RegistryTable.Arn"})
    models = json.dumps({"Fn::Sub": "${ArtifactBucket.Arn}/models/*"})
    bucket = json.dumps({"Fn::GetAtt": "ArtifactBucket.Arn"})
    delete = grants("DeleteFunction")
    # Then the delete function clears chunks (transactions: Put for a partly cleared chunk, Delete for an
    # emptied one), version records and every version of the series' objects, and nothing else
    assert delete == {
        obs: {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"},
        reg: {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"},
        models: {"s3:DeleteObjectVersion"},
        bucket: {"s3:ListBucketVersions"},
    }
    # and no other role deletes observations
    for logical_id in ("IngestFunction", "TrainFunction", "PredictFunction"):
        assert "dynamodb:DeleteItem" not in grants(logical_id).get(obs, set()), logical_id


def test_api_function_timeouts_agree_with_the_time_budget(template: dict[str, Any]) -> None:
    # Given the time budget of every AWS call, as the functions read it (lead_ai.config)
    from lead_ai.config import AwsCallLimits
    from lead_ai.time_budget import ANSWER_MARGIN_SECONDS

    env = {
        k: v
        for k, v in template["Globals"]["Function"]["Environment"]["Variables"].items()
        if isinstance(v, str)
    }
    limits = AwsCallLimits.from_env(env)
    for logical_id in FUNCTIONS:
        props = template["Resources"][logical_id]["Properties"]
        timeout = props.get("Timeout", template["Globals"]["Function"]["Timeout"])
        serves_api = any(e["Type"] == "Api" for e in props.get("Events", {}).values())
        # Then an API request's budget ends, with the answer's margin, before API Gateway gives up
        # and before the function's own timeout (a function-only API route may not outlive the gateway)
        assert limits.api_budget_seconds + ANSWER_MARGIN_SECONDS <= API_GATEWAY_TIMEOUT_SECONDS - 2
        assert limits.api_budget_seconds + ANSWER_MARGIN_SECONDS <= timeout, logical_id
        if serves_api and logical_id != "TrainFunction":
            assert timeout <= API_GATEWAY_TIMEOUT_SECONDS, (logical_id, timeout)
    # and one attempt (connect + read timeout) fits the budget at least twice: a hung first attempt
    # still leaves time for a retry, and the budget (not attempts x timeouts, 40 s before) bounds a hang
    assert 2 * limits.attempt_seconds <= limits.api_budget_seconds


def test_version_retention_is_a_parameter(template: dict[str, Any]) -> None:
    # Given the template parameters, Then the retention of rejected/failed versions is one, wired in
    param = template["Parameters"]["VersionRetentionDays"]
    assert param["Type"] == "Number" and str(param["Default"]) == "30" and param["MinValue"] >= 1
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["LEAD_AI_VERSION_RETENTION_DAYS"] == {"Ref": "VersionRetentionDays"}


# ----------------------------------------------------------------------------------- code ↔ template

ENV_NAME = re.compile(r"""["']((?:LEAD_AI|POWERTOOLS)_[A-Z0-9_]+)["']""")


def _env_names_in_code() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for path in sorted([*ROOT.glob("lead_ai/**/*.py"), *ROOT.glob("functions/*/*.py")]):
        rel = path.relative_to(ROOT).as_posix()  # lead_ai_dev (local tooling) is never in Lambda
        for name in ENV_NAME.findall(path.read_text(encoding="utf-8")):
            names.setdefault(name, set()).add(rel)
    return names


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_env_var_the_code_reads_is_declared(template: dict[str, Any], logical_id: str) -> None:
    # Given the LEAD_AI_* / POWERTOOLS_* names the Lambda code mentions
    in_code = _env_names_in_code()
    # When compared with the function's environment in the template
    declared = _function_env(template, logical_id)
    # Then every one is declared (a missing one would silently fall back to a default)
    missing = {name: sorted(files) for name, files in in_code.items() if name not in declared}
    assert missing == {}
    # and no LEAD_AI_* variable is declared that the code never reads
    stale = {n for n in declared if n.startswith("LEAD_AI_") and n not in in_code}
    assert stale == set()


def _routes_and_schedules(resources: dict[str, Any]) -> tuple[set[tuple[str, str]], bool]:
    routes: set[tuple[str, str]] = set()
    has_schedule = False
    for resource in resources.values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                routes.add((event["Properties"]["Path"], event["Properties"]["Method"].upper()))
            elif event["Type"] in {"Schedule", "ScheduleV2"}:
                has_schedule = True
    return routes, has_schedule


EVENT_FILES = sorted((ROOT / "events").glob("*.json"))


@pytest.mark.skipif(not EVENT_FILES, reason="events/ is empty")
@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda p: p.name)
def test_every_event_file_targets_a_declared_trigger(resources: dict[str, Any], event_file: Path) -> None:
    # Given an event file, as `sam local invoke -e` would send it
    event = json.loads(event_file.read_text())
    routes, has_schedule = _routes_and_schedules(resources)
    # Then it is either an API Gateway proxy event for a declared route,
    if "httpMethod" in event:
        assert (event["resource"], event["httpMethod"].upper()) in routes, event_file.name
        path = event["resource"]
        for name, value in (event.get("pathParameters") or {}).items():
            path = path.replace("{" + name + "}", value)
        assert event["path"] == path and "{" not in path, event_file.name
    # or an SQS event from a queue some function is triggered by,
    elif "Records" in event:
        queues = {
            _get_att_target(e["Properties"]["Queue"])
            for r in resources.values()
            for e in r.get("Properties", {}).get("Events", {}).values()
            if e["Type"] == "SQS"
        }
        assert queues and all(r["eventSource"] == "aws:sqs" for r in event["Records"])
    # or an EventBridge scheduled event for a function that has a schedule
    else:
        assert event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event"
        assert has_schedule


# ----------------------------------------------------------------------------------- sam build


@pytest.mark.slow
def test_sam_build_bundles_fit_lambda(built: tuple[Path, str]) -> None:
    build_dir, _ = built
    # Given the output of sam build
    # When each function is measured with its layers, unzipped
    bundles = {b.function: b for b in measure(build_dir)}
    # Then every function fits Lambda's 250 MB and prediction stays within 150 MB
    assert set(bundles) == set(FUNCTIONS)
    for bundle in bundles.values():
        assert bundle.unzipped_bytes <= LAMBDA_UNZIPPED_LIMIT, (bundle.function, bundle.unzipped_mib)
        assert bundle.layers == FUNCTIONS[bundle.function][2]
    assert bundles["PredictFunction"].unzipped_bytes <= PREDICTION_LIMIT, bundles[
        "PredictFunction"
    ].unzipped_mib


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["LeadAiLayer", "PredictDepsLayer", "TrainDepsLayer", *sorted(FUNCTIONS)])
def test_layers_ship_unchecked_hash_bytecode_and_no_tests(built: tuple[Path, str], layer: str) -> None:
    build_dir, _ = built
    site = build_dir / layer if layer in FUNCTIONS else build_dir / layer / "python"
    # Given a built layer (or a function's own code)
    sources = list(site.rglob("*.py"))
    pycs = list(site.rglob("*.pyc"))
    # Then every module has cpython-312 bytecode that never checks source mtimes (zip changes them)
    assert sources
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        assert pyc.is_file(), f"no bytecode for {source.relative_to(site)}"
    for pyc in pycs:
        assert pyc.name.endswith(".cpython-312.pyc") and pyc.parent.name == "__pycache__", pyc
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{pyc.relative_to(site)} is not an unchecked-hash pyc (flags={flags})"
    # and nothing only the package's own test suite uses
    assert not [p for p in site.rglob("tests") if p.is_dir()]
    assert not (site / "onnx" / "backend" / "test" / "data").exists()
    assert not (site / "bin").exists()
    if layer in FUNCTIONS:
        assert (site / "app.py").is_file()
    if layer == "LeadAiLayer":
        assert (site / "lead_ai" / "__init__.py").is_file()
        assert sorted(p.name for p in site.iterdir()) == ["lead_ai"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("layers", "imports"),
    [
        (
            ["LeadAiLayer", "PredictDepsLayer"],
            "import numpy, onnxruntime, lead_ai; "
            "from aws_lambda_powertools import Logger, Metrics; "
            "from aws_lambda_powertools.logging import correlation_paths",
        ),
        (
            ["LeadAiLayer", "TrainDepsLayer"],
            "import numpy, sklearn.ensemble, skl2onnx, onnx, onnx.reference, lead_ai; "
            "from aws_lambda_powertools import Logger, Metrics",
        ),
    ],
    ids=["predict", "train"],
)
def test_layer_modules_import_from_bytecode_after_mtimes_change(
    built: tuple[Path, str], tmp_path: Path, layers: list[str], imports: str
) -> None:
    build_dir, python312 = built
    # Given the built layers, with every source mtime changed as unzipping on Lambda does
    paths = []
    for layer in layers:
        site = build_dir / layer / "python"
        for source in site.rglob("*.py"):
            os.utime(source, (1_000_000_000, 1_000_000_000))
        paths.append(str(site))
    # When Lambda's Python imports the runtime modules from them (no site-packages, no writes)
    result = subprocess.run(
        [python312, "-S", "-B", "-v", "-c", imports],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join(paths), "OMP_NUM_THREADS": "1"},
    )
    # Then they import, and not one module of the layers was compiled from source
    assert result.returncode == 0, result.stderr[-4000:]
    compiled_from_source = [
        line
        for line in result.stderr.splitlines()
        if line.startswith("# code object from ")
        and not line.endswith(".pyc'")
        and any(p in line for p in paths)
    ]
    from_bytecode = [line for line in result.stderr.splitlines() if line.startswith("# code object from '")]
    assert compiled_from_source == []
    assert len(from_bytecode) > 50


@pytest.mark.slow
@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_imports_from_its_bundle_alone(
    built: tuple[Path, str], template: dict[str, Any], tmp_path: Path, logical_id: str
) -> None:
    build_dir, python312 = built
    # Given the function's built code and layers, plus only what the Lambda runtime provides (boto3)
    runtime = lambda_runtime_dir(tmp_path)
    layers = FUNCTIONS[logical_id][2]
    path = [build_dir / logical_id, *(build_dir / layer / "python" for layer in layers), runtime]
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    parameters = template.get("Parameters", {})
    for name, value in _function_env(template, logical_id).items():
        if isinstance(value, dict) and value.get("Ref") in parameters:  # a template parameter: its default
            env[name] = str(parameters[value["Ref"]]["Default"])
        else:
            env[name] = value if isinstance(value, str) else f"{name.lower()}-placeholder"
    # When Lambda's Python imports the handler module (no site-packages)
    result = subprocess.run(
        [python312, "-S", "-B", "-c", "import app; assert callable(app.lambda_handler)"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    # Then everything it needs at import time is in its own bundle
    assert result.returncode == 0, result.stderr[-4000:]


# ----------------------------------------------------------------------------------- IAM: calls -> grants

# moto does not enforce IAM: a call whose action a role lacks passes every other test here and is an outage
# in AWS. So each function's AWS calls are listed below with the action IAM checks for them and the resource
# they are made on, and the template must grant exactly these (what its roles grant beyond them is unused).
# How IAM authorises the calls lead_ai makes: TransactWriteItems per item (Put -> PutItem, Update ->
# UpdateItem, Delete -> DeleteItem, ConditionCheck -> ConditionCheckItem); GetObject with a VersionId needs
# s3:GetObjectVersion, DeleteObject with one s3:DeleteObjectVersion, DeleteObjects the same per key;
# ListObjectVersions needs s3:ListBucketVersions; SendMessageBatch needs sqs:SendMessage.
_REG = json.dumps({"Fn::GetAtt": "RegistryTable.Arn"})
_DUE_INDEX = json.dumps({"Fn::Sub": "${RegistryTable.Arn}/index/DueIndex"})
_SERIES_INDEX = json.dumps({"Fn::Sub": "${RegistryTable.Arn}/index/SeriesIndex"})
_OBS = json.dumps({"Fn::GetAtt": "ObservationsTable.Arn"})
_IDEM = json.dumps({"Fn::GetAtt": "IdempotencyTable.Arn"})
_MODELS = json.dumps({"Fn::Sub": "${ArtifactBucket.Arn}/models/*"})
_BUCKET = json.dumps({"Fn::GetAtt": "ArtifactBucket.Arn"})
_QUEUE = json.dumps({"Fn::GetAtt": "TrainingQueue.Arn"})
_WORKER_LOGS = json.dumps({"Fn::GetAtt": "TrainWorkerLogGroup.Arn"})

Call = tuple[str, str, str]  # (the client operation, the IAM action it needs, the resource)

# Reading a model: GetObject of the recorded version (GetObject alone when none is recorded), and
# s3:ListBucket so that a deleted object answers NoSuchKey (served from a fallback) rather than AccessDenied.
_READ_MODEL: list[Call] = [
    ("GetObject", "s3:GetObject", _MODELS),
    ("GetObject", "s3:GetObjectVersion", _MODELS),
    ("GetObject", "s3:ListBucket", _BUCKET),
]
# Training (on request, or from the queue): the series and its history; allocate (a transaction: the version
# put, SERIES condition check), upload, read back, verify, promote (a transaction: CURRENT put, version
# update, SERIES condition check), reject or fail a version; record the revision; prune expired versions
# (mark, delete the object version, delete the record).
_TRAIN: list[Call] = [
    ("GetItem", "dynamodb:GetItem", _REG),
    ("Query", "dynamodb:Query", _OBS),
    ("Query", "dynamodb:Query", _REG),
    ("UpdateItem", "dynamodb:UpdateItem", _REG),
    ("DeleteItem", "dynamodb:DeleteItem", _REG),
    ("TransactWriteItems", "dynamodb:PutItem", _REG),
    ("TransactWriteItems", "dynamodb:UpdateItem", _REG),
    ("TransactWriteItems", "dynamodb:ConditionCheckItem", _REG),
    ("PutObject", "s3:PutObject", _MODELS),
    *_READ_MODEL,
    ("DeleteObject", "s3:DeleteObject", _MODELS),
    ("DeleteObject", "s3:DeleteObjectVersion", _MODELS),
]
_IDEMPOTENCY: list[Call] = [
    (operation, f"dynamodb:{operation}", _IDEM)
    for operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
]
CALLS: dict[str, list[Call]] = {
    # ingest: the series (GetItem), the touched chunks (BatchGetItem), one transaction of chunk puts and the
    # SERIES update; PUT /series: one UpdateItem
    "IngestFunction": [
        ("GetItem", "dynamodb:GetItem", _REG),
        ("UpdateItem", "dynamodb:UpdateItem", _REG),
        ("BatchGetItem", "dynamodb:BatchGetItem", _OBS),
        ("TransactWriteItems", "dynamodb:PutItem", _OBS),
        ("TransactWriteItems", "dynamodb:UpdateItem", _REG),
    ],
    "TrainFunction": _TRAIN,
    # forecasts, staffing, the page (CURRENT, versions, the window, the model); GET /series (SeriesIndex, then
    # the CURRENT pointers of a page in one BatchGetItem)
    "PredictFunction": [
        ("GetItem", "dynamodb:GetItem", _REG),
        ("Query", "dynamodb:Query", _REG),
        ("BatchGetItem", "dynamodb:BatchGetItem", _REG),
        ("Query", "dynamodb:Query", _SERIES_INDEX),
        ("Query", "dynamodb:Query", _OBS),
        *_READ_MODEL,
    ],
    # a range (the series, its chunks, one transaction of chunk puts/deletes and the SERIES update); a series
    # (mark it, CURRENT, every object version, the version records, the chunks, the SERIES item)
    "DeleteFunction": [
        ("GetItem", "dynamodb:GetItem", _REG),
        ("UpdateItem", "dynamodb:UpdateItem", _REG),
        ("DeleteItem", "dynamodb:DeleteItem", _REG),
        ("Query", "dynamodb:Query", _REG),
        ("TransactWriteItems", "dynamodb:DeleteItem", _REG),
        ("TransactWriteItems", "dynamodb:UpdateItem", _REG),
        ("Query", "dynamodb:Query", _OBS),
        ("TransactWriteItems", "dynamodb:PutItem", _OBS),
        ("TransactWriteItems", "dynamodb:DeleteItem", _OBS),
        ("ListObjectVersions", "s3:ListBucketVersions", _BUCKET),
        ("DeleteObjects", "s3:DeleteObjectVersion", _MODELS),
    ],
    # the due series, the young ones' settings (which pools), the messages; the orphan sweep (list every
    # object version, the versions of its series, delete the orphans); its idempotency record per event
    "PlannerFunction": [
        ("Query", "dynamodb:Query", _DUE_INDEX),
        ("BatchGetItem", "dynamodb:BatchGetItem", _REG),
        ("SendMessageBatch", "sqs:SendMessage", _QUEUE),
        ("ListObjectVersions", "s3:ListBucketVersions", _BUCKET),
        ("Query", "dynamodb:Query", _REG),
        ("DeleteObject", "s3:DeleteObject", _MODELS),
        ("DeleteObject", "s3:DeleteObjectVersion", _MODELS),
        *_IDEMPOTENCY,
    ],
    # a series' training as TrainFunction's; a pool's also reads its group (SeriesIndex) and their CURRENT
    # pointers (BatchGetItem), and sends its message again while it waits, as the worker sends a message it
    # has no time left to train; a failure is noted (UpdateItem);
    # Lambda's event source mapping receives and deletes with the worker's role; its own log group
    "TrainWorkerFunction": [
        *_TRAIN,
        ("Query", "dynamodb:Query", _SERIES_INDEX),
        ("BatchGetItem", "dynamodb:BatchGetItem", _REG),
        ("SendMessageBatch", "sqs:SendMessage", _QUEUE),
        *_IDEMPOTENCY,
        ("(event source mapping)", "sqs:ReceiveMessage", _QUEUE),
        ("(event source mapping)", "sqs:DeleteMessage", _QUEUE),
        ("(event source mapping)", "sqs:GetQueueAttributes", _QUEUE),
        ("(Lambda's log agent)", "logs:CreateLogStream", _WORKER_LOGS),
        ("(Lambda's log agent)", "logs:PutLogEvents", _WORKER_LOGS),
    ],
}


def _grants(resources: dict[str, Any], logical_id: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the function's role allows."""
    return {
        (action, json.dumps(resource))
        for statement in _statements(resources[logical_id], resources)
        if statement["Effect"] == "Allow"
        for resource in (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in _actions(statement)
    }


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_call_a_function_makes_is_granted(resources: dict[str, Any], logical_id: str) -> None:
    # Given the calls the function's code makes, and what its role allows
    granted = _grants(resources, logical_id)
    # Then each call's action is allowed on the resource it is made on
    missing = sorted(
        {(op, action, res) for op, action, res in CALLS[logical_id] if (action, res) not in granted}
    )
    assert missing == [], f"{logical_id} would get AccessDenied in AWS for: {missing}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_no_function_is_granted_what_its_calls_do_not_need(
    resources: dict[str, Any], logical_id: str
) -> None:
    # Given the calls the function's code makes, and what its role allows
    needed = {(action, res) for _, action, res in CALLS[logical_id]}
    # Then the role allows nothing beyond them
    assert sorted(_grants(resources, logical_id) - needed) == [], f"{logical_id}: unused grants"


def test_the_call_table_names_every_operation_lead_ai_makes() -> None:
    from tests.unit.test_aws_operations import referenced_operations

    # Given every DynamoDB, S3 and SQS operation lead_ai's code names (the scan that guards the trimmed
    # botocore), and the Powertools idempotency store's (the planner and the worker)
    in_code = {op for service in ("dynamodb", "s3", "sqs") for op in referenced_operations(service)}
    in_code |= {"GetItem", "PutItem", "UpdateItem", "DeleteItem"}
    # Then each is in the table of some function: a new operation cannot reach AWS without its action
    in_table = {op for calls in CALLS.values() for op, _, _ in calls}
    assert sorted(in_code - in_table) == []
    assert {"TransactWriteItems", "BatchGetItem", "ListObjectVersions", "SendMessageBatch"} <= in_code


@pytest.mark.parametrize("function", ["PlannerFunction", "TrainWorkerFunction"])
def test_a_failed_invocation_of_the_daily_run_raises_an_alarm(
    resources: dict[str, Any], function: str
) -> None:
    # Given the alarms of the template
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    # Then one fires when the function's invocation fails: a planner that fails every delivery queues
    # nothing, so no message ever reaches the dead-letter queue and its alarm stays silent; a worker that
    # times out, runs out of memory or cannot start fails whole batches (per-message failures are reported
    # in batchItemFailures, not as errors)
    errors = [
        a
        for a in alarms
        if (a["Namespace"], a["MetricName"]) == ("AWS/Lambda", "Errors")
        and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]
    assert len(errors) == 1, function
    alarm = errors[0]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["Statistic"] == "Sum" and alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    # and notifies the operator's topic, as the dead-letter alarm does
    assert alarm["AlarmActions"]["Fn::If"][0] == "HasAlarmTopic"
    assert alarm["AlarmActions"]["Fn::If"][1] == [{"Ref": "AlarmTopicArn"}]


def test_a_5xx_answer_of_the_api_raises_an_alarm(resources: dict[str, Any]) -> None:
    # Given the alarms of the template, and the REST API: with no Name of its own, SAM names it after the
    # stack (its OpenAPI info.title), which is the ApiName dimension API Gateway publishes metrics under
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    api = resources["LeadAiApi"]["Properties"]
    assert "Name" not in api and api["StageName"] == "v1"
    # Then one fires on the first 5xx the API's stage answers in five minutes
    server_errors = [a for a in alarms if (a["Namespace"], a["MetricName"]) == ("AWS/ApiGateway", "5XXError")]
    assert len(server_errors) == 1
    alarm = server_errors[0]
    assert alarm["Dimensions"] == [
        {"Name": "ApiName", "Value": {"Ref": "AWS::StackName"}},
        {"Name": "Stage", "Value": {"Ref": "LeadAiApi.Stage"}},
    ]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["Statistic"] == "Sum" and alarm["Period"] == 300 and alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"  # no requests publish nothing: that is fine
    # and notifies the operator's topic, as the other alarms do
    assert alarm["AlarmActions"]["Fn::If"][0] == "HasAlarmTopic"
    assert alarm["AlarmActions"]["Fn::If"][1] == [{"Ref": "AlarmTopicArn"}]


def test_every_alarm_is_explained_in_the_operations_guide(resources: dict[str, Any]) -> None:
    # Given the "Alarms" section of docs/operations.md
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("\n## Alarms\n", 1)[1].split("\n## ", 1)[0]
    # Then it names every alarm of the template, and no alarm the template does not have
    in_template = {name for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    in_docs = set(re.findall(r"`(\w+Alarm)`", section))
    assert in_docs == in_template
