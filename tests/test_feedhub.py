"""The streams of one process share a Hub: the feed is read and scored once a poll for all."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ratingsvc import create_app
from ratingsvc.feed import Change
from ratingsvc.feedhub import KEEP, Hub
from tests.helpers import Helper


class Feed:
    """A feed of changes u0, u1, ... with ids 1-0, 2-0, ...: what a Hub reads (feedhub.Source),
    counting its work. cost: seconds each relay takes."""

    def __init__(self, cost: float = 0.0) -> None:
        self.changes: list[Change] = []
        self.relays = self.encodes = self.tables = 0
        self.cost = cost

    def add(self, n: int) -> None:
        start = len(self.changes)
        self.changes += [Change(f"{i + 1}-0", f"u{i}", "e", "20260601", "counted")
                         for i in range(start, start + n)]

    def relay(self) -> None:
        self.relays += 1
        time.sleep(self.cost)

    def read(self, cursor: str, limit: int) -> tuple[list[Change], str]:
        done = 0 if cursor == "0" else int(cursor.split("-")[0])
        batch = self.changes[done:done + limit]
        return batch, (batch[-1].id if batch else cursor)

    def scores(self) -> dict[str, dict]:
        self.tables += 1
        return {c.unit: {"n": self.tables} for c in self.changes}

    def encode(self, changes: list[Change], scores) -> list[tuple[str, str]]:
        self.encodes += 1
        table = scores() if changes else {}
        return [(c.id, f"id: {c.id}\ndata: {table[c.unit]['n']}\n\n") for c in changes]


def ids(text: str) -> list[str]:
    return [line[4:] for line in text.splitlines() if line.startswith("id: ")]


def test_many_streams_one_read_a_poll_and_every_event_to_each():
    feed = Feed()
    hub = Hub("0", poll=60, share=0.05)
    feed.add(3)
    cursors = ["0"] * 50
    with ThreadPoolExecutor(10) as pool:
        def stream(i):
            hub.refresh(feed)
            text, cursors[i] = hub.after(cursors[i])
            return ids(text)
        got = list(pool.map(stream, range(50)))
    assert feed.relays == feed.encodes == feed.tables == 1  # once for all fifty
    assert all(g == ["1-0", "2-0", "3-0"] for g in got)
    feed.add(2)
    hub.due = 0  # the next poll is due
    hub.refresh(feed)
    text, cursor = hub.after(cursors[0])
    assert ids(text) == ["4-0", "5-0"] and cursor == "5-0" and feed.relays == 2
    assert hub.after(cursor) == ("", "5-0")


def test_under_load_the_hub_polls_less_often():
    feed = Feed(cost=0.05)
    hub = Hub("0", poll=0.01, share=0.1)
    hub.refresh(feed)
    assert hub.due - time.monotonic() > 0.4  # 0.05 s of work at most a tenth of the time
    hub.refresh(feed)
    assert feed.relays == 1


def test_a_stream_older_than_what_the_hub_keeps_catches_up_alone():
    feed = Feed()
    feed.add(5)
    hub = Hub("5-0", poll=0, share=1)  # made when the feed ended at 5-0
    assert hub.behind("0") and hub.behind("4-0") and not hub.behind("5-0")
    feed.add(2 * KEEP + 10)
    for _ in range(5):  # 10,000 a poll
        hub.due = 0
        hub.refresh(feed)
    assert hub.cursor == f"{2 * KEEP + 15}-0"  # all read; past twice KEEP, the oldest dropped
    assert len(hub.ids) == KEEP and hub.behind("5-0") and hub.behind(f"{KEEP + 14}-0")
    assert not hub.behind(f"{KEEP + 15}-0")  # every event after it is still kept
    relays, tables = feed.relays, feed.tables
    text, cursor, more = hub.catch_up(feed, "5-0")  # behind: reads alone, on the hub's table
    assert ids(text)[0] == "6-0" and len(ids(text)) == 2000 and cursor == "2005-0" and more
    assert (feed.relays, feed.tables) == (relays, tables) and "data: 5" in text


@pytest.mark.parametrize("streams", [3])
def test_streams_of_one_app_share_its_hub(config, r, clock, streams):
    """Through the app: three streams of one period, one hub, each sees the tap."""
    h = Helper(create_app({**config, "SSE_MAX_SECONDS": 1.0, "SSE_POLL": 0.05}), r, clock)
    h.period("p1", "2026-05-01", "2026-09-30")
    win = h.window()
    scorer = h.key("scorer")
    h.tap(win, 5)

    def stream(_):
        resp = h.app.test_client().get("/api/v1/scores/changes?period=p1",
                                       headers={"Accept": "text/event-stream", **scorer})
        return resp.get_data(as_text=True)
    with ThreadPoolExecutor(streams) as pool:
        texts = list(pool.map(stream, range(streams)))
    assert all(t.count("event: change") == 1 for t in texts)
    assert list(h.app.extensions["ratingsvc.feed_hubs"]) == ["p1"]


class Failing(Feed):
    """A feed whose score table fails once, as Redis timing out would."""

    fail = True

    def scores(self) -> dict[str, dict]:
        if self.fail:
            self.fail = False
            raise TimeoutError("the table timed out")
        return super().scores()


def test_a_poll_that_fails_loses_no_event():
    feed = Failing()
    hub = Hub("0", poll=0, share=1)
    feed.add(3)
    with pytest.raises(TimeoutError):
        hub.refresh(feed)
    assert hub.cursor == "0"  # not moved past what it could not keep
    hub.due = 0
    hub.refresh(feed)
    assert ids(hub.after("0")[0]) == ["1-0", "2-0", "3-0"]


def test_catching_up_stops_where_the_hub_is():
    """Further on, its changes would carry the hub's older table: the hub's next poll has them."""
    feed = Feed()
    feed.add(5)
    hub = Hub("3-0", poll=0, share=1)
    hub.cursor = "3-0"
    text, cursor, more = hub.catch_up(feed, "0")
    assert ids(text) == ["1-0", "2-0", "3-0"] and cursor == "3-0" and not more


def test_a_stream_ends_cleanly_when_redis_goes_away(tmp_path, clock, caplog):
    """After its 200, a stream cannot answer 503: it ends, logged, and its client reconnects."""
    from ratingsvc.embedded import RedisServer, free_port
    from tests.conftest import GENEROUS, SIGNALS_OFF

    server = RedisServer(tmp_path, port=free_port()).start()
    try:
        app = create_app({"TESTING": True, "REDIS_URL": server.url, "CLOCK": clock, **GENEROUS,
                          **SIGNALS_OFF, "TAP_DURABILITY": "server", "SSE_MAX_SECONDS": 30.0,
                          "SSE_POLL": 0.05})
        h = Helper(app, app.extensions["ratingsvc.redis"], clock)
        h.period("p1", "2026-05-01", "2026-09-30")
        scorer = h.key("scorer")
        resp = app.test_client().get("/api/v1/scores/changes?period=p1", buffered=False,
                                     headers={"Accept": "text/event-stream", **scorer})
        chunks = iter(resp.response)
        assert resp.status_code == 200 and next(chunks).startswith(b"retry:")
        server.stop()
        start = time.monotonic()
        with caplog.at_level("WARNING", logger="ratingsvc.views.changes"):
            rest = b"".join(chunks)  # ends, well before SSE_MAX_SECONDS
        resp.close()
        assert time.monotonic() - start < 5 and b"event: change" not in rest
        assert any("change stream ended by redis" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()
