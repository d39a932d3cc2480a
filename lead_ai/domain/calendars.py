"""The holiday calendars a market can use (a setting; the dates themselves live in forecasting.calendar)."""

from __future__ import annotations

HOLIDAY_CALENDARS = ("none", "US")
