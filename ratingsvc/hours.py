"""A window's opening hours: {"days": [1..7], "open": ["08:30-12:00", ...]} (1 = Monday).

Stored compiled for the recording script as "<weekday digits>|<from>-<to>,..." in minutes
of the day, e.g. "12345|510-720,840-1050".
"""

from __future__ import annotations

import re

UNIT_HOURS = "u"  # the field of a unit's hours hash that holds its default (windows without their own)
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


DAYS_TEXT = re.compile(r"^([1-7])(?:-([1-7]))?$")


def parse_text(text: str) -> dict:
    """Opening hours as a table cell says them: "<days> <times>", e.g. "1-5 08:30-12:00,14:00-17:30"
    or "1,2,3,4,5,6 09:00-17:00" (1 = Monday; times also apart by ";" or "、"); ValueError if not."""
    days_part, sep, times = text.strip().partition(" ")
    if not sep:
        raise ValueError(f"{text!r}: expected days and times, e.g. 1-5 08:30-12:00,14:00-17:30")
    days: list[int] = []
    for part in days_part.replace("，", ",").split(","):
        m = DAYS_TEXT.match(part.strip())
        if not m:
            raise ValueError(f"{part!r}: days are 1 (Monday) to 7, e.g. 1-5")
        first, last = int(m[1]), int(m[2] or m[1])
        if last < first:
            raise ValueError(f"{part!r}: the days run backwards")
        days += range(first, last + 1)
    times = times.replace("，", ",").replace(";", ",").replace("；", ",").replace("、", ",")
    hours = {"days": sorted(set(days)), "open": [x.strip() for x in times.split(",") if x.strip()]}
    compile_hours(hours)  # checks the rest
    return hours


def text_of(spec: str | None) -> str:
    """A compiled spec as parse_text reads it ("" for none)."""
    hours = decompile_hours(spec)
    if not hours:
        return ""
    return ",".join(map(str, hours["days"])) + " " + ",".join(hours["open"])
