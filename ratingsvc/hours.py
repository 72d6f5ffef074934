"""A window's opening hours: {"days": [1..7], "open": ["08:30-12:00", ...]} (1 = Monday).

Stored compiled for the recording script as "<weekday digits>|<from>-<to>,..." in minutes
of the day, e.g. "12345|510-720,840-1050".
"""

from __future__ import annotations

import re

RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def compile_hours(hours: dict) -> str:
    days = sorted(set(hours["days"]))
    if not days or any(not isinstance(d, int) or not 1 <= d <= 7 for d in days):
        raise ValueError("days are weekdays 1 (Monday) to 7 (Sunday)")
    ranges = []
    for text in hours["open"]:
        m = RANGE.match(text)
        if not m:
            raise ValueError(f"{text!r}: expected HH:MM-HH:MM")
        start, end = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
        if end <= start:
            raise ValueError(f"{text!r}: ends before it starts")
        ranges.append(f"{start}-{end}")
    if not ranges:
        raise ValueError("give at least one opening time")
    return "".join(map(str, days)) + "|" + ",".join(ranges)


def decompile_hours(spec: str | None) -> dict | None:
    if not spec:
        return None
    days, ranges = spec.split("|")

    def hhmm(minutes: str) -> str:
        return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"

    return {"days": [int(d) for d in days],
            "open": [f"{hhmm(a)}-{hhmm(b)}" for a, b in (r.split("-") for r in ranges.split(","))]}
