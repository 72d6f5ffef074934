"""One unit's score, and one category's, read only that category's units (ratingsvc.catunits),
and say exactly what the whole table says of them."""

from __future__ import annotations

import random
import re

import pytest

from ratingsvc import catunits, importer, importplan, registry, rkeys
from ratingsvc.registry import Category, Unit
from tests.test_registry_steps import Interrupted, Monitor

TAGGED = re.compile(r"\{u\.([^}]+)\}")


def moved_halfway(h, monkeypatch, unit: Unit, step: str) -> None:
    """save_unit interrupted after the step of that name (never retried)."""
    def after(name: str) -> None:
        if name == step:
            raise Interrupted(name)

    with monkeypatch.context() as m:
        m.setattr(registry, "_after_step", after)
        with pytest.raises(Interrupted):
            registry.save_unit(h.r, unit, create=False)


@pytest.fixture
def province(rules, monkeypatch):
    """Four categories of units with random taps (差评 among them, so cases), ties, inactive
    units, units moved between categories (one of them left in its old category's set by an
    interrupted write), and a unit half made (in a set, not in the registry)."""
    h = rules(SCORE_MIN_N=3)
    rng = random.Random(14)
    h.period("p1", "2026-05-01", "2026-09-30")
    windows = {}
    for i in range(24):
        uid = f"u{i:02d}"
        h.unit(uid, f"c{i % 4}")
        windows[uid] = registry.create_window(h.r, uid, "1号窗口")
    for win in windows.values():
        for _ in range(rng.randint(0, 7)):
            assert h.tap(win, rng.randint(1, 5), rater=h.rater()).status_code == 201
    for uid in ("u30", "u34"):  # a tie in c2: the same taps
        h.unit(uid, "c2")
        win = registry.create_window(h.r, uid, "1号窗口")
        for _ in range(4):
            assert h.tap(win, 4, rater=h.rater()).status_code == 201
    registry.save_unit(h.r, Unit("u05", "停用的单位", "c1", active=False), create=False)
    registry.save_unit(h.r, Unit("u02", "搬走的单位", "c3"), create=False)
    moved_halfway(h, monkeypatch, Unit("u07", "搬了一半", "c0"), "unit u07 listed")
    h.r.hset(registry.UnitKeys("u99").info, mapping={"name": "半成品", "category": "c2", "active": "1"})
    h.r.sadd(rkeys.category_units("c2"), "u99")  # as a create interrupted after its record
    assert h.r.sismember(rkeys.category_units("c3"), "u07")  # still in the set it left
    return h


@pytest.mark.parametrize("index", ["kept", "from before"])
def test_every_units_score_and_every_categorys_table_is_the_whole_tables(province, index):
    h = province
    if index == "from before":  # a database from before the sets: the first reader builds them
        h.r.delete(rkeys.CATEGORY_UNITS_READY, *(rkeys.category_units(f"c{c}") for c in range(4)))
    scorer = h.key("scorer")
    table = h.client.get("/api/v1/scores?period=p1", headers=scorer).json
    rows = {u["unit"]: u for u in table["units"]}
    assert "u05" not in rows and "u99" not in rows and rows["u07"]["category"] == "c0"
    assert rows["u30"]["rank"] == rows["u34"]["rank"] is not None
    assert sum(u["cases"]["bad"] for u in table["units"]) > 0
    assert sum(u["rank"] is not None for u in table["units"]) > 8
    for uid, row in rows.items():
        one = h.client.get(f"/api/v1/units/{uid}/score?period=p1", headers=scorer)
        assert one.status_code == 200 and one.json == row, uid
    for c in range(4):
        cat = h.client.get(f"/api/v1/scores?period=p1&category=c{c}", headers=scorer).json
        assert cat["units"] == [u for u in table["units"] if u["category"] == f"c{c}"]
        assert cat["categories"] == {f"c{c}": table["categories"][f"c{c}"]}
    assert h.client.get("/api/v1/units/u05/score?period=p1", headers=scorer).status_code == 404


@pytest.mark.single_redis  # MONITOR sees one server
def test_a_units_score_reads_only_its_category_and_only_its_own_cases(province):
    h = province
    scorer = h.key("scorer")
    h.client.get("/api/v1/units/u01/score?period=p1", headers=scorer)  # the sets built, counts kept
    assert h.tap(registry.list_windows(h.r, "u01")[0], 1, rater=h.rater()).status_code == 201  # a case
    with Monitor(h.r) as seen:
        assert h.client.get("/api/v1/units/u01/score?period=p1", headers=scorer).status_code == 200
    touched = {uid for _, args in seen.commands for a in args for uid in TAGGED.findall(a)}
    in_c1 = {u.id for u in registry.list_units(h.r, "c1")}
    assert "u01" in touched and touched <= in_c1
    # (each unit's case version is read with its counts' state, for the category's table)
    case_keys = {key for u in in_c1 for k in [registry.UnitKeys(u)]
                 for key in (k.cases, k.all_cases, k.appeals)}
    cases_read = {uid for _, args in seen.commands if args[1:2] and args[1] in case_keys
                  for uid in TAGGED.findall(args[1])}
    assert cases_read == {"u01"}


def test_the_sets_follow_imports_edits_and_moves(h, tmp_path):
    csv = tmp_path / "units.csv"
    csv.write_text("category_id,category_name,unit_id,unit_name,windows\n"
                   "c1,类别c1,u1,税务局,1号窗口\nc2,服务站,u2,便民服务站,综合窗口\n"
                   "c2,服务站,u3,社保站,1号窗口\n", encoding="utf-8")
    importplan.apply(h.r, importplan.make_plan(importer.read_file(csv).rows, importplan.read_current(h.r)))
    assert (catunits.members(h.r, "c1"), catunits.members(h.r, "c2")) == (["u1"], ["u2", "u3"])
    resp = h.client.patch("/api/v1/units/u3", headers=h.admin, json={"category": "c1"})
    assert resp.status_code == 200
    registry.save_category(h.r, Category("c2", "改名的服务站", active=False), create=False)
    assert (catunits.members(h.r, "c1"), catunits.members(h.r, "c2")) == (["u1", "u3"], ["u2"])
    csv.write_text("category_id,category_name,unit_id,unit_name,windows\n"
                   "c2,改名的服务站,u1,税务局,1号窗口\n", encoding="utf-8")
    importplan.apply(h.r, importplan.make_plan(importer.read_file(csv).rows, importplan.read_current(h.r)))
    assert (catunits.members(h.r, "c1"), catunits.members(h.r, "c2")) == (["u3"], ["u1", "u2"])
