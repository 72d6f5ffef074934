"""The change feed for the scoring service: one ordered stream of every aggregate change.

Each unit's log stream is its outbox: the recording script writes it atomically with the
counts, in the unit's own slot. A relay copies the entries that change aggregates (counted
and held taps, later holds, releases) into one change stream in the {feed} slot; a script
there appends them and moves the unit's relayed offset in one step, so concurrent relays never
copy twice. The cursor is a position in that stream: resuming from any cursor yields every
later change once, in order, also after a restart. Units may live on any cluster shard.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from . import rkeys
from .rkeys import UnitKeys
from .store import load_script

CHANGES = "rs:{feed}:chg"
OFFSETS = "rs:{feed}:off"
BATCH = 500  # log entries a unit relays at a time


@dataclass(frozen=True)
class Change:
    id: str  # position in the change stream: the cursor after this change
    unit: str
    entry: str  # the unit's log entry it came from
    day: str  # YYYYMMDD the counts changed on
    kind: str  # counted | held | hold | release


def _kind(fields: dict[str, str]) -> str | None:
    """What an entry of a unit's log did to the unit's aggregates, if anything."""
    if fields.get("k") == "tap" and fields.get("s") in ("counted", "held"):
        return fields["s"]
    if fields.get("k") == "hold":
        return "hold"
    if fields.get("k") == "review" and fields.get("a") == "release":
        return "release"
    return None


def _day(fields: dict[str, str], tz_day) -> str:
    return fields.get("d") or tz_day(int(fields["t"]))


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq)


def relay(r: redis.Redis, tz_day) -> int:
    """Bring the change stream up to date with every unit's log. Returns entries copied.

    tz_day(ms) -> YYYYMMDD gives the day of entries that do not carry one (reviews, holds).
    Two pipelined round trips (which units have news; their news) and one script call, which
    appends the news of all units in the order of their log ids, i.e. of time.
    """
    units = sorted(r.smembers(rkeys.UNITS))
    with r.pipeline(transaction=False) as p:
        p.hgetall(OFFSETS)
        for uid in units:
            p.xrevrange(UnitKeys(uid).log, count=1)
        offsets, *lasts = p.execute()
    dirty = [uid for uid, last in zip(units, lasts, strict=True)
             if last and (uid not in offsets or _id(last[0][0]) > _id(offsets[uid]))]
    if not dirty:
        return 0
    with r.pipeline(transaction=False) as p:
        for uid in dirty:
            done = offsets.get(uid)
            p.xrange(UnitKeys(uid).log, min=f"({done}" if done else "-", count=BATCH)
        news = p.execute()
    heads: list[str] = []
    entries: list[tuple[tuple[int, int], str, str, str, str]] = []
    for uid, batch in zip(dirty, news, strict=True):
        if not batch:
            continue
        heads += [uid, offsets.get(uid, ""), batch[-1][0]]
        for eid, fields in batch:
            kind = _kind(fields)
            if kind:
                entries.append((_id(eid), uid, eid, _day(fields, tz_day), kind))
    entries.sort()
    args = [str(len(heads) // 3), *heads]
    for _, uid, eid, day, kind in entries:
        args += [uid, eid, day, kind]
    copied = load_script(r, "relay.lua")(keys=[CHANGES, OFFSETS], args=args)
    return max(int(copied), 0)  # -1: another relay got there first; nothing lost


def read(r: redis.Redis, after: str, limit: int) -> list[Change]:
    """Changes after the cursor ("0" for the beginning), oldest first."""
    if rkeys.parse_stream_id(after) == (rkeys.MAX_ID_PART, rkeys.MAX_ID_PART):
        return []  # nothing can follow the last id (and Redis refuses "(" before it)
    entries = r.xrange(CHANGES, min=f"({after}" if after != "0" else "-", count=limit)
    return [Change(eid, f["u"], f["e"], f["d"], f["k"]) for eid, f in entries]


def valid_cursor(cursor: str) -> bool:
    """"0" (the start) or a stream id that Redis takes."""
    return cursor == "0" or rkeys.parse_stream_id(cursor) is not None
