"""The registry over HTTP and from CSV: categories, units, windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratingsvc import registry

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "units.csv"


def test_admin_creates_lists_updates_and_deactivates(h):
    c, a = h.client, h.admin
    assert c.post("/api/v1/categories", headers=a, json={"id": "gov", "name": "政府部门"}).status_code == 201
    resp = c.post("/api/v1/units", headers=a, json={"id": "tax", "name": "税务局", "category": "gov"})
    assert resp.status_code == 201 and resp.json == {"id": "tax", "name": "税务局", "category": "gov",
                                                      "active": True}
    win = c.post("/api/v1/units/tax/windows", headers=a, json={"name": "1号窗口"})
    assert win.status_code == 201 and win.json["epoch"] == 1
    assert win.json["rating_url"].startswith("HTTPS://PJ.CAIDIAN.GOV.CN/R/")
    wid = win.json["id"]
    assert [w["id"] for w in c.get("/api/v1/units/tax/windows", headers=a).json] == [wid]
    assert c.patch("/api/v1/units/tax", headers=a, json={"name": "区税务局"}).json["name"] == "区税务局"
    assert c.patch(f"/api/v1/windows/{wid}", headers=a, json={"name": "综合窗口"}).json["name"] == "综合窗口"
    assert [u["id"] for u in c.get("/api/v1/units?category=gov", headers=a).json] == ["tax"]
    assert c.get("/api/v1/units?category=other", headers=a).json == []
    token = win.json["rating_url"].rsplit("/", 1)[1]
    assert c.get(f"/api/v1/scan/{token}").status_code == 200
    assert c.patch(f"/api/v1/windows/{wid}", headers=a, json={"active": False}).json["active"] is False
    assert c.get(f"/api/v1/scan/{token}").status_code == 410
    assert c.patch(f"/api/v1/windows/{wid}", headers=a, json={"active": True}).status_code == 200
    assert c.patch("/api/v1/units/tax", headers=a, json={"active": False}).status_code == 200
    assert c.get(f"/api/v1/scan/{token}").status_code == 410
    assert c.patch("/api/v1/categories/gov", headers=a, json={"name": "部门"}).json["name"] == "部门"


@pytest.mark.parametrize(("method", "path", "body", "code"), [
    ("get", "/api/v1/units/ghost", None, "unknown_unit"),
    ("patch", "/api/v1/units/ghost", {"name": "x"}, "unknown_unit"),
    ("get", "/api/v1/units/ghost/windows", None, "unknown_unit"),
    ("post", "/api/v1/units/ghost/windows", {"name": "x"}, "unknown_unit"),
    ("get", "/api/v1/windows/999", None, "unknown_window"),
    ("patch", "/api/v1/windows/999", {"name": "x"}, "unknown_window"),
    ("post", "/api/v1/windows/999/revoke", None, "unknown_window"),
    ("get", "/api/v1/windows/999/qr.png", None, "unknown_window"),
    ("patch", "/api/v1/categories/ghost", {"name": "x"}, "unknown_category"),
    ("post", "/api/v1/units", {"id": "x", "name": "x", "category": "ghost"}, "unknown_category"),
])
def test_unknown_ids_get_404_json(h, method, path, body, code):
    resp = getattr(h.client, method)(path, headers=h.admin, json=body)
    assert resp.status_code == 404 and resp.json["error"]["code"] == code


def test_existing_ids_get_409_and_bad_ids_400(h):
    h.unit("u1")
    resp = h.client.post("/api/v1/units", headers=h.admin, json={"id": "u1", "name": "x", "category": "c1"})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "unit_exists"
    for bad in ["has space", "{tag}", "x" * 41, ""]:
        body = {"id": bad, "name": "x", "category": "c1"}
        resp = h.client.post("/api/v1/units", headers=h.admin, json=body)
        assert resp.status_code == 400, bad


def test_import_the_example_district_from_the_command_line(r, runner):
    result = runner.invoke(args=["units", "import", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    units = registry.list_units(r)
    assert len(units) == 330
    assert {u.category for u in units} == {"office", "station"}
    assert sum(1 for u in units if u.category == "office") == 57
    windows = sum(len(registry.list_windows(r, u.id)) for u in units)
    assert f"新增 new：类别 2，单位 330，窗口 {windows}" in result.output
    assert f"已写入 written：类别 新增 2，单位 新增 330，窗口 新增 {windows}" in result.output
    again = runner.invoke(args=["units", "import", str(EXAMPLE)])
    assert "不变 unchanged：类别 2，单位 330" in again.output and "nothing to write" in again.output


def test_a_bad_csv_writes_nothing(r, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("category_id,category_name,unit_id,unit_name,windows\n"
                   "c1,类别,u1,单位,1号窗口\n"
                   "c1,类别,u 2,单位,1号窗口\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(bad)])
    assert result.exit_code != 0 and "第 3 行 单位编号 不合规 (line 3: bad unit_id)" in result.output
    assert "nothing was imported" in result.output
    assert registry.list_units(r) == []
