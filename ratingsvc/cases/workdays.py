"""Working days of mainland China, and the deadlines counted in them.

Holidays and adjusted working days (调休, e.g. a Saturday worked before National Day) come
from chinesecalendar, which knows the years the State Council has published. For a year it
does not know yet, Monday to Friday are working days, unless CASE_CALENDAR_FILE names a file
of lines "YYYY-MM-DD holiday" or "YYYY-MM-DD workday" (the next year's notice, typed in before
the package has it); such a line also overrides chinesecalendar.

A deadline of N working days from a moment is the end (23:59:59.999 local) of the N-th working
day after that moment's calendar day: a 差评 on Friday afternoon with 1 working day to verify is
due by the end of Monday; one on the day before National Day, by the end of the first working
day after it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar

from ..timeutil import zone

KINDS = ("holiday", "workday")


class CalendarError(ValueError):
    """CASE_CALENDAR_FILE cannot be read; the message names the line."""


def read_overrides(path: str) -> dict[date, bool]:
    """day -> is a working day, from a CASE_CALENDAR_FILE ("" : none)."""
    if not path:
        return {}
    out: dict[date, bool] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CalendarError(f"CASE_CALENDAR_FILE {path}: {exc.strerror}") from exc
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            day = None
        if day is None or len(parts) != 2 or parts[1] not in KINDS:
            raise CalendarError(f"CASE_CALENDAR_FILE {path}, line {number}: expected "
                                f"'YYYY-MM-DD holiday' or 'YYYY-MM-DD workday', got {line!r}")
        out[day] = parts[1] == "workday"
    return out


class Calendar:
    """Which days are working days; one per app (its overrides read once)."""

    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.is_workday = lru_cache(maxsize=4096)(self._is_workday)
        self._due = lru_cache(maxsize=1024)(self._end_of)  # by day: every tap of a day shares it

    def _is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the package has no notice for yet
            return day.weekday() < 5

    def known(self, year: int) -> bool:
        """Whether holidays of this year are known (from the package or the overrides)."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return any(d.year == year for d in self.overrides)

    def add(self, day: date, n: int) -> date:
        """The n-th working day after day (n >= 1)."""
        while n > 0:
            day += timedelta(days=1)
            n -= self.is_workday(day)
        return day

    def between(self, first: date, last: date) -> int:
        """Working days after first up to and including last (0 if last <= first)."""
        n, day = 0, first
        while day < last:
            day += timedelta(days=1)
            n += self.is_workday(day)
        return n

    def due(self, now_ms: int, days: int, tz: str) -> int:
        """The deadline, in ms, of `days` working days from now_ms: the end of that day."""
        return self._due(datetime.fromtimestamp(now_ms / 1000, zone(tz)).date(), days, tz)

    def _end_of(self, start: date, days: int, tz: str) -> int:
        end = datetime.combine(self.add(start, days) + timedelta(days=1), time(), zone(tz))
        return int(end.timestamp() * 1000) - 1
