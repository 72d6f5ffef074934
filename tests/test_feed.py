"""The change feed: every aggregate change once, in order, from any cursor; also as SSE."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ratingsvc import create_app, feed, recording, registry
from ratingsvc.timeutil import local_day
from tests.helpers import Helper, tap_from


@pytest.fixture
def fh(rules):
    """Signals on for automation (so some taps are held); a period; three units."""
    h = rules(RULE_MIN_TAP_MS=800)
    h.period("p1", "2026-05-01", "2026-09-30")
    h.wins = {u: h.window(u, "1号窗口") for u in ("u1", "u2", "u3")}
    h.scorer = h.key("scorer")
    return h


def page(h, after="0", limit=500, period="p1"):
    resp = h.client.get(f"/api/v1/scores/changes?period={period}&after={after}&limit={limit}",
                        headers=h.scorer)
    assert resp.status_code == 200, resp.json
    return resp.json


def everything(h, after="0", limit=2):
    out = []
    while True:
        body = page(h, after, limit)
        out += body["changes"]
        after = body["cursor"]
        if not body["more"]:
            return out, after


def story(h):
    """Counted, duplicate, held, a reason, a release: what the feed should show."""
    w = h.wins
    phone = h.rater()
    tap_from(h, w["u1"], level=5, rater=phone)
    tap_from(h, w["u1"], level=5, rater=phone)  # duplicate: no change
    tap_from(h, w["u2"], level=4)
    held = tap_from(h, w["u3"], level=1, wait=0.1).json["rating_id"]  # automation: held
    bad = tap_from(h, w["u2"], level=2, rater=phone)
    phone.post(f"/api/v1/ratings/{bad.json['rating_id']}/details", json={"tags": ["duty"]})
    h.client.post(f"/api/v1/review/{held}", headers=h.admin, json={"action": "release", "why": "ok"})
    return [("u1", "counted"), ("u2", "counted"), ("u3", "held"), ("u2", "counted"), ("u3", "release")]


def test_every_change_once_in_order_from_every_cursor(fh):
    expected = story(fh)
    full, _ = everything(fh)
    assert [(c["unit"], c["kind"]) for c in full] == expected
    last = {c["unit"]: c for c in full}
    assert last["u3"]["score"]["n"] == 1 and last["u3"]["score"]["pending"] == 0
    assert last["u2"]["score"]["counts"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
    for i, cursor in enumerate(["0"] + [c["id"] for c in full]):
        rest, _ = everything(fh, cursor)
        assert [c["id"] for c in rest] == [c["id"] for c in full[i:]], cursor


def test_resuming_after_a_restart_gives_only_what_came_since(fh, config, r, clock):
    story(fh)
    _, cursor = everything(fh)
    tap_from(fh, fh.wins["u1"], level=3)  # a new phone
    restarted = Helper(create_app({**config, "RULE_MIN_TAP_MS": 800}), r, clock)
    restarted.scorer = fh.scorer
    later, _ = everything(restarted, cursor)
    assert [(c["unit"], c["kind"]) for c in later] == [("u1", "counted")]


def test_concurrent_relays_copy_each_change_once(fh):
    for i in range(30):
        tap_from(fh, fh.wins[f"u{i % 3 + 1}"], level=4)
    day = lambda ms: local_day(ms / 1000, "Asia/Shanghai")  # noqa: E731
    with ThreadPoolExecutor(8) as pool:
        copied = sum(pool.map(lambda _: feed.relay(fh.r, day), range(8)))
    assert copied == 30 and fh.r.xlen(feed.CHANGES) == 30
    assert feed.relay(fh.r, day) == 0


def test_a_tap_before_the_period_is_not_in_its_feed(fh, clock):
    fh.period("june", "2026-06-02", "2026-06-30")
    tap_from(fh, fh.wins["u1"])  # 2026-06-01
    clock.advance(86400)
    tap_from(fh, fh.wins["u2"])
    body = page(fh, period="june")
    assert [c["unit"] for c in body["changes"]] == ["u2"] and not body["more"]
    assert [c["unit"] for c in page(fh)["changes"]] == ["u1", "u2"]  # both in p1


def test_a_tap_shows_in_scores_and_feed_at_once(fh):
    start = time.monotonic()
    tap_from(fh, fh.wins["u1"], level=5, wait=1)
    scores = fh.client.get("/api/v1/scores?period=p1", headers=fh.scorer).json["units"]
    changes = page(fh)["changes"]
    assert time.monotonic() - start < 1.0
    assert next(u for u in scores if u["unit"] == "u1")["n"] == 1
    assert changes[-1]["unit"] == "u1" and changes[-1]["score"]["n"] == 1


def sse(h, headers=None, after="0"):
    resp = h.client.get(f"/api/v1/scores/changes?period=p1&after={after}",
                        headers={"Accept": "text/event-stream", **h.scorer, **(headers or {})})
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    text = resp.get_data(as_text=True)
    events = [dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
              for block in text.split("\n\n") if block.startswith("id: ")]
    return text, events


def test_server_sent_events_resume_with_last_event_id(config, r, clock):
    h = Helper(create_app({**config, "SSE_MAX_SECONDS": 0.5, "SSE_POLL": 0.05,
                           "SSE_HEARTBEAT": 0.1}), r, clock)
    h.period("p1", "2026-05-01", "2026-09-30")
    win = h.window()
    h.scorer = h.key("scorer")
    h.tap(win, 5)
    h.tap(win, 4, rater=h.rater())
    text, events = sse(h)
    assert [e["event"] for e in events] == ["change", "change"] and "retry: 1000" in text
    assert ": heartbeat" in text  # the stream stays talkative while nothing happens
    h.tap(win, 3, rater=h.rater())
    _, later = sse(h, {"Last-Event-ID": events[-1]["id"]})
    assert len(later) == 1 and '"counts": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}' in later[0]["data"]
    bad = h.client.get("/api/v1/scores/changes?period=p1",
                       headers={"Accept": "text/event-stream", "Last-Event-ID": "junk", **h.scorer})
    assert bad.status_code == 400


@pytest.mark.parametrize(("query", "status"), [("period=p1&after=junk", 400), ("period=ghost", 404),
                                               ("after=0", 400), ("period=p1&limit=0", 400)])
def test_bad_feed_queries(fh, query, status):
    assert fh.client.get(f"/api/v1/scores/changes?{query}", headers=fh.scorer).status_code == status


def test_only_scorers_and_admins_follow_the_feed(fh):
    m = fh.key("manager", ("u1",))
    assert fh.client.get("/api/v1/scores/changes?period=p1", headers=m).status_code == 403
    assert fh.client.get("/api/v1/scores/changes?period=p1").status_code == 401


def test_entries_that_change_nothing_are_not_relayed(fh):
    win = fh.wins["u1"]
    phone = fh.rater()
    for _ in range(3):
        tap_from(fh, win, rater=phone)
    assert [c["kind"] for c in page(fh)["changes"]] == ["counted"]
    assert recording and registry  # the log holds all three
    assert len(fh.r.xrange(registry.UnitKeys("u1").log)) == 3


@pytest.mark.single_redis
def test_a_long_backlog_is_relayed_in_short_steps_in_time_order_once(fh, monkeypatch):
    """One relay.lua call of 8,000 entries held every tap for over 0.3 s (appendfsync always)."""
    monkeypatch.setattr(feed, "CHUNK", 4)
    for i in range(15):
        tap_from(fh, fh.wins[f"u{i % 3 + 1}"], level=4)
    fh.r.config_resetstat()
    day = lambda ms: local_day(ms / 1000, "Asia/Shanghai")  # noqa: E731
    with ThreadPoolExecutor(4) as pool:  # racing relays, as several stream servers
        copied = sum(pool.map(lambda _: feed.relay(fh.r, day), range(4)))
    calls = int(fh.r.info("commandstats")["cmdstat_evalsha"]["calls"])
    assert copied == 15 and calls >= 4  # 15 entries, at most 4 a call
    changes = fh.r.xrange(feed.CHANGES)
    entries = [f["e"] for _, f in changes]
    assert len(entries) == len(set(entries)) == 15  # each once
    assert entries == sorted(entries, key=lambda e: tuple(map(int, e.split("-"))))  # in time order


def test_a_tap_taken_out_after_an_upheld_appeal_is_in_the_feed(fh):
    """The scoring service following the counts hears of it, on the day the tap counted on."""
    bad = tap_from(fh, fh.wins["u1"], level=1).json["rating_id"]
    rejected = tap_from(fh, fh.wins["u2"], level=2).json["rating_id"]
    _, cursor = everything(fh)
    manager = fh.key("manager", ("u1", "u2"))
    for rid in (bad, rejected):
        assert fh.client.post(f"/api/v1/ratings/{rid}/appeal", headers=manager,
                              json={"reason": "误触"}).status_code == 201
    fh.client.post(f"/api/v1/appeals/{bad}", headers=fh.admin, json={"decision": "uphold", "note": "属实"})
    fh.client.post(f"/api/v1/appeals/{rejected}", headers=fh.admin, json={"decision": "reject"})
    after, _ = everything(fh, cursor)
    assert [(c["unit"], c["kind"], c["day"]) for c in after] == [("u1", "appeal", "2026-06-01")]
    assert after[0]["score"]["n"] == 0
