"""The local calendar a model carries: its zone's clock changes and its market's holidays, over its training
span and FUTURE_YEARS beyond (training side: imports the `holidays` library, which serving never does).

Which holidays count (a documented rule, chosen on the validation split):
  * every public holiday the `holidays` library lists for the country, or the country and subdivision
    ("DE-BY": Bavaria's public holidays), with the days they are observed on;
  * except where a public holiday is a working day for most businesses. The one country this is known
    for is the US: of the federal holidays only New Year's Day, Memorial Day, Independence Day, Labor
    Day, Thanksgiving and Christmas count (MLK, Presidents', Columbus, Veterans Day and Juneteenth do
    not, nor state holidays). On the bike/taxi validation split all eleven federal holidays gave MASE
    h=24/168 0.754/0.873 (bike) and 0.502/0.666 (taxi), the six 0.706/0.753 and 0.426/0.650 (README).
Quiet days (working days most people take off) are December 24 and 26..31 in a country whose calendar has
Christmas Day, and in the US the Friday after Thanksgiving; a holiday is never also a quiet day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from lead_ai.domain.calendars import NO_CALENDAR, parse_calendar, split_calendar
from lead_ai.domain.localtime import UTC_ZONE, ClockTable, clock_table
from lead_ai.errors import CalendarNotSupportedError
from lead_ai.forecasting.calendar import HOLIDAY, QUIET_DAY, HolidayTable, epoch_day

# How far past the training data the carried calendar reaches. A model is retrained whenever its series
# gets new data (the daily schedule), so this only matters for a series that stops reporting: past it,
# every day is an ordinary day to the model and the clock keeps its last offset.
FUTURE_YEARS = 5

# Public holidays that are working days for most businesses, by country: only these named ones count.
_MAJOR_ONLY = {
    "US": (
        "New Year's Day",
        "Memorial Day",
        "Independence Day",
        "Labor Day",
        "Thanksgiving Day",
        "Christmas Day",
    )
}
_OBSERVED = " (observed)"


def holiday_table(code: str, first_ts: int, last_ts: int) -> HolidayTable | None:
    """The calendar's table from the year before `first_ts` to FUTURE_YEARS after `last_ts` (UTC epoch
    seconds); None for "none". CalendarNotSupportedError when the library does not know the code."""
    code = parse_calendar(code)
    if code == NO_CALENDAR:
        return None
    first_year = datetime.fromtimestamp(first_ts, UTC).year - 1
    last_year = datetime.fromtimestamp(last_ts, UTC).year + FUTURE_YEARS
    kinds: dict[int, int] = {}
    for day, name in _library_days(code, first_year - 1, last_year + 1):
        if _counts(code, name):
            kinds[epoch_day(day.isoformat())] = HOLIDAY
    for quiet in _quiet_days(code, kinds, first_year - 1, last_year + 1):
        kinds.setdefault(quiet, QUIET_DAY)
    return HolidayTable.of(
        code, epoch_day(f"{first_year:04d}-01-01"), epoch_day(f"{last_year:04d}-12-31"), kinds
    )


def local_clock(timezone: str, first_ts: int, last_ts: int) -> ClockTable | None:
    """The zone's offsets over the same span as the holiday table; None for UTC (every offset 0)."""
    if timezone == UTC_ZONE:
        return None
    since = int(datetime(datetime.fromtimestamp(first_ts, UTC).year - 1, 1, 1, tzinfo=UTC).timestamp())
    until = int(
        datetime(datetime.fromtimestamp(last_ts, UTC).year + FUTURE_YEARS, 12, 31, tzinfo=UTC).timestamp()
    )
    return clock_table(timezone, since, until)


def _library_days(code: str, first_year: int, last_year: int) -> list[tuple[date, str]]:
    import holidays

    country, subdivision = split_calendar(code)
    try:
        calendar = holidays.country_holidays(
            country,
            subdiv=subdivision,
            years=range(first_year, last_year + 1),
            language="en_US" if country in _MAJOR_ONLY else None,
        )
    except NotImplementedError as exc:  # the library's answer to an unknown country or subdivision
        raise CalendarNotSupportedError(
            f"holidays {holidays.__version__} has no calendar {code!r}: set a supported one with "
            "PUT /series/{series_id}",
            field="holidays",
        ) from exc
    return [(day, name) for day, names in calendar.items() for name in names.split("; ")]


def _counts(code: str, name: str) -> bool:
    major = _MAJOR_ONLY.get(split_calendar(code)[0])
    return major is None or name.removesuffix(_OBSERVED) in major


def _quiet_days(code: str, holidays_found: dict[int, int], first_year: int, last_year: int) -> list[int]:
    country = split_calendar(code)[0]
    quiet: list[int] = []
    for year in range(first_year, last_year + 1):
        christmas = epoch_day(f"{year:04d}-12-25")
        if christmas in holidays_found:
            quiet += [epoch_day(f"{year:04d}-12-24")] + [
                epoch_day(f"{year:04d}-12-{d}") for d in range(26, 32)
            ]
        if country == "US":
            quiet.append(epoch_day(_thanksgiving(year).isoformat()) + 1)
    return quiet


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)
