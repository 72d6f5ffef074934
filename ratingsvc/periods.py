"""Evaluation periods: an id, a name, a first and a last day. Every score is for a period."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import redis

from . import rkeys
from .registry import RegistryError


@dataclass
class Period:
    id: str
    name: str
    start: date
    end: date

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "start": self.start.isoformat(),
                           "end": self.end.isoformat()}, ensure_ascii=False)


def _load(pid: str, raw: str) -> Period:
    d = json.loads(raw)
    return Period(pid, d["name"], date.fromisoformat(d["start"]), date.fromisoformat(d["end"]))


def create_period(r: redis.Redis, period: Period) -> Period:
    if period.end < period.start:
        raise ValueError("评议期的结束日期不能早于开始日期 (a period ends on or after its first day)")
    if not r.hsetnx(rkeys.PERIODS, period.id, period.to_json()):
        raise RegistryError("period", period.id, "existing")
    return period


class PeriodStarted(Exception):
    """A period that has started is not corrected: its scores already count its days."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.message = (f"评议期 {period.id} 已于 {period.start} 开始，不能再更正名称或日期"
                        "（已开始的评议期，得分已按其日期计算）。")
        self.message_en = f"Period {period.id} started on {period.start}; it can no longer be corrected."
        super().__init__(self.message)


def update_period(r: redis.Redis, period: Period, *, today: date) -> Period:
    """Correct a period's name and dates before it starts (today before its first day, in the
    office's time zone): PeriodStarted once it has; ValueError if it would end before it starts."""
    old = get_period(r, period.id)
    if old.start <= today:
        raise PeriodStarted(old)
    if period.end < period.start:
        raise ValueError("评议期的结束日期不能早于开始日期 (a period ends on or after its first day)")
    r.hset(rkeys.PERIODS, period.id, period.to_json())
    return period


def get_period(r: redis.Redis, pid: str) -> Period:
    raw = r.hget(rkeys.PERIODS, pid)
    if raw is None:
        raise RegistryError("period", pid)
    return _load(pid, raw)


def list_periods(r: redis.Redis) -> list[Period]:
    return sorted((_load(pid, raw) for pid, raw in r.hgetall(rkeys.PERIODS).items()),
                  key=lambda p: (p.start, p.id))


def current_period(r: redis.Redis, day: date) -> Period | None:
    """The period that contains day (of those, the one that started last), or None."""
    containing = [p for p in list_periods(r) if p.start <= day <= p.end]
    return containing[-1] if containing else None


def set_public(r: redis.Redis, pid: str, public: bool) -> bool:
    """Whether the public results page (/results/<id>) shows the period while it runs; a
    closed period's results are always shown there. Returns what it was."""
    get_period(r, pid)
    return bool(r.srem(rkeys.PUBLIC_PERIODS, pid) if not public else not r.sadd(rkeys.PUBLIC_PERIODS, pid))


def public_ids(r: redis.Redis) -> set[str]:
    """The running periods chosen to be shown (set_public)."""
    return set(r.smembers(rkeys.PUBLIC_PERIODS))


def is_public(r: redis.Redis, pid: str) -> bool:
    """Chosen to be shown while it runs (set_public)."""
    return bool(r.sismember(rkeys.PUBLIC_PERIODS, pid))
