"""Danish time: contact hours, closing dates, schedules and reports all count in it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

DANISH_TIMEZONE = "Europe/Copenhagen"
DANISH_TIME = ZoneInfo(DANISH_TIMEZONE)
