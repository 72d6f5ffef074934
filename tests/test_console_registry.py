"""The evaluation office's registry in the console: categories, units and windows through forms
(the API's schemas, Chinese errors, every change audited), the unit search with paging, the
import with its preview and confirmation, and nobody else may open any of it."""

from __future__ import annotations

import re

import pytest

from ratingsvc import actions, audit, registry
from ratingsvc.registry import Category, Unit
from tests.console_helpers import browser_login, shot

HEADER = "category_id,category_name,unit_id,unit_name,windows"


def admin(console):
    return console.as_role("admin", username="office")


def state(r) -> tuple:
    """Everything the registry holds, and the audit log's length: unchanged = nothing written."""
    units = registry.list_units(r)
    return (registry.list_categories(r), units, [registry.list_windows(r, u.id) for u in units],
            len(list(audit.newest_first(r))))


def test_the_office_admin_keeps_categories_units_and_windows(console, r):
    client = admin(console)
    resp = console.post(client, "/console/registry/categories", {"id": "tax", "name": "税务"})
    assert resp.status_code == 302 and "done=category.create" in resp.headers["Location"]
    resp = console.post(client, "/console/registry/categories/tax", {"name": "税务服务"})  # active unticked
    assert resp.status_code == 302
    assert registry.get_category(r, "tax") == Category("tax", "税务服务", active=False)
    console.post(client, "/console/registry/categories/tax", {"name": "税务服务", "active": "1"})
    assert registry.get_category(r, "tax").active

    resp = console.post(client, "/console/registry/units/new",
                        {"id": "tax-cd", "name": "蔡甸税务局", "category": "tax", "active": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/console/registry/units/tax-cd")
    resp = console.post(client, "/console/registry/units/tax-cd",
                        {"name": "蔡甸区税务局", "category": "tax"})  # active unticked: deactivated
    assert resp.status_code == 302
    assert registry.get_unit(r, "tax-cd") == Unit("tax-cd", "蔡甸区税务局", "tax", active=False)

    resp = console.post(client, "/console/registry/units/tax-cd/windows/new", {
        "name": "1号窗口", "day": ["1", "2", "3", "4", "5"], "from0": "08:30", "to0": "12:00",
        "from1": "14:00", "to1": "17:30"})
    assert resp.status_code == 302
    (window,) = registry.list_windows(r, "tax-cd")
    assert window.name == "1号窗口" and window.active
    assert window.hours == {"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00", "14:00-17:30"]}
    page = client.get("/console/registry/units/tax-cd")
    assert "周一至周五 08:30-12:00、14:00-17:30" in page.text
    assert f'href="/console/registry/windows/{window.id}"' in page.text

    resp = console.post(client, f"/console/registry/windows/{window.id}", {"name": "综合窗口"})
    assert resp.status_code == 302  # nothing ticked or filled: always open; active unticked
    changed = registry.get_window(r, window.id)
    assert (changed.name, changed.active, changed.hours) == ("综合窗口", False, None)
    assert client.get(f"/console/registry/windows/{window.id}").status_code == 200

    assert console.audit_actions()[::-1][-7:] == [
        "category.create", "category.update", "category.update", "unit.create", "unit.update",
        "window.create", "window.update"]
    entry = next(audit.newest_first(r))
    assert entry.actor == "account:office" and entry.before["name"] == "1号窗口"


def seed(h):
    h.unit("u1", "tax")
    return h.window("u1")


@pytest.mark.parametrize(("path", "data", "said"), [
    ("/console/registry/categories", {"id": "tax", "name": ""}, "必填"),
    ("/console/registry/categories", {"id": "bad id!", "name": "税务"}, "只能由 1-40 个英文字母"),
    ("/console/registry/categories", {"id": "tax", "name": "重名"}, "该类别编号已存在"),
    ("/console/registry/categories/tax", {"name": "", "active": "1"}, "必填"),
    ("/console/registry/units/new", {"id": "u2", "name": "", "category": "tax"}, "必填"),
    ("/console/registry/units/new", {"id": "u 2", "name": "单位", "category": "tax"}, "只能由 1-40"),
    ("/console/registry/units/new", {"id": "u2", "name": "单位", "category": "nosuch"}, "没有这个类别"),
    ("/console/registry/units/new", {"id": "u1", "name": "单位", "category": "tax"}, "该单位编号已存在"),
    ("/console/registry/units/u1", {"name": "单位", "category": "nosuch", "active": "1"}, "没有这个类别"),
    ("/console/registry/units/u1", {"name": "x" * 101, "category": "tax"}, "须为 1-100 个字"),
    ("/console/registry/units/u1/windows/new", {"name": ""}, "必填"),
    ("/console/registry/units/u1/windows/new",
     {"name": "2号", "day": "1", "from0": "12:00", "to0": "08:00"}, "结束时间须晚于开始时间"),
    ("/console/registry/units/u1/windows/new",
     {"name": "2号", "day": "1", "from0": "8点", "to0": "12:00"}, "时间格式应为"),
    ("/console/registry/units/u1/windows/new",
     {"name": "2号", "from0": "08:00", "to0": "12:00"}, "请勾选适用的星期"),
    ("/console/registry/units/u1/windows/new", {"name": "2号", "day": "1"}, "至少填写一段开放时间"),
    ("/console/registry/units/u1/windows/new",
     {"name": "2号", "day": "9", "from0": "08:00", "to0": "12:00"}, "周一至周日"),
    ("/console/registry/windows/WID", {"name": "1号", "day": "1", "from0": "08:00"}, "同时填写开始和结束"),
])
def test_bad_input_is_a_400_page_in_chinese_and_writes_nothing(console, h, r, path, data, said):
    window = seed(h)
    path = path.replace("WID", str(window.id))
    client = admin(console)
    before = state(r)
    resp = console.post(client, path, data)
    assert resp.status_code == 400
    assert said in resp.text and 'class="field-error"' in resp.text
    assert "<form" in resp.text  # the form again, with what was sent
    assert state(r) == before


@pytest.mark.parametrize("path", ["/console/registry/units/nosuch", "/console/registry/units/bad%20id",
                                  "/console/registry/windows/999", "/console/registry/categories/nosuch",
                                  "/console/registry/units/nosuch/windows/new"])
def test_an_unknown_id_is_a_404_page(console, h, path):
    seed(h)
    resp = admin(console).get(path)
    assert resp.status_code == 404 and "没有找到" in resp.text


def registry_pages(window_id: int) -> list[tuple[str, str]]:
    return [("GET", "/console/registry"), ("GET", "/console/registry/units/new"),
            ("GET", "/console/registry/units/u1"), ("GET", "/console/registry/units/u1/windows/new"),
            ("GET", f"/console/registry/windows/{window_id}"), ("GET", "/console/registry/categories/tax"),
            ("GET", "/console/registry/import"),
            ("POST", "/console/registry/categories"), ("POST", "/console/registry/categories/tax"),
            ("POST", "/console/registry/units/new"), ("POST", "/console/registry/units/u1"),
            ("POST", "/console/registry/units/u1/windows/new"),
            ("POST", f"/console/registry/windows/{window_id}"), ("POST", "/console/registry/import"),
            ("POST", "/console/registry/import/confirm")]


@pytest.mark.parametrize(("role", "units"), [("staff", None), ("manager", ["u1"]), ("manager", ["u2"])])
def test_staff_and_managers_may_open_no_registry_page(console, h, r, role, units):
    window = seed(h)
    h.unit("u2", "tax")
    client = console.as_role(role, units)
    before = state(r)
    for method, path in registry_pages(window.id):
        data = {"id": "x", "name": "改名", "category": "tax", "active": "1", "token": "t", "fingerprint": "f"}
        resp = client.get(path) if method == "GET" else console.post(client, path, data)
        assert resp.status_code == 403, (method, path)
        assert "无权" in resp.text
    assert state(r) == before
    assert "登记与导入" not in client.get("/console/", follow_redirects=True).text


def test_logged_out_goes_to_the_login_page(console):
    resp = console.client().get("/console/registry/units/new")
    assert resp.status_code == 302 and "/console/login" in resp.headers["Location"]


def test_the_unit_search_pages_fifty_at_a_time(console, h, r):
    registry.save_category(r, Category("tax", "税务"), create=True)
    registry.save_category(r, Category("pol", "公安"), create=True)
    for i in range(120):
        registry.save_unit(r, Unit(f"u{i:03d}", f"{'派出所' if i % 2 else '税务所'}{i:03d}",
                                   "pol" if i % 2 else "tax"), create=True)
    client = admin(console)
    first = client.get("/console/registry")
    rows = re.findall(r'href="/console/registry/units/(u\d+)"', first.text)
    assert rows == [f"u{i:03d}" for i in range(50)]
    assert "第 1 / 3 页" in first.text and "共 120 个单位" in first.text
    last = client.get("/console/registry?page=3")
    assert re.findall(r'href="/console/registry/units/(u\d+)"', last.text) == [
        f"u{i:03d}" for i in range(100, 120)]
    found = client.get("/console/registry?q=派出所11")
    assert re.findall(r'href="/console/registry/units/(u\d+)"', found.text) == [
        "u111", "u113", "u115", "u117", "u119"]
    assert "符合条件 5 个" in found.text
    by_id = client.get("/console/registry?q=U07&category=pol")
    assert re.findall(r'href="/console/registry/units/(u\d+)"', by_id.text) == [
        f"u{i:03d}" for i in range(70, 80) if i % 2]
    assert client.get("/console/registry?page=99").status_code == 200  # past the end: the last page
    assert 'href="/console/registry/import"' in first.text
    assert 'href="/console/registry/units/new"' in first.text


# Import ----------------------------------------------------------------------------------
def csv_bytes(*rows: str) -> bytes:
    return "".join(line + "\r\n" for line in [HEADER, *rows]).encode()


def upload(console, client, data: bytes, name: str = "units.csv", **extra):
    import io

    return console.post(client, "/console/registry/import", {"file": (io.BytesIO(data), name), **extra},
                        content_type="multipart/form-data")


def form_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(token|fingerprint)" value="([^"]+)"', html))


def test_an_import_is_previewed_then_confirmed(console, h, r):
    h.unit("st-001", "station", name="旧名")
    client = admin(console)
    preview = upload(console, client, csv_bytes("office,区直机关,of-001,区委办公室,综合受理窗口|咨询窗口",
                                                "station,类别station,st-001,蔡甸街派出所,1号窗口"))
    assert preview.status_code == 200
    assert "新增类别（1）" in preview.text and "变更单位（1）" in preview.text
    assert re.search(r"旧名</span> → <span class=\"new\">蔡甸街派出所", preview.text)
    assert "确认导入" in preview.text
    assert registry.list_windows(r, "st-001") == []  # a preview writes nothing
    resp = console.post(client, "/console/registry/import/confirm", form_values(preview.text))
    assert resp.status_code == 302 and "done=import" in resp.headers["Location"]
    assert registry.get_unit(r, "st-001").name == "蔡甸街派出所"
    assert [w.name for w in registry.list_windows(r, "of-001")] == ["综合受理窗口", "咨询窗口"]
    entry = next(audit.newest_first(r))
    assert (entry.action, entry.target, entry.actor) == (
        "registry.import", "import:units.csv", "account:office")
    assert entry.after["counts"]["unit.new"] == 1 and entry.after["counts"]["window.new"] == 3
    # the kept file is gone: it cannot be confirmed twice
    again = console.post(client, "/console/registry/import/confirm", form_values(preview.text))
    assert again.status_code == 400 and "重新上传" in again.text


def test_a_plan_that_changed_since_its_preview_is_shown_again_not_written(console, h, r):
    client = admin(console)
    preview = upload(console, client, csv_bytes("office,区直机关,of-001,区委办公室,综合受理窗口"))
    actions.create_category(r, audit.cli_actor(), 0, Category("office", "区直机关"))  # someone else
    before = state(r)
    resp = console.post(client, "/console/registry/import/confirm", form_values(preview.text))
    assert resp.status_code == 409 and "已有变动" in resp.text
    assert state(r) == before
    assert "新增类别" not in resp.text and "确认导入" in resp.text
    resp = console.post(client, "/console/registry/import/confirm", form_values(resp.text))
    assert resp.status_code == 302 and registry.get_unit(r, "of-001").name == "区委办公室"


def test_conflicts_and_file_errors_cannot_be_confirmed(console, h, r):
    h.unit("st-001", "station")  # stored as 类别station
    client = admin(console)
    before = state(r)
    conflict = upload(console, client, csv_bytes("station,基层站所,st-001,派出所,1号窗口"))
    assert conflict.status_code == 200 and "冲突（1 处）" in conflict.text and "确认导入" not in conflict.text
    token = re.search(r'name="token" value="([^"]+)"', conflict.text)
    assert token is None
    bad = upload(console, client, csv_bytes("office,区直机关,of 001,区委办公室,窗口",
                                            "office,区直机关,of-2,,窗口"))
    assert bad.status_code == 400 and "文件有错误（2 处）" in bad.text
    assert re.search(r'<td class="num">2</td><td>第 2 行 单位编号 不合规', bad.text)
    assert re.search(r'<td class="num">3</td><td>第 3 行 单位名称 不合规', bad.text)
    garbage = upload(console, client, b"\x00\xff\xfe not a table", name="x.xlsx")
    assert garbage.status_code == 400 and "文件有错误" in garbage.text
    # a conflict's upload confirmed by hand (its token read from the store) is still refused
    from ratingsvc import uploads

    kept = uploads.keep(r, "office", "u.csv", csv_bytes("station,基层站所,st-001,派出所,1号窗口"))
    resp = console.post(client, "/console/registry/import/confirm", {"token": kept.token, "fingerprint": "x"})
    assert resp.status_code == 400 and "有冲突" in resp.text
    assert state(r) == before
    assert upload(console, client, b"").status_code == 400


def test_an_upload_is_only_its_uploaders(console, r):
    client = admin(console)
    preview = upload(console, client, csv_bytes("office,区直机关,of-001,区委办公室,窗口"))
    other = console.as_role("admin", username="office2")
    resp = console.post(other, "/console/registry/import/confirm", form_values(preview.text))
    assert resp.status_code == 400 and registry.list_units(r) == []


def test_the_command_line_import_is_audited(r, runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(csv_bytes("office,区直机关,of-001,区委办公室,窗口"))
    result = runner.invoke(["units", "import", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    entry = next(audit.newest_first(r))
    assert entry.action == "registry.import" and entry.actor_kind == "cli"
    assert entry.after == {"counts": {"category.new": 1, "unit.new": 1, "window.new": 1}}


# In a browser ----------------------------------------------------------------------------
def test_an_office_admin_imports_a_csv_with_a_mistake_then_fixes_it(console, h, r, live, browser, tmp_path):
    h.unit("st-001", "station", name="蔡甸街派出所")
    console.account("office", "admin")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        browser_login(page, live, "office")
        page.goto(f"{live}/console/registry")
        shot(page, "registry-index")
        page.click("text=从 CSV / Excel 导入")
        wrong = tmp_path / "单位.csv"
        wrong.write_bytes(csv_bytes("office,区直机关,of-001,区委办公室,综合受理窗口|咨询窗口",
                                    "station,基层站所,st-001,蔡甸街派出所,1号窗口|2号窗口",
                                    "office,区直机关,of 002,区政府办公室,综合窗口"))
        page.set_input_files("input[type=file]", str(wrong))
        page.click("text=上传并预览")
        assert "文件有错误（1 处）" in page.inner_text("#file-errors")
        assert page.locator("text=确认导入").count() == 0
        shot(page, "registry-import-file-error")

        conflict = tmp_path / "单位2.csv"
        conflict.write_bytes(csv_bytes("office,区直机关,of-001,区委办公室,综合受理窗口|咨询窗口",
                                       "station,基层站所,st-001,蔡甸街派出所,1号窗口|2号窗口",
                                       "office,区直机关,of-002,区政府办公室,综合窗口"))
        page.set_input_files("input[type=file]", str(conflict))
        page.click("text=上传并预览")
        assert "与已存名称“类别station”不同" in page.inner_text("#conflicts")
        assert page.locator("text=确认导入").count() == 0
        shot(page, "registry-import-conflict")

        fixed = tmp_path / "单位3.csv"
        fixed.write_bytes(csv_bytes("office,区直机关,of-001,区委办公室,综合受理窗口|咨询窗口",
                                    "station,类别station,st-001,蔡甸街派出所,1号窗口|2号窗口",
                                    "office,区直机关,of-002,区政府办公室,综合窗口"))
        page.set_input_files("input[type=file]", str(fixed))
        page.click("text=上传并预览")
        preview = page.inner_text("#preview")
        assert "新增单位（2）" in preview and "变更单位（1）" in preview
        shot(page, "registry-import-preview")
        page.click("text=确认导入")
        page.wait_for_url("**/console/registry?done=import*")
        assert "已导入：单位3.csv" in page.inner_text(".alert-ok")
        page.fill("input[name=q]", "办公室")
        page.click("button:has-text('查询')")
        rows = page.inner_text("#units table")
        assert "区委办公室" in rows and "区政府办公室" in rows
        shot(page, "registry-after-import")
        page.click("a[href='/console/registry/units/of-001']")
        assert page.locator("td", has_text="咨询窗口").count() == 1
        shot(page, "registry-unit")
    finally:
        page.close()
    assert {w.name for w in registry.list_windows(r, "st-001")} == {"1号窗口", "2号窗口"}
    assert console.audit_actions()[0] == "registry.import"


def test_a_window_form_in_a_browser(console, h, r, live, browser):
    window = seed(h)
    console.account("office", "admin")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        browser_login(page, live, "office")
        page.goto(f"{live}/console/registry/windows/{window.id}")
        for day in ("1", "2", "3", "4", "5"):
            page.check(f"input[name=day][value='{day}']")
        page.fill("input[name=from0]", "12:00")
        page.fill("input[name=to0]", "08:30")
        page.click("button:has-text('保存')")
        assert "结束时间须晚于开始时间" in page.inner_text(".hours")
        shot(page, "registry-window-error")
        page.fill("input[name=from0]", "08:30")
        page.fill("input[name=to0]", "12:00")
        page.click("button:has-text('保存')")
        page.wait_for_url("**/console/registry/units/u1?done=window.update*")
        assert "周一至周五 08:30-12:00" in page.inner_text("table")
    finally:
        page.close()
    assert registry.get_window(r, window.id).hours == {"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00"]}
