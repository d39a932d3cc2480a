"""The artifact's format: what a lead_ai ONNX model carries in its metadata_props besides the graph.

The graph maps feature rows (float32) to the scaled forecast y / level; the metadata holds the
FeatureSpec and the interval calibration, so the sha256 of the model bytes covers everything a prediction
depends on. numpy only: serving reads it, training writes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from lead_ai.domain.localtime import UTC_ZONE, ClockTable
from lead_ai.forecasting.calendar import HolidayTable
from lead_ai.forecasting.calibration import Calibration
from lead_ai.forecasting.feature_spec import FeatureSpec

FORMAT_KEY = "lead_ai.format"
FORMAT_VALUE = "lead_ai.direct_multi_horizon/1"
FEATURE_SPEC_KEY = "lead_ai.feature_spec"
CALIBRATION_KEY = "lead_ai.calibration"
TARGET_KEY = "lead_ai.target"
CLOCK_KEY = "lead_ai.local_clock"  # the series' zone: UTC offsets and their changes (absent for UTC)
HOLIDAYS_KEY = "lead_ai.holidays"  # the market's holidays and quiet days (absent without a calendar)


def metadata_props(spec: FeatureSpec, calibration: Calibration) -> dict[str, str]:
    """The metadata_props a model is exported with."""
    return {
        FORMAT_KEY: FORMAT_VALUE,
        FEATURE_SPEC_KEY: json.dumps(spec.to_dict(), sort_keys=True),
        CALIBRATION_KEY: json.dumps(calibration.to_dict()),
        TARGET_KEY: "y / level (mean |y| of the last season_week observations)",
        **({CLOCK_KEY: json.dumps(spec.clock.to_dict())} if spec.clock is not None else {}),
        **(
            {HOLIDAYS_KEY: json.dumps(spec.holiday_table.to_dict())} if spec.holiday_table is not None else {}
        ),
    }


def parse_metadata(meta: Mapping[str, str]) -> tuple[FeatureSpec, Calibration]:
    """FeatureSpec and Calibration from an ONNX model's metadata_props; ValueError if absent/invalid."""
    if meta.get(FORMAT_KEY) != FORMAT_VALUE:
        raise ValueError(f"not a lead_ai forecaster: metadata {FORMAT_KEY!r} is {meta.get(FORMAT_KEY)!r}")
    try:
        spec = FeatureSpec.from_dict(json.loads(meta[FEATURE_SPEC_KEY]))
        calibration = Calibration.from_dict(json.loads(meta[CALIBRATION_KEY]))
        clock = ClockTable.from_dict(json.loads(meta[CLOCK_KEY])) if CLOCK_KEY in meta else None
        holidays = HolidayTable.from_dict(json.loads(meta[HOLIDAYS_KEY])) if HOLIDAYS_KEY in meta else None
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"lead_ai model metadata is missing or invalid: {exc}") from exc
    if spec.timezone != UTC_ZONE and clock is None:
        raise ValueError(f"lead_ai model metadata: the {spec.timezone} clock ({CLOCK_KEY}) is missing")
    if spec.holidays != "none" and holidays is None:
        raise ValueError(f"lead_ai model metadata: the {spec.holidays} holidays ({HOLIDAYS_KEY}) are missing")
    return spec.with_calendar(clock, holidays), calibration
