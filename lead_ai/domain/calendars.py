"""The holiday calendar of a market, as a setting: "none", a country ("US", "GB") or a country and one of
its subdivisions ("DE-BY", "US-CA"), ISO 3166 codes as the `holidays` library knows them.

The API checks a code against `calendar_codes` (the library's table, generated), so a typo is a 400 at
`PUT /series/{id}` and the API never imports the library; the dates themselves are computed at training
(forecasting.training.calendars) and carried in the model.
"""

from __future__ import annotations

import re

from lead_ai.domain.calendar_codes import HOLIDAYS_VERSION, SUBDIVISIONS

NO_CALENDAR = "none"
_CODE = re.compile(r"([A-Za-z]{2})(?:-([A-Za-z0-9]{1,3}))?")


def parse_calendar(code: object) -> str:
    """The canonical code ("none", "US", "DE-BY"): upper case, a known country and subdivision; ValueError
    naming the rule otherwise."""
    if isinstance(code, str) and code.strip().lower() == NO_CALENDAR:
        return NO_CALENDAR
    match = _CODE.fullmatch(code.strip()) if isinstance(code, str) else None
    if match is None:
        raise ValueError(
            "holidays must be 'none', an ISO 3166 country code such as 'US' or 'GB', or a country and "
            f"subdivision such as 'DE-BY', got {code!r:.40}"
        )
    country, subdivision = match.group(1).upper(), (match.group(2) or "").upper()
    if country not in SUBDIVISIONS:
        raise ValueError(
            f"holidays: no holiday calendar for country {country!r} (holidays {HOLIDAYS_VERSION})"
        )
    if subdivision and subdivision not in SUBDIVISIONS[country].split():
        known = SUBDIVISIONS[country] or "none"
        raise ValueError(f"holidays: {country} has no subdivision {subdivision!r} (known: {known:.200})")
    return f"{country}-{subdivision}" if subdivision else country


def split_calendar(code: str) -> tuple[str, str | None]:
    """("DE", "BY") for "DE-BY", ("US", None) for "US"."""
    country, _, subdivision = code.partition("-")
    return country, subdivision or None
