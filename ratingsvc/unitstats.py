"""What a window manager reads of their units: a page of the unit list, taps today per window,
a period's counts per window and per day. Reads only, each in one round trip (no Flask here).

Counts come from the unit's day hashes (rkeys "day:<D>": "1".."5", "h", "x", and the same per
window as "w<window>:<level>"), which the counting scripts keep in step with the totals and
snapshots that scoring reads: over a period they sum to the period's counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import redis

from . import rkeys
from .records import Unit
from .rkeys import UnitKeys
from .store import read_many
from .timeutil import day_key

LEVELS = ("1", "2", "3", "4", "5")
WEEKDAYS = "一二三四五六日"


@dataclass
class UnitRow:
    unit: Unit
    windows: int = 0
    taps_today: int = 0


@dataclass
class Counts:
    """Counted taps per level, held taps awaiting review (pending) and rejected ones."""

    levels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    pending: int = 0
    rejected: int = 0

    @property
    def n(self) -> int:
        return sum(self.levels.values())

    @property
    def raw(self) -> float | None:
        """Mean on the 10-point scale (1 -> 0, 5 -> 10), as scoring's raw."""
        n = self.n
        return sum((int(k) - 1) * 2.5 * v for k, v in self.levels.items()) / n if n else None

    def add(self, level: str, value: int) -> None:
        if level in self.levels:
            self.levels[level] += value
        elif level == "h":
            self.pending += value
        elif level == "x":
            self.rejected += value


def unit_ids(r: redis.Redis) -> list[str]:
    return sorted(r.smembers(rkeys.UNITS))


def unit_records(r: redis.Redis, ids: list[str]) -> list[Unit]:
    """The units of these ids that exist, in one round trip."""
    replies = read_many(r, [("HMGET", UnitKeys(u).info, "name", "category", "active") for u in ids])
    return [Unit(uid, name, category, active == "1")
            for uid, (name, category, active) in zip(ids, replies, strict=True) if name is not None]


def unit_rows(r: redis.Redis, units: list[Unit], today: date) -> list[UnitRow]:
    """Windows and counted taps today of each unit (a page of the list), in one round trip."""
    day = day_key(today)
    commands: list[tuple] = []
    for u in units:
        k = UnitKeys(u.id)
        commands += [("HLEN", k.wname), ("HMGET", k.day(day), *LEVELS)]
    replies = read_many(r, commands)
    return [UnitRow(u, int(replies[2 * i]), sum(int(v or 0) for v in replies[2 * i + 1]))
            for i, u in enumerate(units)]


def taps_today(r: redis.Redis, uid: str, today: date) -> dict[int, int]:
    """window id -> its counted taps today (fields "w<window>:<level>" of the day hash)."""
    out: dict[int, int] = defaultdict(int)
    for name, value in r.hgetall(UnitKeys(uid).day(day_key(today))).items():
        window, sep, level = name.partition(":")
        if sep and window.startswith("w") and level in LEVELS:
            out[int(window[1:])] += int(value)
    return dict(out)


def period_days(r: redis.Redis, uid: str, start: date, end: date) -> dict[str, dict[str, str]]:
    """Day (YYYYMMDD) -> its day hash, for the days of start..end that have counts."""
    keys = UnitKeys(uid)
    days = r.zrangebyscore(keys.days, int(day_key(start)), int(day_key(end)))
    replies = read_many(r, [("HGETALL", keys.day(d)) for d in days])
    return {d: dict(zip(h[::2], h[1::2], strict=True)) if isinstance(h, list) else h
            for d, h in zip(days, replies, strict=True)}


def per_window(days: dict[str, dict[str, str]]) -> dict[int, Counts]:
    """window id -> its counts over these days."""
    out: dict[int, Counts] = defaultdict(Counts)
    for fields in days.values():
        for name, value in fields.items():
            window, sep, level = name.partition(":")
            if sep and window.startswith("w"):
                out[int(window[1:])].add(level, int(value))
    return dict(out)


def trend(days: dict[str, dict[str, str]], start: date, end: date,
          by: str = "day") -> list[tuple[str, Counts]]:
    """(label, counts) for each day (or each week, from Monday) of start..end, quiet ones too,
    up to the last day with counts or end."""
    buckets: dict[str, Counts] = {}
    d = start
    while d <= end:
        label = (d - timedelta(days=d.weekday())).isoformat() if by == "week" else d.isoformat()
        buckets.setdefault(label, Counts())
        fields = days.get(day_key(d), {})
        for level in (*LEVELS, "h", "x"):
            buckets[label].add(level, int(fields.get(level, 0)))
        d += timedelta(days=1)
    return list(buckets.items())


def hours_text(hours: dict | None) -> str:
    """Opening hours in Chinese: "周一至周五 09:00-12:00、14:00-17:00"; None: always open."""
    if not hours:
        return "不限（全天）"
    days = sorted(set(hours["days"]))
    runs: list[list[int]] = []
    for d in days:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"周{WEEKDAYS[run[0] - 1]}至周{WEEKDAYS[run[-1] - 1]}")
        else:
            parts += [f"周{WEEKDAYS[d - 1]}" for d in run]
    return "、".join(parts) + " " + "、".join(hours["open"])


def without_hours(r: redis.Redis, ids: list[str]) -> tuple[int, list[str]]:
    """(windows that have no opening hours to go by: none of their own, no unit default, and no
    other window of their unit with hours, so the 'hours' signal is off for them; the first units
    that have such windows, at most 20). Active windows and inactive alike: two reads a unit, in
    one round trip a chunk of 1,000 units."""
    missing, units = 0, list[str]()
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        with r.pipeline(transaction=False) as p:
            for uid in chunk:
                keys = UnitKeys(uid)
                p.hkeys(keys.wname)
                p.hkeys(keys.hours)
            found = p.execute()
        for uid, names, hours in zip(chunk, found[::2], found[1::2], strict=True):
            if hours:  # the unit's default (hours.UNIT_HOURS), or its windows' hours, cover them
                continue
            lacking = len(names)
            if lacking:
                missing += lacking
                if len(units) < 20:
                    units.append(uid)
    return missing, units
