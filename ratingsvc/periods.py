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
