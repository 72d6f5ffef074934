"""Calendar days in the configured time zone. Time is always passed in, never read here."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(ts: float, tz: str) -> str:
    """The calendar day of a Unix time as YYYYMMDD in zone tz."""
    return datetime.fromtimestamp(ts, zone(tz)).strftime("%Y%m%d")


def day_key(d: date) -> str:
    return d.strftime("%Y%m%d")


def day_after(d: date) -> str:
    return day_key(d + timedelta(days=1))


def iso_day(key: str) -> str:
    """A YYYYMMDD day key as the ISO date answers and files carry, e.g. 2026-11-23."""
    return f"{key[:4]}-{key[4:6]}-{key[6:8]}"


def iso_time(ms: int | float, tz: str) -> str:
    """The one form of a point in time in every answer and file: ISO 8601 to the second, in
    zone tz with its offset, e.g. 2026-11-23T09:30:05+08:00."""
    return datetime.fromtimestamp(ms / 1000, zone(tz)).isoformat(timespec="seconds")
