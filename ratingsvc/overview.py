"""What the evaluation office's dashboard counts that the score table does not: today's taps
over every unit, in one round trip for a city. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from . import rkeys
from .rkeys import UnitKeys
from .store import read_many

LEVELS = ("1", "2", "3", "4", "5")


@dataclass
class Today:
    counted: int  # counted taps of the day, every unit
    units: int  # units in the registry
    units_tapped: int  # units with a counted tap that day


def _int(value: str | None) -> int:
    return int(value) if value else 0


def today(r: redis.Redis, day: str) -> Today:
    """Day D's (YYYYMMDD) counted taps of every unit: the unit ids, then one HMGET of each
    unit's day hash (its counted levels), all sent in one write."""
    ids = sorted(r.smembers(rkeys.UNITS))
    replies = read_many(r, [("HMGET", UnitKeys(uid).day(day), *LEVELS) for uid in ids])
    counted = tapped = 0
    for levels in replies:
        n = sum(map(_int, levels))
        counted += n
        tapped += n > 0
    return Today(counted, len(ids), tapped)
