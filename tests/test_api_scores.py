"""Scores for the scoring service: JSON, CSV, one unit, and few round trips for many units."""

from __future__ import annotations

import csv
import io

import pytest
import redis

from ratingsvc import recording, registry, store


@pytest.fixture
def scored(h, clock):
    """Two categories; u1 with 30 taps of 5, u2 with 30 of 3, u3 with 2 of 1, s1 with 40 of 4."""
    h.period("p1", "2026-05-01", "2026-09-30")
    plan = {("u1", "c1"): (5, 30), ("u2", "c1"): (3, 30), ("u3", "c1"): (1, 2), ("s1", "c2"): (4, 40)}
    for (uid, cat), (level, n) in plan.items():
        h.unit(uid, cat)
        win = registry.create_window(h.r, uid, "1号窗口")
        for _ in range(n):
            assert h.tap(win, level, rater=h.rater()).status_code == 201
    return h


def test_scores_table(scored):
    resp = scored.client.get("/api/v1/scores?period=p1", headers=scored.key("scorer"))
    assert resp.status_code == 200
    body = resp.json
    assert body["period"]["id"] == "p1" and body["prior_weight"] == 20 and body["min_n"] == 30
    units = {u["unit"]: u for u in body["units"]}
    assert set(units) == {"u1", "u2", "u3", "s1"}
    u1 = units["u1"]
    assert u1["counts"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 30} and u1["n"] == 30
    assert u1["raw"] == 10.0 and u1["good_rate"] == 1.0 and u1["status"] == "ok"
    m = (300 + 150 + 0) / 62
    c1 = body["categories"]["c1"]
    assert (c1["mean"], c1["n"], c1["cases"]["bad"]) == (round(m, 4), 62, 2)  # u3's two 差评
    assert u1["score"] == round((20 * m + 300) / 50, 4)
    assert u1["ci95"][0] < 10.0 <= u1["ci95"][1]
    assert (u1["rank"], units["u2"]["rank"], units["u3"]["rank"], units["s1"]["rank"]) == (1, 2, None, 1)
    assert units["u3"]["status"] == "insufficient"
    assert [u["unit"] for u in body["units"]] == ["u1", "u2", "u3", "s1"]


def test_scores_of_one_category_and_as_csv(scored):
    scorer = scored.key("scorer")
    only = scored.client.get("/api/v1/scores?period=p1&category=c2", headers=scorer).json
    assert [u["unit"] for u in only["units"]] == ["s1"] and list(only["categories"]) == ["c2"]
    resp = scored.client.get("/api/v1/scores?period=p1&format=csv", headers=scorer)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="scores-p1.csv"' in resp.headers["Content-Disposition"]
    text = resp.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["unit"] for r in rows] == ["u1", "u2", "u3", "s1"]
    assert rows[0]["name"] == "单位u1" and rows[0]["level_5"] == "30" and rows[0]["rank"] == "1"
    assert rows[2]["rank"] == "" and rows[2]["status"] == "insufficient"


def test_one_units_score_matches_the_table(scored):
    scorer = scored.key("scorer")
    table = scored.client.get("/api/v1/scores?period=p1", headers=scorer).json["units"]
    one = scored.client.get("/api/v1/units/u2/score?period=p1", headers=scorer)
    assert one.status_code == 200 and one.json == next(u for u in table if u["unit"] == "u2")


def test_taps_outside_the_period_do_not_count(h, clock):
    h.period("p1", "2026-06-02", "2026-06-30")
    win = h.window()
    h.tap(win, 5)  # 2026-06-01: the day before the period
    clock.advance(86400)
    h.tap(win, 1)
    u1 = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert u1["counts"] == {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0}


@pytest.mark.parametrize(("query", "status"), [
    ("", 400), ("?period=", 400), ("?period=ghost", 404), ("?period=p1&format=xml", 400),
    ("?period=p1&category=bad%20id", 400)])
def test_bad_score_queries(scored, query, status):
    resp = scored.client.get(f"/api/v1/scores{query}", headers=scored.admin)
    assert resp.status_code == status and "error" in resp.json


def test_unknown_unit_score_is_404(scored):
    resp = scored.client.get("/api/v1/units/ghost/score?period=p1", headers=scored.admin)
    assert resp.status_code == 404


class CountingConnection(redis.Connection):
    """A real connection that counts how often it sends to the server."""

    sends = 0

    def send_packed_command(self, command, check_health=True):
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


@pytest.mark.single_redis
def test_scores_of_2500_units_take_a_handful_of_round_trips(app, h, redis_server, monkeypatch):
    monkeypatch.setattr(store, "CHUNK", 10_000)  # one write per read_many here (store.CHUNK: 2,000)
    h.period("p1")
    with h.r.pipeline(transaction=False) as p:
        registry.save_category(h.r, registry.Category("c1", "c"), create=True)
        for i in range(2500):
            uid = f"u{i}"
            p.hset(registry.UnitKeys(uid).info, mapping={"name": uid, "category": "c1", "active": "1"})
            p.sadd(registry.rkeys.UNITS, uid)
        p.execute()
    for i in range(0, 2500, 97):
        win = registry.create_window(h.r, f"u{i}", "w")
        recording.record(h.r, recording.Tap(f"u{i}", win.id, 1, 4, "r", int(h.clock() * 1000), "n"),
                         h.app.extensions["ratingsvc.rules"], tz="Asia/Shanghai")
    scorer = h.key("scorer")
    counting = redis.Redis(connection_pool=redis.ConnectionPool(
        connection_class=CountingConnection, host="127.0.0.1", port=redis_server.port,
        decode_responses=True))
    app.extensions["ratingsvc.redis"] = counting
    counting.script_flush()  # the server has lost its scripts: one reload, one resend

    def table(sends: int, taps: int) -> int:
        """sends: key, period, unit ids, every unit's state (state.lua: record, totals and case
        version, 500 units a call) and INFO in one write, then period.lua for the units not
        cached with those totals in one write (if any; a worker with nothing kept sends only
        period.lua, for every unit), then the cases and appeals of the units whose case
        version says they have any (none here)."""
        CountingConnection.sends = 0
        counting.config_resetstat()
        resp = h.client.get("/api/v1/scores?period=p1", headers=scorer)
        assert resp.status_code == 200 and len(resp.json["units"]) == 2500
        assert sum(u["n"] for u in resp.json["units"]) == taps
        assert CountingConnection.sends == sends + 1  # + CONFIG RESETSTAT
        return counting.info("commandstats")["cmdstat_evalsha"]["calls"]  # + the key's limit

    calls = 2500 // store.UNITS_PER_CALL  # of state.lua, and of period.lua for every unit
    first = table(sends=6, taps=26)  # a new worker: period.lua for every unit (sent twice: + SCRIPT LOAD)
    table(sends=6, taps=26)  # state.lua now, sent twice (+ SCRIPT LOAD): the server lost it too
    cached = table(sends=4, taps=26)  # nothing changed: all from the cache, no period.lua
    recording.record(h.r, recording.Tap("u97", 2, 1, 5, "r2", int(h.clock() * 1000), "n2"),
                     h.app.extensions["ratingsvc.rules"], tz="Asia/Shanghai")
    changed = table(sends=5, taps=27)  # one unit's totals moved: only it is computed
    assert cached == calls + 1  # + 1: the key limiter's script
    assert first == 2 * (calls + 1)  # no state.lua; each refused once (NOSCRIPT), then sent again
    assert changed - cached == 1  # one period.lua call, of the one unit


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","点此")', "+1+cmd|' /C calc'!A0",
                                  "-2+3", "@SUM(A1:A9)", "\t=1+1"])
def test_csv_cells_that_would_run_as_formulas_are_plain_text(h, name):
    h.period("p1", "2026-05-01", "2026-09-30")
    h.unit("u1", name=name)
    scorer = h.key("scorer")
    for path in ("/api/v1/scores?period=p1&format=csv", "/api/v1/periods/p1/report?format=csv"):
        text = h.client.get(path, headers=scorer).data.decode("utf-8").lstrip("\ufeff")
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert "'" + name in cells, path
        assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for cell in cells), path
