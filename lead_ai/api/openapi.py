"""The API's contract as an OpenAPI 3.0 document: one `Operation` per route, declared next to the router.

**Adding a route** (a `@app.get/post/...` in functions/*/app.py and an `Api` event in template.yaml):
add one `Operation(...)` to OPERATIONS below (its parameters, request body, success response, and the
error statuses the route can answer), then `make openapi` to rewrite docs/openapi.json.
tests/unit/test_openapi.py fails until both are done, and its message says which route is missing.
Every operation also gets, without saying so: the API key (403 from API Gateway), 500 and 503.

Importing this module builds nothing but small tuples; `document()` builds the dict on its first call
(GET /openapi.json and `make openapi`), so it never costs the prediction function's cold start.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from lead_ai.domain.versions import VERSION_PATTERN

TITLE = "lead_ai"
API_VERSION = "1.0.0"
MEDIA_JSON = "application/json"


class Parameter(NamedTuple):
    name: str
    where: str  # path or query
    schema: dict[str, Any]
    description: str
    required: bool = True
    example: Any = None


class Body(NamedTuple):
    """A request body: each media type with its schema (a component name or an inline schema)."""

    content: dict[str, str | dict[str, Any]]
    description: str


class Operation(NamedTuple):
    method: str  # GET, POST, PUT, DELETE
    path: str  # as in template.yaml: /series/{series_id}/forecast
    operation_id: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    success: tuple[int, str, str | dict[str, Any]]  # (status, media type, schema component or inline)
    errors: tuple[int, ...]  # statuses with the {"error", "message", "field"} body
    body: Body | None = None
    tag: str = "series"
    also: tuple[tuple[int, str], ...] = ()  # other success statuses with the same body: (status, when)


# ------------------------------------------------------------------------------------- parameters

SERIES_ID = Parameter(
    "series_id",
    "path",
    {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    "The series: 1-64 characters from A-Z, a-z, 0-9, '_' and '-'.",
    example="acme-inbound",
)
POOL_ID = Parameter(
    "pool_id",
    "path",
    {"type": "string", "pattern": "^pool:[0-9a-z]+:[A-Za-z0-9_.+-]{1,64}:[A-Za-z0-9-]{1,16}$"},
    "A pooled model's group: pool:<interval>:<time zone, '/' written '.'>:<holiday calendar> (GET "
    "/series/{series_id} names a young series' pool).",
    example="pool:1h:Europe.Berlin:DE-BY",
)
VERSION = Parameter(
    "version",
    "path",
    {"type": "string", "pattern": f"^{VERSION_PATTERN.pattern}$"},
    "A model version, MAJOR.MINOR.PATCH (see GET /series/{series_id}/models).",
    example="1.0.0",
)
HORIZON = Parameter(
    "horizon",
    "query",
    {"type": "integer", "minimum": 1, "maximum": 672},
    "Intervals to forecast after the latest observation: at most LEAD_AI_MAX_HORIZON (a duration, 7 days by "
    "default: 168 hours, 672 quarter hours) and the served model's horizon.",
    example=24,
)
RANGE_FROM = Parameter(
    "from",
    "query",
    {"type": "string", "format": "date-time"},
    "First moment of the range (inclusive); without an offset, in the series' time zone.",
    example="2026-11-24T09:00:00Z",
)
RANGE_TO = RANGE_FROM._replace(
    name="to",
    description="Last moment of the range (inclusive); without an offset, in the series' time zone.",
)
STAFFING_HORIZON = HORIZON._replace(
    required=False,
    description="Intervals to plan; default: as far as the served model forecasts (7 days by default).",
)


def _staffing_parameter(name: str, schema: dict[str, Any], description: str, example: Any) -> Parameter:
    return Parameter(name, "query", schema, description, required=False, example=example)


STAFFING_PARAMETERS = (
    STAFFING_HORIZON,
    _staffing_parameter(
        "handle_seconds",
        {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 86400, "default": 300},
        "Seconds a rep spends on one lead (talk + wrap-up).",
        300,
    ),
    _staffing_parameter(
        "answer_within_seconds",
        {"type": "number", "minimum": 0, "maximum": 86400, "default": 300},
        "The callback target: a lead counts as served in time if a rep picks it up within this.",
        300,
    ),
    _staffing_parameter(
        "service_level",
        {
            "type": "number",
            "exclusiveMinimum": True,
            "exclusiveMaximum": True,
            "minimum": 0,
            "maximum": 1,
            "default": 0.8,
        },
        "Share of leads to pick up within answer_within_seconds.",
        0.8,
    ),
    _staffing_parameter(
        "shrinkage",
        {"type": "number", "minimum": 0, "maximum": 0.95, "default": 0.3},
        "Share of paid time reps are not on the phones (breaks, meetings, training).",
        0.3,
    ),
    _staffing_parameter(
        "max_occupancy",
        {"type": "number", "minimum": 0.1, "maximum": 1, "default": 0.85},
        "The busiest share of their time reps may spend on leads.",
        0.85,
    ),
    _staffing_parameter(
        "quantile",
        {"type": "number", "minimum": 0.05, "maximum": 0.95, "default": 0.5},
        "The forecast quantile to plan for: 0.5 the point forecast, 0.9 a busy interval.",
        0.5,
    ),
    _staffing_parameter(
        "open_hours",
        {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$"},
        "When reps answer leads, on the series' clock (HH:MM-HH:MM, the close excluded, 24:00 for midnight, on "
        "the series' grid); default: the series' own (PUT /series/{series_id}), open all day if it has none. "
        "A closed interval gets no reps; its leads wait for the next open one.",
        "08:00-18:00",
    ),
    _staffing_parameter(
        "open_days",
        {"type": "string"},
        "The days the opening hours apply, on the series' clock: days (mon … sun) or ranges, comma separated; "
        "default: the series' own, every day if it has none.",
        "mon-fri",
    ),
)
LEVEL = Parameter(
    "level",
    "query",
    {"type": "number", "minimum": 0.5, "maximum": 0.99, "default": 0.8},
    "Central prediction-interval level: lower and upper are its quantiles (0.8: the 10% and 90% ones).",
    required=False,
    example=0.8,
)

LIMIT = Parameter(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    "Items per page.",
    required=False,
    example=50,
)
NEXT_TOKEN = Parameter(
    "next_token",
    "query",
    {"type": "string", "maxLength": 512},
    "The `next_token` of the previous page (opaque); absent for the first page.",
    required=False,
)

# --------------------------------------------------------------------------------------- routes
# One entry per route. Keep them in the order of the README's route table.

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/series/{series_id}/observations",
        "postObservations",
        "Store observations",
        "Store observations of a series, as JSON or CSV. Sending a slot again replaces it (a retry never "
        "double counts). The first ingest fixes the series' interval. Bad input is refused whole: nothing "
        "is stored.",
        (SERIES_ID,),
        (200, MEDIA_JSON, "IngestResult"),
        (400, 409, 413, 415),
        Body(
            {MEDIA_JSON: "ObservationsRequest", "text/csv": "ObservationsCsv"},
            "Observations on the series' grid; at most 10,000 and 1 MiB per request.",
        ),
    ),
    Operation(
        "POST",
        "/series/{series_id}/train",
        "postTrain",
        "Train a model now",
        "Fit, export to ONNX, verify and register a new version; it becomes current only if it beats the "
        "current one in the backtest. Needs LEAD_AI_MIN_TRAINING_POINTS observations (1000 by default).",
        (SERIES_ID,),
        (201, MEDIA_JSON, "ModelVersion"),
        (400, 404, 409, 422),
        also=((200, "Unchanged history and settings: the current version, `trained: false`"),),
    ),
    Operation(
        "GET",
        "/series/{series_id}/forecast",
        "getForecast",
        "Forecast the next intervals",
        "The next `horizon` intervals after the latest observation, from the current model, with a "
        "calibrated interval. Observations ingested after training are used without retraining.",
        (SERIES_ID, HORIZON, LEVEL),
        (200, MEDIA_JSON, "Forecast"),
        (400, 404),
    ),
    Operation(
        "GET",
        "/series/{series_id}/models",
        "getModels",
        "List model versions",
        "Every version of the series, newest first, with its backtest metrics, artifact and status, a page "
        "at a time.",
        (SERIES_ID, LIMIT, NEXT_TOKEN),
        (200, MEDIA_JSON, "ModelList"),
        (400, 404),
    ),
    Operation(
        "GET",
        "/pools/{pool_id}/models",
        "getPoolModels",
        "List a pooled model's versions",
        "Every version of the pooled model of one group (interval, time zone, holiday calendar), newest "
        "first, with its held-out metrics and status, a page at a time. The daily run trains it; it "
        "answers the group's series that have 14 days of history and no model of their own.",
        (POOL_ID, LIMIT, NEXT_TOKEN),
        (200, MEDIA_JSON, "PoolModelList"),
        (400, 404),
    ),
    Operation(
        "POST",
        "/series/{series_id}/models/{version}/promote",
        "postPromote",
        "Make a version current",
        "Make a verified (or rejected) version the one forecasts use, e.g. a rollback. Atomic against "
        "a concurrent training.",
        (SERIES_ID, VERSION),
        (200, MEDIA_JSON, "ModelVersion"),
        (400, 404, 409),
    ),
    Operation(
        "POST",
        "/pools/{pool_id}/models/{version}/promote",
        "postPoolPromote",
        "Make a pooled model's version current",
        "Make a verified (or rejected) version of a group's pooled model the one that answers the group's "
        "young series, e.g. a rollback. Atomic against a concurrent training.",
        (POOL_ID, VERSION),
        (200, MEDIA_JSON, "ModelVersion"),
        (400, 404, 409),
    ),
    Operation(
        "GET",
        "/series",
        "getSeriesList",
        "List the series",
        "Every series, ordered by id, a page at a time: interval, span, current version, last training, "
        "whether training is due and the last failed training.",
        (LIMIT, NEXT_TOKEN),
        (200, MEDIA_JSON, "SeriesList"),
        (400,),
    ),
    Operation(
        "PUT",
        "/series/{series_id}",
        "putSeries",
        "Set a series' interval, time zone, holiday calendar and opening hours",
        "Creates the series or changes its settings. Changing the interval of a series with history is a "
        "409; a new time zone or calendar makes the series due for training (its model's local day moved); "
        "opening hours only change its staffing plans.",
        (SERIES_ID,),
        (200, MEDIA_JSON, "Series"),
        (400, 409, 413, 415),
        Body(
            {MEDIA_JSON: "SeriesSettingsRequest"},
            "One or more of interval, timezone, holidays, open_hours, open_days.",
        ),
    ),
    Operation(
        "GET",
        "/series/{series_id}",
        "getSeries",
        "A series' settings, span and current model",
        "Its interval, time zone, holiday calendar and opening hours, the span of its observations, its "
        "current model "
        "(and what that model was trained with) and whether training is due.",
        (SERIES_ID,),
        (200, MEDIA_JSON, "Series"),
        (400, 404),
    ),
    Operation(
        "GET",
        "/series/{series_id}/staffing",
        "getSeriesStaffing",
        "Reps to staff per interval",
        "The served forecast turned into reps per interval through Erlang C, in the series' local time, "
        "with agent hours per local day. Staffing needs an interval of at most 1h: for a daily (`1d`) "
        "series it is a 400 naming `interval` (its forecast per day is at /series/{series_id}/forecast).",
        (SERIES_ID, *STAFFING_PARAMETERS),
        (200, MEDIA_JSON, "Staffing"),
        (400, 404),
    ),
    Operation(
        "DELETE",
        "/series/{series_id}/observations",
        "deleteSeriesObservations",
        "Delete a range of observations",
        "Remove every observation from `from` to `to` (both inclusive), e.g. to fix bad data; the series "
        "becomes due for training. A range spanning many weeks is deleted in steps; if one fails, "
        "repeating the request finishes the job.",
        (SERIES_ID, RANGE_FROM, RANGE_TO),
        (200, MEDIA_JSON, "RangeDeletion"),
        (400, 404, 409),
    ),
    Operation(
        "DELETE",
        "/series/{series_id}",
        "deleteSeries",
        "Delete a series",
        "Remove the series, its observations, every model version and every stored model object. "
        "If it fails half-way (503), repeating the request finishes the job.",
        (SERIES_ID,),
        (200, MEDIA_JSON, "SeriesDeletion"),
        (400, 404),
    ),
    Operation(
        "GET",
        "/series/{series_id}/dashboard",
        "getDashboard",
        "The forecast page",
        "A self-contained HTML page: the last two weeks of observations, the forecast with its interval "
        "band, the staffing plan (none for a daily series), the model version and its backtest figures. "
        "No script, font or stylesheet is loaded from anywhere (Content-Security-Policy: default-src 'none').",
        (SERIES_ID,),
        (200, "text/html", {"type": "string"}),
        (400, 404),
        tag="pages",
    ),
    Operation(
        "GET",
        "/openapi.json",
        "getOpenApi",
        "This document",
        "The OpenAPI 3.0 description of every route.",
        (),
        (200, MEDIA_JSON, {"type": "object"}),
        (),
        tag="meta",
    ),
)

ALWAYS = (500, 503)  # any route: a bug or a dependency failure; 503 says when to retry

STATUS_TEXT = {
    400: "The request breaks a rule; `field` names the part that does.",
    403: "API Gateway: no or a wrong x-api-key (`Forbidden`), or no such route (`Missing Authentication Token`).",
    404: "No such series, model or version.",
    409: "A conflict: another interval than the series', or the current model moved meanwhile.",
    413: "The body is over the size limit.",
    415: "Content-Type is not one the route takes.",
    422: "Too little history to train on.",
    500: "An internal error (the logs have the details).",
    503: "A dependency (S3, DynamoDB) failed and nothing usable is cached: retry after Retry-After seconds.",
}

# -------------------------------------------------------------------------------------- schemas

_ISO = {"type": "string", "format": "date-time", "example": "2026-11-24T09:00:00Z"}
_INTERVAL = {"type": "string", "enum": ["15min", "30min", "1h", "1d"], "example": "1h"}
_NULLABLE_ISO = {"type": "string", "format": "date-time", "nullable": True}
# A 1d series' slot is a local date: stored, and given, as that date at 00:00Z (not the local midnight).
_SPAN_TIME = {**_ISO, "description": "UTC; a 1d series' slot is its local date, given as that date at 00:00Z"}
_SPAN_FIELDS = {"first": _SPAN_TIME, "last": _SPAN_TIME, "observations": {"type": "integer"}}
_NULLABLE_INT = {"type": "integer", "nullable": True}


def _object(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **extra}


# Which model answered a forecast or a staffing plan (the series' own, or its group's pool)
_SCOPE: dict[str, Any] = {
    "model_scope": {
        "type": "string",
        "enum": ["series", "pool"],
        "description": "Which model answered: the series' own, or the pooled model of its group "
        "(interval, time zone, holiday calendar), which forecasts a series with 14 days of history "
        "until a model of its own beats it",
    },
    "pool_id": {
        "type": "string",
        "example": "pool:1h:America.New_York:US",
        "description": "Set when model_scope is pool: the pooled model; model_version is its version",
    },
    "pool_fit": {
        "type": "object",
        "description": "Set when model_scope is pool: how the pooled model is served to this series, chosen "
        "on a backtest on the series' own last days (daily origins with a week of history before them)",
        "properties": {
            "origins": {"type": "integer", "description": "Own-history origins judged (0: too young)"},
            "weight_naive": {
                "type": "object",
                "description": "The seasonal naive's share in the served forecast, for the first day of "
                "steps and for the rest",
                "properties": {"first_day": {"type": "number"}, "later": {"type": "number"}},
            },
            "interval_scale": {
                "type": "object",
                "description": "Factor on the pool's interval widths, first day and later, on top of "
                "each local hour's own factor (how large the series' own errors are at that hour)",
                "properties": {"first_day": {"type": "number"}, "later": {"type": "number"}},
            },
            "backtest_mae": {
                "type": "object",
                "description": "Mean absolute errors on those windows, in leads per interval",
                "properties": {
                    "pool": {"type": "number", "nullable": True},
                    "seasonal_naive": {"type": "number", "nullable": True},
                    "served": {"type": "number", "nullable": True},
                },
            },
        },
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _object(
        ["error", "message"],
        {
            "error": {
                "type": "string",
                "description": "A stable code, e.g. invalid_request",
                "example": "invalid_request",
            },
            "message": {"type": "string", "description": "What is wrong, in words"},
            "field": {
                "type": "string",
                "description": "The part of the request at fault",
                "example": "horizon",
            },
        },
    ),
    "GatewayError": _object(["message"], {"message": {"type": "string", "example": "Forbidden"}}),
    "Observation": _object(
        ["timestamp", "value"],
        {
            "timestamp": {**_ISO, "description": "ISO 8601; without an offset it is read as UTC"},
            "value": {"type": "number", "minimum": 0, "maximum": 1e12, "example": 14},
        },
        additionalProperties=False,
    ),
    "ObservationsRequest": _object(
        ["observations"],
        {
            "observations": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Observation"},
                "minItems": 1,
                "maxItems": 10000,
            },
            "interval": {**_INTERVAL, "description": "The series' interval; only its first ingest sets it"},
        },
        additionalProperties=False,
    ),
    "ObservationsCsv": {
        "type": "string",
        "description": "A header `timestamp,value`, then one observation per line (a UTF-8 BOM is fine).",
        "example": "timestamp,value\n2026-11-24T09:00:00Z,14\n2026-11-24T10:00:00Z,9\n",
    },
    "IngestResult": _object(
        ["series_id", "accepted", "interval", "span", "revision"],
        {
            "series_id": {"type": "string"},
            "accepted": {"type": "integer", "description": "Observations stored by this request"},
            "interval": {"type": "string"},
            "span": _object(
                ["first", "last", "observations"],
                _SPAN_FIELDS,
            ),
            "revision": {"type": "integer", "description": "Grows with every ingest of the series"},
        },
    ),
    "ModelVersion": _object(
        [
            "series_id",
            "version",
            "status",
            "created_at",
            "metrics",
            "feature_spec",
            "library_versions",
            "training",
            "current",
        ],
        {
            "series_id": {"type": "string"},
            "version": {"type": "string", "example": "1.0.0"},
            "status": {"type": "string", "enum": ["pending", "verified", "rejected", "failed", "pruning"]},
            "created_at": _ISO,
            "metrics": {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "description": "Backtest figures: mase, baseline_mase (seasonal naive), coverage, …",
            },
            "feature_spec": {"type": "object"},
            "library_versions": {"type": "object", "additionalProperties": {"type": "string"}},
            "training": _object(
                ["start", "end", "points", "history_revision"],
                {
                    "start": _NULLABLE_ISO,
                    "end": _NULLABLE_ISO,
                    "points": _NULLABLE_INT,
                    "history_revision": _NULLABLE_INT,
                },
            ),
            "artifact": _object(
                ["s3_key", "s3_version_id", "sha256", "size_bytes"],
                {
                    "s3_key": {"type": "string"},
                    "s3_version_id": {"type": "string", "nullable": True},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "size_bytes": {"type": "integer"},
                },
            ),
            "reason": {"type": "string"},
            "promoted_at": _ISO,
            "current": {"type": "boolean"},
            "trained": {
                "type": "boolean",
                "description": "POST train: false when nothing changed since the current version",
            },
        },
    ),
    "ModelList": _object(
        ["series_id", "current_version", "versions"],
        {
            "series_id": {"type": "string"},
            "current_version": {"type": "string", "nullable": True},
            "versions": {"type": "array", "items": {"$ref": "#/components/schemas/ModelVersion"}},
            "next_token": {"type": "string", "nullable": True},
        },
    ),
    "PoolModelList": _object(
        ["pool_id", "current_version", "versions"],
        {
            "pool_id": {"type": "string"},
            "current_version": {"type": "string", "nullable": True},
            "versions": {"type": "array", "items": {"$ref": "#/components/schemas/ModelVersion"}},
            "next_token": {"type": "string", "nullable": True},
        },
    ),
    "ForecastPoint": _object(
        ["timestamp", "value", "lower", "upper"],
        {
            "timestamp": _ISO,
            "value": {"type": "number"},
            "lower": {"type": "number"},
            "upper": {"type": "number"},
        },
    ),
    "SeriesSummary": _object(
        [
            "series_id",
            "interval",
            "span",
            "revision",
            "current_version",
            "model_scope",
            "last_training",
            "due",
        ],
        {
            "series_id": {"type": "string"},
            "interval": {"type": "string"},
            "span": _object(
                ["first", "last", "observations"],
                _SPAN_FIELDS,
                nullable=True,
            ),
            "revision": {"type": "integer"},
            "current_version": {
                "type": "string",
                "nullable": True,
                "description": "Version of the model that answers it: its own, or its group's pool (model_scope)",
            },
            "model_scope": {
                "type": "string",
                "enum": ["series", "pool", None],  # OpenAPI 3.0: a nullable enum lists null itself
                "nullable": True,
                "description": "null: nothing answers it yet",
            },
            "pool_id": {"type": "string", "description": "The pool that answers it (model_scope pool only)"},
            "last_training": _object(
                ["at", "revision"], {"at": _NULLABLE_ISO, "revision": {"type": "integer"}}, nullable=True
            ),
            "due": {"type": "boolean", "description": "Its history changed since its last training"},
            "last_failure": {"type": "object", "nullable": True},
        },
    ),
    "SeriesList": _object(
        ["series", "next_token"],
        {
            "series": {"type": "array", "items": {"$ref": "#/components/schemas/SeriesSummary"}},
            "next_token": {"type": "string", "nullable": True},
        },
    ),
    "RangeDeletion": _object(
        ["series_id", "removed", "span", "revision"],
        {
            "series_id": {"type": "string"},
            "removed": {"type": "integer", "description": "Observations removed"},
            "span": _object(
                ["first", "last", "observations"],
                _SPAN_FIELDS,
                nullable=True,
            ),
            "revision": {"type": "integer"},
        },
    ),
    "SeriesDeletion": _object(
        ["series_id", "deleted"],
        {
            "series_id": {"type": "string"},
            "deleted": _object(
                ["observation_chunks", "model_versions", "artifact_objects"],
                {
                    "observation_chunks": {"type": "integer"},
                    "model_versions": {"type": "integer"},
                    "artifact_objects": {"type": "integer"},
                },
            ),
        },
    ),
    "DailyTotal": _object(
        ["date", "value", "lower", "upper"],
        {
            "date": {"type": "string", "format": "date", "description": "A local calendar day"},
            "value": {
                "type": "number",
                "description": "The day's expected leads: the sum of its intervals, moved by the backtest's "
                "median daily error per unit of the day's usual volume (not the sum of hourly medians, "
                "which is 0 on a sparse series)",
            },
            "lower": {
                "type": "number",
                "description": "The day's interval at `level`, from the backtest's daily errors, as wide as "
                "the root of the day's usual volume says (a quiet day's narrower than a busy one's)",
            },
            "upper": {"type": "number"},
        },
    ),
    "SeriesSettingsRequest": {
        "type": "object",
        "properties": {
            "interval": _INTERVAL,
            "timezone": {"type": "string", "description": "An IANA zone", "example": "America/New_York"},
            "holidays": {
                "type": "string",
                "description": "ISO country code, optionally with a subdivision, or none",
                "example": "DE-BY",
            },
            "open_hours": {
                "type": "string",
                "description": "When reps answer leads, on the series' clock: the staffing plan's default "
                "open_hours (HH:MM-HH:MM, on the series' grid)",
                "example": "08:00-18:00",
            },
            "open_days": {
                "type": "string",
                "description": "The days the opening hours apply: the staffing plan's default open_days",
                "example": "mon-fri",
            },
        },
        "additionalProperties": False,
        "minProperties": 1,
    },
    "Series": _object(
        [
            "series_id",
            "interval",
            "timezone",
            "holidays",
            "open_hours",
            "open_days",
            "span",
            "revision",
            "training_due",
            "current_model",
        ],
        {
            "series_id": {"type": "string"},
            "interval": {"type": "string"},
            "timezone": {"type": "string"},
            "holidays": {"type": "string"},
            "open_hours": {"type": "string", "example": "08:00-18:00"},
            "open_days": {"type": "string", "example": "mon,tue,wed,thu,fri"},
            "span": _object(
                ["first", "last", "observations"],
                _SPAN_FIELDS,
                nullable=True,
            ),
            "revision": {"type": "integer"},
            "trained_revision": _NULLABLE_INT,
            "training_due": {"type": "boolean"},
            "current_model": {
                "type": "object",
                "nullable": True,
                "description": "The model that answers this series' forecasts: its own (model_scope series), "
                "or its group's pooled model (model_scope pool, pool_id) while it is too young for one; "
                "null while nothing can forecast it",
                "properties": {
                    "version": {"type": "string"},
                    "status": {"type": "string"},
                    "promoted_at": {"type": "string", "nullable": True},
                    "interval": {"type": "string", "description": "What the served model was trained with"},
                    "timezone": {
                        "type": "string",
                        "description": "The zone the served model was trained in: its forecasts follow it until "
                        "the series is retrained",
                    },
                    "holidays": {
                        "type": "string",
                        "description": "The calendar the served model was trained with",
                    },
                    "max_horizon": {"type": "integer", "nullable": True},
                    "model_scope": {"type": "string", "enum": ["series", "pool"]},
                    "pool_id": {"type": "string"},
                },
            },
        },
    ),
    "StaffingInterval": _object(
        [
            "timestamp",
            "leads",
            "leads_planned",
            "open",
            "leads_carried_in",
            "agents",
            "service_level",
            "occupancy",
        ],
        {
            "timestamp": _ISO,
            "leads": {"type": "number", "description": "The point forecast"},
            "leads_planned": {"type": "number", "description": "The forecast at the planned quantile"},
            "open": {"type": "boolean", "description": "Whether reps answer leads in this interval"},
            "leads_carried_in": {
                "type": "number",
                "description": "Expected leads (the point forecast) of the closed intervals just before "
                "this open one, planned here on top of its own",
            },
            "agents": {"type": "integer", "description": "Reps to schedule (shrinkage included)"},
            "service_level": {"type": "number", "description": "What the reps on the phones achieve"},
            "occupancy": {"type": "number"},
        },
    ),
    "Staffing": _object(
        ["series_id", "model_version", "model_scope", "interval", "timezone", "assumptions", "plan", "daily"],
        {
            "series_id": {"type": "string"},
            "model_version": {"type": "string"},
            **_SCOPE,
            "interval": {"type": "string"},
            "timezone": {"type": "string"},
            "origin": _ISO,
            "assumptions": {"type": "object"},
            "plan": {"type": "array", "items": {"$ref": "#/components/schemas/StaffingInterval"}},
            "daily": {
                "type": "array",
                "items": _object(
                    ["date", "leads", "agent_hours"],
                    {
                        "date": {"type": "string"},
                        "leads": {
                            "type": "number",
                            "description": "The sum of the day's planned intervals' leads (what is staffed); "
                            "the forecast's daily value is the day's expected total",
                        },
                        "agent_hours": {"type": "number"},
                    },
                ),
            },
            "leads_after_closing": {
                "type": "number",
                "description": "Expected leads of the closed intervals that end the plan: no interval of it "
                "answers them",
            },
            "fallback_from_version": {"type": "string"},
        },
    ),
    "Forecast": _object(
        ["series_id", "model_version", "model_scope", "interval", "origin", "level", "forecast"],
        {
            "series_id": {"type": "string"},
            "model_version": {"type": "string"},
            **_SCOPE,
            "interval": {"type": "string"},
            "origin": {
                **_ISO,
                "description": "The latest observation; the forecast starts one interval later",
            },
            "level": {"type": "number"},
            "forecast": {"type": "array", "items": {"$ref": "#/components/schemas/ForecastPoint"}},
            "timezone": {"type": "string", "example": "America/New_York"},
            "daily": {"type": "array", "items": {"$ref": "#/components/schemas/DailyTotal"}},
            "fallback_from_version": {
                "type": "string",
                "description": "Set when the current version could not be served and an older one answered",
            },
        },
    ),
}

# ------------------------------------------------------------------------------------- building


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole OpenAPI document (built once per container, on the first call)."""
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": TITLE,
            "version": API_VERSION,
            "description": "Hourly sales-lead forecasts: ingest observations, train, forecast, roll back. "
            "Every route needs the API key in the x-api-key header.",
        },
        "servers": [
            {
                "url": "https://{restApiId}.execute-api.{region}.amazonaws.com/v1",
                "description": "A deployed stack (its output ApiUrl)",
                "variables": {"restApiId": {"default": "abcdef1234"}, "region": {"default": "us-east-1"}},
            },
            {"url": "http://127.0.0.1:3000", "description": "`lead-ai serve` / `make serve`"},
        ],
        "security": [{"api_key": []}],
        "tags": [
            {"name": "series", "description": "Observations, models and forecasts of a series"},
            {"name": "pages", "description": "Pages for people"},
            {"name": "meta", "description": "About the API"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {"api_key": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
            "schemas": SCHEMAS,
        },
    }


def _schema(schema: str | dict[str, Any]) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema


def _operation(operation: Operation) -> dict[str, Any]:
    status, media_type, schema = operation.success
    responses: dict[str, Any] = {
        str(status): {"description": "Success", "content": {media_type: {"schema": _schema(schema)}}},
        **{
            str(code): {"description": when, "content": {media_type: {"schema": _schema(schema)}}}
            for code, when in operation.also
        },
        "403": {
            "description": STATUS_TEXT[403],
            "content": {MEDIA_JSON: {"schema": _schema("GatewayError")}},
        },
    }
    for code in sorted({*operation.errors, *ALWAYS}):
        responses[str(code)] = {
            "description": STATUS_TEXT[code],
            "content": {MEDIA_JSON: {"schema": _schema("Error")}},
        }
    responses["503"]["headers"] = {
        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
    }
    out: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": operation.description,
        "tags": [operation.tag],
        "parameters": [_parameter(p) for p in operation.parameters],
        "responses": responses,
    }
    if operation.body is not None:
        out["requestBody"] = {
            "required": True,
            "description": operation.body.description,
            "content": {media: {"schema": _schema(s)} for media, s in operation.body.content.items()},
        }
    return out


def _parameter(parameter: Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": parameter.name,
        "in": parameter.where,
        "required": parameter.required or parameter.where == "path",
        "description": parameter.description,
        "schema": parameter.schema,
    }
    if parameter.example is not None:
        out["example"] = parameter.example
    return out
