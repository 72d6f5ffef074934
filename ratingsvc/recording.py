"""Counting taps and their optional reasons: one Redis script call each."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from .rkeys import UnitKeys
from .store import load_script

DEDUPE_TTL = 3 * 86400  # a day's dedupe hash outlives the day, whatever the time zone
TAGS = ("key_work", "business", "lawful", "public", "duty")


@dataclass(frozen=True)
class Tap:
    unit: str
    window: int
    epoch: int
    level: int
    rater: str  # keyed hash, never the raw identifier
    day: str  # YYYYMMDD in the configured time zone
    now_ms: int
    nonce: str  # the scan ticket's nonce


@dataclass(frozen=True)
class Outcome:
    status: str  # counted | duplicate | expired | revoked | mismatch
    rating_id: str | None = None
    replayed: bool = False


def rating_id(unit: str, stream_id: str) -> str:
    return f"{unit}.{stream_id}"


def parse_rating_id(value: str) -> tuple[str, str] | None:
    unit, sep, stream_id = value.rpartition(".")
    ms, dash, seq = stream_id.partition("-")
    if not (sep and unit and dash and ms.isdigit() and seq.isdigit()):
        return None
    return unit, stream_id


def record(r: redis.Redis, tap: Tap, *, expired: bool = False, idempotency_key: str | None = None,
           idempotency_ttl: int = 86400) -> Outcome:
    """Count a tap once per rater, window and day; log every tap. One round trip."""
    keys = UnitKeys(tap.unit)
    fingerprint = f"{tap.nonce}:{tap.level}"
    idem_key = keys.idempotency(tap.rater, idempotency_key) if idempotency_key else keys.prefix
    status, stream_id, stored_fp, replayed = load_script(r, "record.lua")(
        keys=[keys.info, keys.ep, keys.dedupe(tap.day), keys.tot, keys.day(tap.day), keys.days,
              keys.snap, keys.log, idem_key],
        args=[tap.window, tap.epoch, tap.level, tap.rater, tap.day, tap.now_ms, tap.nonce,
              fingerprint, idempotency_ttl if idempotency_key else 0, DEDUPE_TTL,
              "1" if expired else "0"],
    )
    if replayed == "1" and stored_fp != fingerprint:
        return Outcome("mismatch")
    return Outcome(status, rating_id(tap.unit, stream_id) if stream_id else None, replayed == "1")


def add_details(r: redis.Redis, unit: str, stream_id: str, *, rater: str, now_ms: int,
                max_age_ms: int, tags: list[str], comment: str) -> str:
    """Attach a reason to a tap. Returns saved | unknown | forbidden | closed | exists."""
    keys = UnitKeys(unit)
    status, _ = load_script(r, "details.lua")(
        keys=[keys.log, keys.det],
        args=[stream_id, rater, now_ms, max_age_ms, ",".join(tags), comment],
    )
    return str(status)
