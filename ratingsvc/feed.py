"""The change feed for the scoring service: one ordered stream of every aggregate change.

Each unit's log stream is its outbox: the recording script writes it atomically with the
counts, in the unit's own slot. A relay copies the entries that change aggregates (counted and
held taps, later holds, releases, rejections, a counted tap's level changed by its rater, a
tap taken out after an upheld appeal) into
one change stream in the {feed} slot; a script there appends them and moves the unit's relayed
offset in one step, so concurrent relays never copy twice. The cursor is a position in that stream:
resuming from any cursor within the retention yields every later change once, in order, also
after a restart. Units may live on any cluster shard.

A relay reads only the logs of units marked as having news (DIRTY, by mark() after a counting
script: the script, in the unit's slot, cannot write the {feed} key), so an idle relay costs two
commands however many units there are. It takes the marks before it reads the logs (a mark
that comes later is the next relay's), and goes in bounded steps (UNITS_PER_STEP units, STEP
entries), marking again a unit it has not finished. A mark lost to a crash between the script
and mark() is found by a sweep of all units (SSCAN of rs:units, SWEEP_CHUNK a relay, its cursor
kept in SWEEP) that starts at most once every FEED_SWEEP_SECONDS.

The same script trims the stream of changes older than the retention (FEED_RETENTION_SECONDS,
by the ids, which are the app's clock in ms), at most TRIM entries a call, and keeps the id of
the last entry trimmed (TRIMMED). A cursor at or after it lost nothing; one before it ("0"
included) is refused with CursorExpired, which tells where to resume after re-reading the table.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import redis

from . import rkeys
from .rkeys import UnitKeys
from .settings import SETTINGS
from .store import load_script, read_many

CHANGES = "rs:{feed}:chg"
OFFSETS = "rs:{feed}:off"
TRIMMED = "rs:{feed}:trimmed"  # id of the last change trimmed from CHANGES
DIRTY = "rs:{feed}:dirty"  # set of units whose logs may have news (mark)
SWEEP = "rs:{feed}:sweep"  # hash: cursor (SSCAN of rs:units, "0" between sweeps), at (s it began)
UNITS_PER_STEP = 500  # marked units one relay takes at most
SWEEP_CHUNK = 500  # units one relay sweeps (SSCAN's COUNT)
STEP = 20_000  # log entries one relay reads at most
BATCH = 500  # log entries a unit relays at a time
CHUNK = 1000  # entries one relay.lua call appends at most
TRIM = 1000  # entries one relay.lua call trims at most
RETENTION: float = SETTINGS["FEED_RETENTION_SECONDS"][0]
SWEEP_SECONDS: float = SETTINGS["FEED_SWEEP_SECONDS"][0]


class CursorExpired(Exception):
    """Changes after the cursor were trimmed: re-read the score table, then follow from resume
    (the end of the feed when this was raised)."""

    def __init__(self, cursor: str, trimmed: str, resume: str) -> None:
        super().__init__(f"cursor {cursor} is before the trimmed {trimmed}")
        self.cursor, self.trimmed, self.resume = cursor, trimmed, resume


@dataclass(frozen=True)
class Change:
    id: str  # position in the change stream: the cursor after this change
    unit: str
    entry: str  # the unit's log entry it came from
    day: str  # YYYYMMDD the counts changed on
    kind: str  # counted | held | hold | release | reject | change | appeal | volume


def _kind(fields: dict[str, str]) -> str | None:
    """What an entry of a unit's log did to the unit's aggregates, if anything."""
    if fields.get("k") == "tap" and fields.get("s") in ("counted", "held"):
        return fields["s"]
    if fields.get("k") == "hold":
        return "hold"
    if fields.get("k") == "review" and fields.get("a") in ("release", "reject"):
        return fields["a"]
    if fields.get("k") == "change" and fields.get("s") == "counted":  # a held one's counts stay
        return "change"
    if fields.get("k") == "appeal" and fields.get("a") == "uphold" and fields.get("cd"):
        return "appeal"  # a counted tap taken out ("cd": the day it was counted on)
    if fields.get("k") == "vol":
        return "volume"  # a window's services done that day (ratingsvc.volumes)
    return None


def _day(fields: dict[str, str], tz_day) -> str:
    return fields.get("cd") or fields.get("d") or tz_day(int(fields["t"]))


def pairs(flat: list | dict) -> dict[str, str]:
    """A hash or a stream entry's fields as the connection reads them ([k, v, k, v, ...], or
    already a dict), as a dict."""
    return flat if isinstance(flat, dict) else dict(zip(flat[::2], flat[1::2], strict=True))


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq)


def mark(r: redis.Redis, unit: str) -> None:
    """Tell the relay that the unit's log has news: called after a script that logged a change
    of its aggregates (it cannot write this {feed} key itself). A mark lost between the two
    (the app stopped) is found by the next sweep."""
    r.sadd(DIRTY, unit)


def queue_mark(pipe: Any, unit: str) -> None:
    """mark(), queued on a pipeline (behind a script, in the same round trip)."""
    pipe.sadd(DIRTY, unit)


def relay(r: redis.Redis, tz_day, now: float | None = None, retention: float = RETENTION,
          sweep: float = SWEEP_SECONDS) -> int:
    """Bring the change stream up to date with the logs of the units marked since the last
    relay (and of a chunk of all units while a sweep runs), one bounded step. Returns entries
    copied.

    tz_day(ms) -> YYYYMMDD gives the day of entries that do not carry one (reviews, holds).
    now (s, the app's clock; the time if None) times the new changes' ids, and the sweeps;
    changes older than now - retention (s) are trimmed as new ones come. A sweep of every unit
    starts at most once every `sweep` seconds, SWEEP_CHUNK units a relay.
    Nothing marked and no sweep: one round trip of two commands, whatever the number of units.
    A unit with more news than one step takes is marked again, for the next relay.
    """
    now = time.time() if now is None else now
    with r.pipeline(transaction=False) as p:
        p.spop(DIRTY, UNITS_PER_STEP)  # before its log is read: a later mark is a later relay's
        p.hmget(SWEEP, ["cursor", "at"])
        popped, (cursor, at) = p.execute()
    popped = list(popped or [])
    try:
        units = sorted(set(popped) | _sweep(r, now, sweep, cursor, at))
        return _step(r, units, tz_day, now, retention) if units else 0
    except BaseException:
        if popped:
            with contextlib.suppress(redis.RedisError):  # else the sweep finds them
                r.sadd(DIRTY, *popped)
        raise


def _sweep(r: redis.Redis, now: float, every: float, cursor: str | None, at: str | None) -> set[str]:
    """The next chunk of all units while a sweep runs; one starts if the last started `every`
    seconds ago (or as far ahead: the clock went back; a server a little behind another waits).
    Racing relays may sweep a chunk twice: no harm."""
    if cursor in (None, "0"):
        if at is not None and abs(now - float(at)) < every:
            return set()
        at = repr(now)
    nxt, found = r.sscan(rkeys.UNITS, int(cursor or 0), count=SWEEP_CHUNK)
    r.hset(SWEEP, mapping={"cursor": str(nxt), "at": at})
    return set(found)


def _step(r: redis.Redis, units: list[str], tz_day, now: float, retention: float) -> int:
    """Relay up to STEP news of these units: two round trips (their offsets; their news, sent in
    one write without redis-py's per-command work: store.read_many), and script calls that
    append them in the order of their log ids, i.e. of time, CHUNK at a time."""
    offsets = {uid: off for uid, off in zip(units, r.hmget(OFFSETS, units), strict=True) if off}
    count = max(1, min(BATCH, STEP // len(units)))
    news = read_many(r, [("XRANGE", UnitKeys(uid).log, f"({offsets[uid]}" if uid in offsets else "-", "+",
                          "COUNT", count) for uid in units])
    # A unit whose batch is full may have more: only what is up to the earliest such batch's
    # end goes now, so that the feed stays in time order; the rest is the next relay's.
    full = [_id(batch[-1][0]) for batch in news if len(batch) == count]
    cut = min(full) if full else None
    logged: dict[str, list[str]] = {}  # unit -> ids of its new log entries, oldest first
    entries: list[tuple[tuple[int, int], str, str, str, str]] = []
    again: set[str] = set()  # units with news left
    for uid, batch in zip(units, news, strict=True):
        ids = [eid for eid, _ in batch if cut is None or _id(eid) <= cut]
        if len(batch) == count or len(ids) < len(batch):  # more, or some past the cut
            again.add(uid)
        if not ids:
            continue
        logged[uid] = ids
        for eid, flat_fields in batch[:len(ids)]:
            fields = pairs(flat_fields)
            kind = _kind(fields)
            if kind:
                entries.append((_id(eid), uid, eid, _day(fields, tz_day), kind))
    entries.sort()
    clock = [str(int(now * 1000)), str(max(0, int((now - retention) * 1000))), str(TRIM)]
    copied, refused = _append(r, entries, logged, offsets, clock) if logged else (0, False)
    if refused:
        again |= set(logged)  # the other relay may not have had them all
    if again:
        r.sadd(DIRTY, *sorted(again))
    return copied


def _append(r: redis.Redis, entries: list, logged: dict[str, list[str]], offsets: dict[str, str],
            clock: list[str]) -> tuple[int, bool]:
    """relay.lua, CHUNK entries at a time in time order, each call moving the offset of each
    unit up to what it has relayed: a short step for Redis, and for its fsync under
    appendfsync always (one call of 8,000 entries held every tap for over 0.3 s).
    Returns the entries copied, and whether another relay got there first."""
    script = load_script(r, "relay.lua")
    done, copied, start = dict(offsets), 0, 0
    while True:
        end = min(start + CHUNK, len(entries))
        while 0 < end < len(entries) and entries[end][0] == entries[end - 1][0]:
            end += 1  # entries of one instant (in several units) go together
        cut = entries[end - 1][0] if end < len(entries) else None  # None: to the end of all
        heads: list[str] = []
        for uid, ids in logged.items():
            upto = [eid for eid in ids if cut is None or _id(eid) <= cut]
            if upto and upto[-1] != done.get(uid):
                heads += [uid, done.get(uid, ""), upto[-1]]
        args = [*clock, str(len(heads) // 3), *heads]
        for _, uid, eid, day, kind in entries[start:end]:
            args += [uid, eid, day, kind]
        n = int(script(keys=[CHANGES, OFFSETS, TRIMMED], args=args))
        if n < 0:
            return copied, True  # another relay got there first; nothing lost
        copied += n
        done.update({heads[i]: heads[i + 2] for i in range(0, len(heads), 3)})
        if cut is None:
            return copied, False
        start = end


def read(r: redis.Redis, after: str, limit: int) -> list[Change]:
    """Changes after the cursor ("0" for the beginning), oldest first. CursorExpired if
    some were trimmed. The trim point is read after the changes (one round trip): it only
    moves on, so if the cursor is not before it then, nothing after the cursor was gone."""
    with r.pipeline(transaction=False) as p:
        if rkeys.parse_stream_id(after) != (rkeys.MAX_ID_PART, rkeys.MAX_ID_PART):
            p.xrange(CHANGES, min=f"({after}" if after != "0" else "-", count=limit)
        # (else nothing can follow the last id, and Redis refuses "(" before it)
        p.get(TRIMMED)
        *found, trimmed = p.execute()
    if trimmed is not None and (after == "0" or _id(after) < _id(trimmed)):
        end = r.xrevrange(CHANGES, count=1)
        raise CursorExpired(after, trimmed, end[0][0] if end else trimmed)
    return [Change(eid, f["u"], f["e"], f["d"], f["k"]) for eid, f in (found[0] if found else [])]


def valid_cursor(cursor: str) -> bool:
    """"0" (the start) or a stream id that Redis takes."""
    return cursor == "0" or rkeys.parse_stream_id(cursor) is not None
