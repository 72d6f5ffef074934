"""Retention: once a period is closed and its export checks out, Redis is pruned of what only
that period needed; what is still open (periods, cases, the feed) is untouched."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ratingsvc import create_app, recording, retention
from ratingsvc.cases import store as case_store
from ratingsvc.rkeys import UnitKeys
from ratingsvc.rules import Rules
from tests.helpers import Helper, tap_from

TZ = ZoneInfo("Asia/Shanghai")
CLOSED_AT = datetime(2026, 6, 3, 9, 0, tzinfo=TZ).timestamp()  # p1 (1-2 June) is over


def at(day: str, hour: int = 10) -> int:
    return int(datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=TZ).timestamp() * 1000)


def seed(h, window, day: str, taps: int, first: int = 0) -> None:
    """taps counted taps (new raters, levels 3-5) on window, on day from 10:00, one a second:
    straight through the recording script, as a tap through the API would be."""
    rules = Rules.from_config(h.app.config)
    for i in range(first, first + taps):
        tap = recording.Tap(window.unit, window.id, window.epoch, 3 + i % 3, f"{window.id}r{i:08x}",
                            at(day) + i * 1000, f"n{day}{window.id}{i}")
        assert recording.record(h.r, tap, rules, tz="Asia/Shanghai").status == "counted"


@pytest.fixture
def ph(config, r, clock, tmp_path):
    """p1: 1-2 June (to be closed); p2: 2-30 June, open, overlapping p1's last day."""
    app = create_app({**config, "EXPORT_DIR": str(tmp_path), "RETAIN_CLOSED_DAYS": 0})
    h = Helper(app, r, clock)
    h.export = tmp_path / "p1.jsonl"
    h.period("p1", "2026-06-01", "2026-06-02")
    h.period("p2", "2026-06-02", "2026-06-30")
    h.a, h.b = h.window("u1", "A"), h.window("u2", "B")
    return h


def close(h) -> dict:
    h.clock.t = CLOSED_AT
    resp = h.client.post("/api/v1/periods/p1/close", headers=h.admin)
    assert resp.status_code == 201, resp.json
    return resp.json


def prune(h, **kw):
    return retention.prune(h.r, "p1", str(h.export), now=h.clock(), tz="Asia/Shanghai",
                           retain_days=h.app.config["RETAIN_CLOSED_DAYS"], **kw)


def unit_memory(r) -> int:
    """The units' keys' memory, but for the 'returning' signal's state (rd:<bucket>): a rater's
    recent days, whatever the periods, bounded by its own expiry (two RULE_RETURN_WINDOWs)."""
    return sum(r.memory_usage(k, samples=0) or 0 for k in r.scan_iter(match="rs:{u.*", count=1000)
               if ":rd:" not in k)


def scores(h, period: str) -> list:
    """The period's scores as a new process computes them (no counts cached)."""
    fresh = Helper(create_app(h.app.config), h.r, h.clock)
    resp = fresh.client.get(f"/api/v1/scores?period={period}", headers=h.admin)
    assert resp.status_code == 200, resp.json
    return [(u["unit"], u["counts"], u["n"], u["score"]) for u in resp.json["units"]]


def days_of(r, unit: str) -> list[str]:
    return r.zrange(UnitKeys(unit).days, 0, -1)


def test_pruning_a_closed_period_frees_its_memory_and_keeps_every_answer(ph):
    seed(ph, ph.a, "2026-06-01", 16_000)  # 20,000 taps: p1 only, then p1 and p2, then p2 only
    seed(ph, ph.b, "2026-06-02", 2_000)
    seed(ph, ph.b, "2026-06-03", 2_000)
    result = close(ph)
    frozen = ph.client.get("/api/v1/scores?period=p1", headers=ph.admin).json["units"]
    open_before = scores(ph, "p2")
    before = unit_memory(ph.r)
    done = prune(ph)
    after = unit_memory(ph.r)
    assert done["entries"] == 16_000 and done["days"] == 1  # 2 June is p2's too: kept
    assert after < before * 0.3, (before, after)
    k = UnitKeys("u1")
    assert not any(ph.r.exists(key) for key in (k.day("20260601"), k.hourly("20260601")))
    assert days_of(ph.r, "u1") == [] and days_of(ph.r, "u2") == ["20260602", "20260603"]
    assert not [f for f in ph.r.hkeys(k.snap) if f.startswith("20260601")]
    assert ph.r.xlen(UnitKeys("u2").log) == 4_000
    assert scores(ph, "p2") == open_before  # the open period: as it was
    again = ph.client.get("/api/v1/scores?period=p1", headers=ph.admin).json
    assert again["frozen"] is True and again["units"] == frozen and again["digest"] == result["digest"]
    assert ph.r.hget("rs:pruned", "p1")
    print(f"\nunit keys: {before / 1e6:.1f} MB before, {after / 1e6:.1f} MB after pruning 20,000 taps")


def test_an_interrupted_prune_is_finished_by_running_it_again(ph):
    seed(ph, ph.a, "2026-06-01", 50)
    seed(ph, ph.b, "2026-06-01", 50)
    close(ph)

    def stop(done, total):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prune(ph, on_unit=stop)
    assert ph.r.xlen(UnitKeys("u1").log) == 0 and ph.r.xlen(UnitKeys("u2").log) == 50
    assert ph.r.exists(UnitKeys("u2").day("20260601")) and not ph.r.exists(UnitKeys("u1").day("20260601"))
    assert prune(ph)["entries"] == 50  # u2's; u1 has nothing more to give
    assert ph.r.xlen(UnitKeys("u2").log) == 0 and not ph.r.exists(UnitKeys("u2").day("20260601"))
    assert prune(ph) == {"units": 2, "days": 1, "index": 0, "keys": 0, "entries": 0, "reasons": 0}


def test_an_open_period_reading_a_pruned_day_keeps_it_in_the_index(ph):
    """p0 (31 May) is open: its counts are read from the snapshot of the first day after it,
    1 June, which p1 alone had."""
    ph.period("p0", "2026-05-25", "2026-05-31")
    seed(ph, ph.a, "2026-05-31", 5)
    seed(ph, ph.a, "2026-06-01", 7, first=5)
    seed(ph, ph.a, "2026-06-03", 3, first=12)
    close(ph)
    open_before = scores(ph, "p0"), scores(ph, "p2")
    prune(ph)
    assert (scores(ph, "p0"), scores(ph, "p2")) == open_before
    assert days_of(ph.r, "u1") == ["20260531", "20260601", "20260603"]  # 1 June: an anchor
    assert not ph.r.exists(UnitKeys("u1").day("20260601"))
    assert ph.r.xlen(UnitKeys("u1").log) == 15  # 31 May's taps come first: nothing is trimmed


def test_an_open_case_keeps_its_tap_and_what_follows(ph):
    seed(ph, ph.a, "2026-06-01", 30)
    ph.clock.t = at("2026-06-01", 15) / 1000
    bad = tap_from(ph, ph.a, level=1).json["rating_id"]  # a 差评: its case stays open
    tap_from(ph, ph.a, level=5)
    close(ph)
    prune(ph)
    log = ph.r.xrange(UnitKeys("u1").log)
    assert log[0][0] == bad.partition(".")[2] and len(log) == 2 + 1  # the tap, its case's opening, one more
    resp = ph.client.get(f"/api/v1/units/u1/cases/{bad.partition('.')[2]}", headers=ph.admin)
    assert resp.status_code == 200 and resp.json["state"] == "new"
    cases = ph.client.get("/api/v1/cases?state=open", headers=ph.admin)
    assert cases.status_code == 200 and [c["rating_id"] for c in cases.json["cases"]] == [bad]
    assert [c.id for c in case_store.of_units(ph.r, ["u1"], open_only=True)] == [bad.partition(".")[2]]


def test_the_feed_goes_on_from_where_a_follower_was(ph):
    seed(ph, ph.a, "2026-06-01", 20)
    seed(ph, ph.b, "2026-06-02", 5)
    first = ph.client.get("/api/v1/scores/changes?period=p2&after=0&limit=500", headers=ph.admin).json
    close(ph)
    prune(ph)
    ph.clock.t = at("2026-06-03") / 1000
    tap_from(ph, ph.b, level=4)
    later = ph.client.get(f"/api/v1/scores/changes?period=p2&after={first['cursor']}", headers=ph.admin)
    assert later.status_code == 200
    assert [(c["unit"], c["day"]) for c in later.json["changes"]] == [("u2", "2026-06-03")]


def test_the_log_is_never_trimmed_past_what_the_feed_relayed(ph):
    seed(ph, ph.a, "2026-06-01", 10)
    ids = [eid for eid, _ in ph.r.xrange(UnitKeys("u1").log)]
    cut, _ = retention._cut(ph.r, "u1", lambda day: True, ids[4], None, "Asia/Shanghai")
    assert cut == ids[5]  # the first one not relayed
    cut, _ = retention._cut(ph.r, "u1", lambda day: True, ids[9], ids[2], "Asia/Shanghai")
    assert cut == ids[2]  # an open case's tap


@pytest.mark.parametrize("why", ["open", "soon", "missing", "changed"])
def test_a_period_is_pruned_only_once_closed_kept_long_enough_and_its_export_checks_out(ph, why):
    seed(ph, ph.a, "2026-06-01", 3)
    if why != "open":
        close(ph)
    if why == "missing":
        ph.export.unlink()
    if why == "changed":
        lines = ph.export.read_text().splitlines()
        tap = json.loads(lines[0])
        lines[0] = json.dumps({**tap, "level": tap["level"] % 5 + 1})
        ph.export.write_text("\n".join(lines) + "\n")
    code = {"open": "period_open", "soon": "retention", "missing": "export_missing",
            "changed": "export_invalid"}
    with pytest.raises(retention.PruneRefused) as refused:
        retention.prune(ph.r, "p1", str(ph.export), now=ph.clock(), tz="Asia/Shanghai",
                        retain_days=30 if why == "soon" else 0)
    assert refused.value.code == code[why]
    assert ph.r.xlen(UnitKeys("u1").log) == 3 and ph.r.exists(UnitKeys("u1").day("20260601"))


def test_the_command_line_prunes_with_the_close_audited(ph, runner):
    seed(ph, ph.a, "2026-06-01", 4)
    close(ph)
    env = {"RATINGSVC_EXPORT_DIR": str(ph.export.parent), "RATINGSVC_RETAIN_CLOSED_DAYS": "100000"}
    refused = runner.invoke(["periods", "prune", "p1"], env=env)
    assert refused.exit_code != 0 and "RETAIN_CLOSED_DAYS" in refused.output
    done = runner.invoke(["periods", "prune", "p1", "--now"], env=env)
    assert done.exit_code == 0, done.output
    assert "4 log entries trimmed" in done.output
    assert not ph.r.exists(UnitKeys("u1").day("20260601"))
    audit = ph.r.xrevrange("rs:audit", count=1)[0][1]
    assert "period.prune" in json.dumps(audit)
