"""A rater changes the level of their own tap shortly after it: counted once at the new level,
logged, in the export and the feed; nobody else, never later, never a duplicate."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ratingsvc import registry
from ratingsvc.timeutil import iso_time
from tests.helpers import Helper, tap_from

TZ = "Asia/Shanghai"


@pytest.fixture
def win(h):
    h.period("p1", "2026-05-01", "2026-09-30")
    return h.window("u1")


def change(rater, rid, level):
    return rater.post(f"/api/v1/ratings/{rid}/level", json={"level": level})


def log(h, unit="u1", kind="change"):
    return [f for _, f in h.r.xrange(registry.UnitKeys(unit).log) if f["k"] == kind]


def levels(counts: dict, prefix: str = "") -> dict[str, int]:
    return {lv: int(counts.get(prefix + lv, 0)) for lv in "12345"}


def test_a_counted_tap_changed_counts_once_at_the_new_level(h, win, clock):
    phone = h.rater()
    tapped = tap_from(h, win, level=1, rater=phone)
    assert tapped.status_code == 201
    rid, t = tapped.json["rating_id"], clock()
    assert tapped.json["level"] == 1
    assert tapped.json["change_until"] == iso_time((t + 120) * 1000, TZ)
    clock.advance(30)
    resp = change(phone, rid, 5)
    assert resp.status_code == 200
    assert resp.json == {"status": "changed", "rating_id": rid, "level": 5,
                         "change_until": iso_time((t + 120) * 1000, TZ)}
    keys = registry.UnitKeys("u1")
    day = h.r.hgetall(keys.day("20260601"))
    for counts in (h.counts(), day):
        assert levels(counts) == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
        assert levels(counts, f"w{win.id}:") == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    clock.advance(30)
    assert change(phone, rid, 3).json["level"] == 3  # again, within the window: the last counts
    assert levels(h.counts()) == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 0}
    entries = log(h)
    assert [(e["of"], e["from"], e["to"], e["s"]) for e in entries] == [
        (rid.split(".")[1], "1", "5", "counted"), (rid.split(".")[1], "5", "3", "counted")]
    assert entries[0]["t"] == str(int((t + 30) * 1000)) and "r" in entries[0]


def test_a_changed_tap_scores_as_if_the_new_level_had_been_tapped(h, win):
    other = h.window("u2")
    for level in (5, 5, 4):
        tap_from(h, other, level=level)
    phone = h.rater()
    tap_from(h, win, level=5)
    tap_from(h, win, level=4)
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    assert change(phone, rid, 5).status_code == 200
    units = {u["unit"]: u for u in h.client.get("/api/v1/scores?period=p1", headers=h.admin).json["units"]}
    for field in ("counts", "n", "raw", "score", "ci95", "good_rate"):
        assert units["u1"][field] == units["u2"][field], field
    assert units["u1"]["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 2}


def test_a_change_after_midnight_moves_the_count_on_the_tap_s_day(h, clock):
    clock.t = datetime(2026, 6, 1, 23, 59, 30, tzinfo=ZoneInfo(TZ)).timestamp() - 5
    h.period("d1", "2026-06-01", "2026-06-01")
    h.period("d2", "2026-06-02", "2026-06-02")
    win, phone = h.window("u1"), h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]  # 23:59:30 on 1 June
    clock.advance(40)
    tap_from(h, win, level=4, wait=0)  # 00:00:10 on 2 June: that day's snapshot is taken
    clock.advance(30)
    assert change(phone, rid, 5).status_code == 200  # 00:00:40 on 2 June
    scores = {p: h.client.get(f"/api/v1/scores?period={p}", headers=h.admin).json["units"][0]["counts"]
              for p in ("d1", "d2")}
    assert scores == {"d1": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1},
                      "d2": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert levels(h.r.hgetall(registry.UnitKeys("u1").day("20260602"))) == {
        "1": 0, "2": 0, "3": 0, "4": 1, "5": 0}


def test_a_held_tap_changed_is_released_at_the_new_level(rules, clock):
    h = rules(RULE_MIN_TAP_MS=800)
    win, phone = h.window("u1"), h.rater()
    held = tap_from(h, win, level=1, rater=phone, wait=0.1)  # automated: held
    assert held.status_code == 202 and held.json["level"] == 1 and held.json["change_until"]
    rid = held.json["rating_id"]
    assert change(phone, rid, 4).json["status"] == "changed"
    queue = h.client.get("/api/v1/review", headers=h.admin).json["taps"]
    assert [(t["rating_id"], t["level"]) for t in queue] == [(rid, 4)]
    assert levels(h.counts()) == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0} and h.counts()["h"] == "1"
    assert log(h)[0]["s"] == "held"
    resp = h.client.post(f"/api/v1/review/{rid}", headers=h.admin, json={"action": "release", "why": "x"})
    assert resp.status_code == 200
    assert levels(h.counts()) == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0} and h.counts()["h"] == "0"
    decided = change(phone, rid, 2)  # decided in review: no more changes
    assert decided.status_code == 409 and decided.json["error"]["code"] == "not_changeable"


def test_a_counted_tap_changed_and_then_held_is_held_at_its_new_level(rules):
    """Staff rating two windows of their own unit: the first tap is held then, at its level now."""
    h = rules(RULE_RATER_WINDOWS_MAX=1, RULE_VISIT_WINDOWS=1)
    a, b, phone = h.window("u1", "A"), h.window("u1", "B"), h.rater()
    rid = tap_from(h, a, level=1, rater=phone).json["rating_id"]
    assert change(phone, rid, 2).status_code == 200
    assert tap_from(h, b, level=5, rater=phone).status_code == 202
    queue = h.client.get("/api/v1/review", headers=h.admin).json["taps"]
    assert (rid, 2) in [(t["rating_id"], t["level"]) for t in queue]
    assert levels(h.counts()) == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0} and h.counts()["h"] == "2"


def test_only_its_own_rater_may_change_a_tap(h, win):
    rid = tap_from(h, win, level=1).json["rating_id"]
    someone = h.rater()
    tap_from(h, win, level=5, rater=someone)  # a rater too, of another tap
    resp = change(someone, rid, 5)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_your_rating"
    assert resp.json["error"]["message"] == "无法确认是您的评价。"
    nobody = h.app.test_client()  # no device cookie at all
    assert change(nobody, rid, 5).json["error"]["code"] == "not_your_rating"
    assert levels(h.counts())["1"] == 1 and not log(h)


def test_the_change_window_closes(h, win, clock):
    phone = h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    clock.advance(120)
    assert change(phone, rid, 2).status_code == 200  # at 120 s still
    clock.advance(1)
    late = change(phone, rid, 5)
    assert late.status_code == 403 and late.json["error"]["code"] == "change_closed"
    assert late.json["error"]["message"] == "修改评价的时间已过。"
    assert levels(h.counts())["2"] == 1 and len(log(h)) == 1


def test_changing_can_be_turned_off(rules):
    h = rules(RATING_CHANGE_SECONDS=0)
    win, phone = h.window("u1"), h.rater()
    tapped = tap_from(h, win, level=1, rater=phone)
    assert tapped.json["level"] == 1 and tapped.json["change_until"] is None
    resp = change(phone, tapped.json["rating_id"], 5)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "change_closed"


def test_a_duplicate_answers_the_earlier_level_and_cannot_be_changed(h, win):
    phone = h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    change(phone, rid, 4)
    dup = tap_from(h, win, level=2, rater=phone)
    assert dup.status_code == 200 and dup.json["status"] == "duplicate"
    assert dup.json["level"] == 4 and dup.json["change_until"] is None
    resp = change(phone, dup.json["rating_id"], 5)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "not_changeable"
    assert levels(h.counts())["4"] == 1 and sum(levels(h.counts()).values()) == 1


def test_the_same_level_again_is_unchanged_and_writes_nothing(h, win, clock):
    phone = h.rater()
    t = clock()
    rid = tap_from(h, win, level=3, rater=phone).json["rating_id"]
    entries = h.r.xlen(registry.UnitKeys("u1").log)
    resp = change(phone, rid, 3)
    assert resp.status_code == 200 and resp.json == {
        "status": "unchanged", "rating_id": rid, "level": 3,
        "change_until": iso_time((t + 5 + 120) * 1000, TZ)}
    change(phone, rid, 5)
    assert change(phone, rid, 5).json["status"] == "unchanged"
    assert h.r.xlen(registry.UnitKeys("u1").log) == entries + 1 and levels(h.counts())["5"] == 1


@pytest.mark.parametrize("level", [0, 6, -1, 99])
def test_a_level_outside_one_to_five_is_422(h, win, level):
    phone = h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    resp = change(phone, rid, level)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "bad_level"
    assert levels(h.counts())["1"] == 1 and not log(h)


@pytest.mark.parametrize("body", [{}, {"level": "5"}, {"level": 4.5}, {"level": True}, {"level": 5, "x": 1}])
def test_a_malformed_body_is_400(h, win, body):
    phone = h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    assert phone.post(f"/api/v1/ratings/{rid}/level", json=body).status_code == 400


@pytest.mark.parametrize("rid", ["u1.1-0", "nope", "u1.99999999999999999999999-0", "ghost.1-0"])
def test_an_unknown_rating_is_404(h, win, rid):
    phone = h.rater()
    tap_from(h, win, rater=phone)
    resp = change(phone, rid, 5)
    assert resp.status_code == 404 and resp.json["error"]["code"] == "unknown_rating"


def test_a_replayed_tap_answers_its_level_now_and_the_same_deadline(h, win, clock):
    phone = h.rater()
    ticket = h.scan(win, phone)
    clock.advance(5)
    headers = {"Idempotency-Key": "k1"}
    first = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 1}, headers=headers)
    clock.advance(20)
    change(phone, first.json["rating_id"], 5)
    clock.advance(20)
    again = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 1}, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert "case_url" in first.json  # a 差评 opened its case; changed to 5, it has none
    assert again.json == {**{k: v for k, v in first.json.items() if k != "case_url"}, "level": 5}
    assert levels(h.counts())["5"] == 1 and sum(levels(h.counts()).values()) == 1


@pytest.fixture
def closed(config, r, clock, tmp_path, runner):
    """p1 closed after a tap changed from 1 to 5 (and one not changed); its export."""
    from ratingsvc import create_app

    h = Helper(create_app({**config, "EXPORT_DIR": str(tmp_path)}), r, clock)
    h.period("p1", "2026-05-01", "2026-06-01")
    win, phone = h.window("u1"), h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    tap_from(h, win, level=4)
    assert change(phone, rid, 5).status_code == 200
    clock.advance(86400)
    assert h.client.post("/api/v1/periods/p1/close", headers=h.admin).status_code == 201
    h.export, h.rid = tmp_path / "p1.jsonl", rid
    return h


def test_a_change_is_in_the_export_and_the_frozen_result_counts_it(closed, runner):
    lines = [json.loads(line) for line in closed.export.read_text().splitlines()]
    case = [(x["action"], x["from"], x["to"]) for x in lines if x.get("kind") == "case"]
    assert case == [("open", "", "new"), ("void", "new", "void")]  # a 差评 no more: its case voided
    lines = [x for x in lines if x.get("kind") != "case"]
    assert [(x.get("kind", "tap"), x.get("level"), x.get("from"), x.get("to")) for x in lines] == [
        ("tap", 1, None, None), ("tap", 4, None, None), ("change", None, 1, 5)]
    assert lines[2]["of"] == lines[0]["id"] and lines[2]["rater"] == lines[0]["rater"]
    assert set(lines[2]) == {"kind", "time", "unit", "window", "of", "from", "to", "rater", "id", "chain"}
    frozen = closed.client.get("/api/v1/scores?period=p1", headers=closed.admin).json
    assert frozen["frozen"] is True
    assert frozen["units"][0]["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    ok = runner.invoke(["verify", str(closed.export)])
    assert ok.exit_code == 0 and "OK: 2 taps, 1 units" in ok.output


def change_line(lines: list[str]) -> int:
    """The index of the export's change line (after the taps and their case's lines)."""
    return next(i for i, line in enumerate(lines) if '"kind": "change"' in line)


def test_verify_catches_a_tampered_change(closed, runner):
    lines = closed.export.read_text().splitlines()
    n = change_line(lines)
    tampered = json.loads(lines[n])
    tampered["to"] = 2  # the change made into a 2
    lines[n] = json.dumps(tampered, ensure_ascii=False, sort_keys=True)
    closed.export.write_text("\n".join(lines) + "\n")
    bad = runner.invoke(["verify", str(closed.export)])
    assert bad.exit_code != 0
    assert f"line {n + 1} (unit u1): the chain breaks here" in bad.output and "unit u1: counts" in bad.output


def test_verify_catches_a_change_that_does_not_fit_its_tap(closed, runner):
    """Even with the chain recomputed: a change from a level the tap does not have."""
    from ratingsvc.closing import chain_start, chained, line_body

    taps = [json.loads(line) for line in closed.export.read_text().splitlines()]
    n = change_line(closed.export.read_text().splitlines())
    taps[n]["from"] = 3
    chain, out = chain_start("p1"), []
    for tap in taps:
        tap.pop("chain")
        chain = chained(chain, line_body(tap))
        out.append(line_body({**tap, "chain": chain}))
    closed.export.write_text("\n".join(out) + "\n")
    result = closed.export.with_suffix(".result.json")
    result.write_text(json.dumps({**json.loads(result.read_text()), "digest": chain}))
    bad = runner.invoke(["verify", str(closed.export)])
    assert bad.exit_code != 0
    sid = closed.rid.split(".")[1]
    assert f"line {n + 1} (unit u1): the change changes {sid} from 3, but its level is 1" in bad.output


def test_the_feed_carries_a_change_with_the_counts_moved(h, win):
    phone = h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    scorer = h.key("scorer")
    cursor = h.client.get("/api/v1/scores/changes?period=p1", headers=scorer).json["cursor"]
    change(phone, rid, 5)
    change(phone, rid, 5)  # unchanged: nothing to follow
    got = h.client.get(f"/api/v1/scores/changes?period=p1&after={cursor}", headers=scorer).json
    assert [(c["unit"], c["kind"], c["day"]) for c in got["changes"]] == [("u1", "change", "2026-06-01")]
    assert got["changes"][0]["score"]["counts"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}


def test_changes_are_counted_in_the_metrics(h, win):
    phone = h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]

    def changed() -> float:
        text = h.client.get("/metrics").get_data(as_text=True)
        name = 'ratingsvc_level_changes_total{status="changed"}'
        line = [x for x in text.splitlines() if x.startswith(name)]
        return float(line[0].split()[-1]) if line else 0.0

    before = changed()
    change(phone, rid, 5)
    assert changed() == before + 1


def test_a_change_the_server_would_not_keep_on_disk_is_refused(h, win, config, r):
    """TAP_DURABILITY=always and a server that no longer fsyncs each write: 503, nothing moved."""
    from ratingsvc import create_app

    phone = h.rater()
    rid = tap_from(h, win, level=1, rater=phone).json["rating_id"]
    r.config_set("appendfsync", "everysec")
    try:
        other = create_app(config).test_client()  # a worker that looks at the server afresh
        other.set_cookie("rs_dev", phone.get_cookie("rs_dev").value)
        resp = change(other, rid, 5)
        assert resp.status_code == 503 and resp.json["error"]["code"] == "not_durable"
        assert resp.headers["Retry-After"] == "1"
    finally:
        r.config_set("appendfsync", "always")
    assert levels(h.counts())["1"] == 1 and not log(h)
    assert change(phone, rid, 5).status_code == 200
