"""What the evaluation office's dashboard counts that the score table does not: today's taps
over every unit and the review queue's length, in one round trip for a city. No Flask here."""

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
    waiting: int  # held taps in the review queue, whatever their day
    units: int  # units in the registry
    units_tapped: int  # units with a counted tap that day


def _int(value: str | None) -> int:
    return int(value) if value else 0


def today(r: redis.Redis, day: str) -> Today:
    """Day D's (YYYYMMDD) counters and the review queues of every unit: the unit ids, then
    one HMGET of the day hash's counted levels and one HLEN of the queue per unit, sent in one write."""
    ids = sorted(r.smembers(rkeys.UNITS))
    commands: list[tuple] = []
    for uid in ids:
        keys = UnitKeys(uid)
        commands += [("HMGET", keys.day(day), *LEVELS), ("HLEN", keys.held)]
    replies = read_many(r, commands)
    counted = waiting = tapped = 0
    for i in range(len(ids)):
        n = sum(map(_int, replies[2 * i]))
        counted += n
        tapped += n > 0
        waiting += int(replies[2 * i + 1])
    return Today(counted, waiting, len(ids), tapped)
