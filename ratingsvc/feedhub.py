"""The change feed of one period, read once for every stream that this process serves.

Each open stream used to relay, read and score the feed itself twice a second: 50 streams
meant 100 relays and score tables a second. A Hub does that work once per poll for all of
them and keeps the encoded events; a stream takes the events after its cursor. (A poll's
rows are those of its changes' units, which follow the stream: views/changes.py's items;
the whole table only for a poll of very many units.) Under load
the hub polls less often, so that reading the feed takes at most `share` of the process's
time: the feed then lags by up to the cost of a poll / share (about 36 s with 10,000 units on
a full CPU here), and taps do not slow down.

A stream whose cursor is older than what the hub keeps catches up by itself (read_after),
then joins the hub. A hub whose own cursor was trimmed from the feed (no stream for longer than
the retention) starts again from the feed's end; a stream before that catches up by itself,
and is told if its own cursor was trimmed (feed.CursorExpired).
"""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from typing import Protocol

from .feed import Change, CursorExpired
from .rkeys import parse_stream_id

log = logging.getLogger(__name__)
KEEP = 20_000  # events kept for streams that are a little behind
PER_POLL = 10_000  # at most this many changes read in one poll


class Source(Protocol):
    """Where a hub reads the feed (views/changes.py gives it the app's Redis and scores)."""

    def relay(self) -> None:
        """Bring the change stream up to date."""

    def read(self, cursor: str, limit: int) -> tuple[list[Change], str]:
        """Up to limit changes after cursor, and the cursor after them."""

    def scores(self) -> dict[str, dict]:
        """Every unit's aggregates now (one score table)."""

    def encode(self, changes: list[Change], scores: Callable[[], dict[str, dict]]) -> list[tuple[str, str]]:
        """(id, server-sent event) of the changes of the hub's period, each with its unit's
        aggregates from scores(), which it calls only if any change is of the period."""


def _key(cursor: str) -> tuple[int, int]:
    return (0, 0) if cursor == "0" else parse_stream_id(cursor) or (0, 0)


class Hub:
    def __init__(self, start: str, *, poll: float, share: float) -> None:
        """start: the feed's end when the first stream came; events after it are kept."""
        self.poll, self.share = poll, share
        self.base = _key(start)  # streams at or after this cursor are served from here
        self.cursor = start
        self.ids: list[tuple[int, int]] = []
        self.texts: list[str] = []
        self.due = 0.0  # monotonic time of the next read of the feed
        self.last_cost = 0.0
        self.table: dict[str, dict] | None = None  # the last score table read
        self._lock = threading.Lock()

    def behind(self, cursor: str) -> bool:
        """Whether a stream at this cursor must catch up by itself first."""
        return _key(cursor) < self.base

    def refresh(self, source: Source) -> None:
        """Read what came since the last poll, if a poll is due: one stream does it, the
        others wait for it and then take its events. One relay and one score table a poll."""
        with self._lock:
            if time.monotonic() < self.due:
                return
            started = time.perf_counter()
            source.relay()
            changes: list[Change] = []
            cursor = self.cursor  # moved on only once the events are kept: a failed poll loses none
            while len(changes) < PER_POLL:
                try:
                    batch, cursor = source.read(cursor, min(500, PER_POLL - len(changes)))
                except CursorExpired as exc:
                    self.base, cursor = _key(exc.resume), exc.resume
                    self.ids, self.texts, changes = [], [], []
                    continue
                changes += batch
                if len(batch) < 500:
                    break
            for cid, text in source.encode(changes, lambda: self._scores(source)):
                self.ids.append(_key(cid))
                self.texts.append(text)
            self.cursor = cursor
            self.last_cost = time.perf_counter() - started
            self.due = time.monotonic() + max(self.poll, self.last_cost / self.share)
            if self.last_cost > self.poll:
                log.info("feed poll took %.3f s for %d changes; the next in %.1f s", self.last_cost,
                         len(changes), self.due - time.monotonic())
            if len(self.ids) > 2 * KEEP:
                drop = len(self.ids) - KEEP
                self.base = self.ids[drop - 1]
                del self.ids[:drop], self.texts[:drop]

    def _scores(self, source: Source) -> dict[str, dict]:
        self.table = source.scores()
        return self.table

    def catch_up(self, source: Source, cursor: str, limit: int = 2000) -> tuple[str, str, bool]:
        """For a stream behind what the hub keeps: the next changes after its cursor, with
        the aggregates of the hub's last score table (no relay, no table of its own), the
        cursor after them, and whether more are waiting."""
        changes, after = source.read(cursor, limit)
        upto = [c for c in changes if _key(c.id) <= _key(self.cursor)]  # past the hub: its next poll
        if len(upto) < len(changes):
            changes, after = upto, (upto[-1].id if upto else cursor)
        texts = source.encode(changes, lambda: self.table if self.table is not None else self._scores(source))
        return "".join(text for _, text in texts), after, len(changes) == limit

    def after(self, cursor: str) -> tuple[str, str]:
        """The encoded events after cursor (one string), and the cursor to go on from: the
        hub's own, since it has read everything up to it."""
        with self._lock:
            if _key(cursor) < self.base:  # the hub started again past it: it catches up first
                return "", cursor
            i = bisect_right(self.ids, _key(cursor))
            ahead = _key(self.cursor) > _key(cursor)
            return "".join(self.texts[i:]), self.cursor if ahead else cursor
