"""The feed's rows follow the change stream (views.scores.rows_of, scoring.Follow): once it has
read a category's units exactly, a page reads again only the units with changes since, and
its rows are still the table's rows (as a worker that keeps nothing computes them)."""

from __future__ import annotations

import time

import pytest

from ratingsvc import registry, scoring
from ratingsvc.records import Unit
from ratingsvc.rkeys import UnitKeys
from ratingsvc.views import scores
from tests.helpers import tap_from


@pytest.fixture
def fr(rules):
    """Five units in two categories, each with a tap; a scorer following the feed."""
    h = rules(SCORE_MIN_N=1, FEED_SWEEP_SECONDS=3)
    h.period("p1", "2026-05-01", "2026-09-30")
    for uid, cat in (("u1", "c1"), ("u2", "c1"), ("u3", "c1"), ("u4", "c2"), ("u5", "c2")):
        h.unit(uid, cat)
    h.wins = {u: h.window(u) for u in ("u1", "u2", "u3", "u4", "u5")}
    h.scorer = h.key("scorer")
    h.cursor = "0"
    for i, uid in enumerate(h.wins):
        assert tap_from(h, h.wins[uid], level=1 + i, ip=f"203.0.113.{10 + i}").status_code == 201
    return h


def next_page(h) -> list[dict]:
    resp = h.client.get(f"/api/v1/scores/changes?period=p1&after={h.cursor}&limit=500", headers=h.scorer)
    assert resp.status_code == 200, resp.json
    h.cursor = resp.json["cursor"]
    return resp.json["changes"]


def fresh_rows(h) -> dict[str, dict]:
    """The table's rows as a worker with nothing kept computes them."""
    app = h.app
    with app.test_request_context():
        kept = app.extensions["ratingsvc.counts_cache"]
        app.extensions["ratingsvc.counts_cache"] = scoring.CountsCache()
        try:
            from ratingsvc import periods
            table = scores.compute(periods.get_period(h.r, "p1"))
        finally:
            app.extensions["ratingsvc.counts_cache"] = kept
    return {row["unit"]: row for row in table["units"]}


def assert_rows_exact(h, changes: list[dict]) -> None:
    assert changes
    fresh = fresh_rows(h)
    for change in changes:
        assert change["score"] == fresh.get(change["unit"]), change["unit"]


def test_rows_follow_taps_registry_changes_and_cases_exactly(fr, monkeypatch):
    h = fr
    first = next_page(h)  # the first page reads every unit's version
    assert [c["unit"] for c in first] == ["u1", "u2", "u3", "u4", "u5"]
    assert_rows_exact(h, first)
    exact = []  # rows_of's reads of every unit's version
    real = scores._exactly
    monkeypatch.setattr(scores, "_exactly", lambda *a, **k: exact.append(1) or real(*a, **k))
    for level, uid in ((5, "u1"), (2, "u2"), (4, "u4"), (1, "u1"), (3, "u5")):
        tap_from(h, h.wins[uid], level=level)
        changes = next_page(h)
        assert [c["unit"] for c in changes] == [uid]
        assert_rows_exact(h, changes)  # u1's tap moves u2's and u3's ranks: they are in the table
    assert not exact  # followed: no unit's version read again
    rid = tap_from(h, h.wins["u3"], level=1).json["rating_id"]  # a 差评: a case opens
    unit, sid = rid.rsplit(".", 1)
    verified = h.client.post(f"/api/v1/units/{unit}/cases/{sid}/verify", headers=h.key("manager", ("u3",)),
                             json={"note": "回访"})
    assert verified.status_code == 200, verified.json
    tap_from(h, h.wins["u3"], level=5)
    changes = next_page(h)
    assert [c["unit"] for c in changes] == ["u3", "u3"]
    assert changes[-1]["score"]["cases"]["median_verify_days"] is not None  # the case's step shows
    assert_rows_exact(h, changes)
    assert not exact
    registry.save_unit(h.r, Unit("u2", "改名", "c2"), create=False)  # renamed and moved: the registry
    registry.save_unit(h.r, Unit("u4", "单位u4", "c2", active=False), create=False)
    for uid in ("u2", "u5"):
        tap_from(h, h.wins[uid], level=4)
    changes = next_page(h)
    assert_rows_exact(h, changes)
    assert changes[0]["score"]["name"] == "改名" and changes[0]["score"]["category"] == "c2"
    assert exact  # the registry moved: every version read again


def test_a_change_whose_mark_was_lost_shows_within_the_sweep_seconds(fr):
    """A count whose unit was not marked (the app stopped between its script and the mark) is
    not in the stream: rows read every version again once FEED_SWEEP_SECONDS have passed."""
    h = fr
    next_page(h)
    h.r.hincrby(UnitKeys("u1").tot, "5", 50)  # counts as a script changes them, unmarked
    h.r.incr(UnitKeys("u1").version)
    tap_from(h, h.wins["u2"], level=3)
    changes = next_page(h)
    assert changes[0]["score"] != fresh_rows(h)["u2"]  # u1's 50 taps not seen yet: followed
    time.sleep(3.2)
    tap_from(h, h.wins["u2"], level=3)
    assert_rows_exact(h, next_page(h))


def test_registry_writes_move_the_units_versions_and_the_registry_version(fr):
    """What kept counts (CountsCache) and followed rows (Follow) rely on, for the single and
    the bulk write (`units import`)."""
    from ratingsvc import registrybulk, rkeys

    h = fr
    assert h.client.get("/api/v1/scores?period=p1", headers=h.scorer).status_code == 200  # kept
    keys = [UnitKeys("u1").version, UnitKeys("u2").version, rkeys.REGISTRY_VERSION]  # three slots
    before = [h.r.get(k) for k in keys]
    registry.save_unit(h.r, Unit("u1", "新名", "c1"), create=False)
    registrybulk.save_units(h.r, [Unit("u2", "另一新名", "c2")], new=set())
    after = [h.r.get(k) for k in keys]
    assert [int(a) - int(b or 0) for a, b in zip(after, before, strict=True)] == [1, 1, 2]
    table = h.client.get("/api/v1/scores?period=p1", headers=h.scorer).json["units"]
    names = {u["unit"]: (u["name"], u["category"]) for u in table}
    assert names["u1"] == ("新名", "c1") and names["u2"] == ("另一新名", "c2")
