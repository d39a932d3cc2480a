"""Holiday calendar codes (lead_ai.domain.calendars): what the API accepts, without the holidays library."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lead_ai.domain.calendar_codes import HOLIDAYS_VERSION
from lead_ai.domain.calendars import parse_calendar
from lead_ai_dev.calendar_codes import TARGET, module_text
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("code", "canonical"),
    [("none", "none"), ("None", "none"), ("US", "US"), ("us", "US"), ("DE-BY", "DE-BY"), ("de-by", "DE-BY"),
     ("GB", "GB"), ("GB-SCT", "GB-SCT"), ("US-CA", "US-CA"), (" FR ", "FR")],
)  # fmt: skip
def test_known_codes_are_accepted_in_canonical_form(code: str, canonical: str) -> None:
    assert parse_calendar(code) == canonical


@pytest.mark.parametrize(
    "code", ["", "XX", "USA", "DE-ZZ", "DE-", "Bavaria", "DE-Augsburg", "US CA", "U", 1, None, "none-US"]
)
def test_unknown_or_malformed_codes_are_refused_naming_holidays(code: object) -> None:
    with pytest.raises(ValueError, match="holidays"):
        parse_calendar(code)


def test_the_code_table_is_the_installed_librarys() -> None:
    # Given the generated table in lead_ai/domain and the holidays library pinned for training
    import holidays

    # Then they agree (after upgrading holidays: python -m lead_ai_dev.calendar_codes)
    assert holidays.__version__ == HOLIDAYS_VERSION
    assert TARGET.read_text(encoding="utf-8") == module_text()


def test_checking_a_code_does_not_import_the_holidays_library() -> None:
    # Given a fresh interpreter, When the API's check runs, Then `holidays` stays unimported
    code = (
        "import sys; from lead_ai.domain.calendars import parse_calendar; parse_calendar('DE-BY'); "
        "print('holidays' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
