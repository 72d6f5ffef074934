"""The console's periods: create, correct before the start, close (confirmation, progress),
download the export and the result, the ranking report; who may do which; the API's PATCH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ratingsvc import audit, closing, periods
from tests.conftest import START
from tests.console_helpers import PASSWORD, browser_login, shot

DAY = 86400


@pytest.fixture
def config(config, tmp_path):
    return {**config, "EXPORT_DIR": str(tmp_path / "exports")}


def ended(h, clock, pid="may"):
    """A period of May with taps made inside it (two units), the clock back on 1 June."""
    h.period(pid, "2026-05-01", "2026-05-31")
    clock.t = START - 10 * DAY  # 22 May
    a, b = h.window("u1", "A"), h.window("u2", "B")
    for window, level in [(a, 5), (a, 4), (b, 2)]:
        assert h.tap(window, level, rater=h.rater()).status_code == 201
    clock.t = START
    return a, b


def form(**values):
    return {"id": "2026H2", "name": "2026 年下半年", "start": "2026-07-01", "end": "2026-12-31", **values}


# Create and correct ------------------------------------------------------------------------
def test_an_admin_creates_a_period_through_the_form_audited(console, r):
    admin = console.as_role("admin")
    resp = console.post(admin, "/console/periods", form())
    assert resp.status_code == 302 and "done=created" in resp.location
    assert periods.get_period(r, "2026H2").name == "2026 年下半年"
    assert "period.create" in console.audit_actions()
    page = admin.get(resp.location).text
    assert "已创建评议期 2026H2" in page and "未开始" in page


@pytest.mark.parametrize("values, says", [
    ({"end": "2026-06-30"}, "结束日期：结束日期早于开始日期"),
    ({"id": "two words"}, "编号：应为 1–40 个字母"),
    ({"name": ""}, "名称：缺少必填字段"),
    ({"start": "2026-13-01"}, "开始日期：应为日期"),
])
def test_a_bad_form_is_refused_in_chinese_through_the_apis_schema(console, r, values, says):
    admin = console.as_role("admin")
    resp = console.post(admin, "/console/periods", form(**values))
    assert resp.status_code == 400 and says in resp.text
    assert periods.list_periods(r) == [] and "period.create" not in console.audit_actions()


def test_an_existing_id_is_refused(console, h):
    h.period("2026H2")
    admin = console.as_role("admin")
    resp = console.post(admin, "/console/periods", form())
    assert resp.status_code == 409 and "已存在" in resp.text


def test_a_period_is_corrected_before_it_starts_audited_with_before_and_after(console, r):
    admin = console.as_role("admin")
    console.post(admin, "/console/periods", form())
    assert "更正" in admin.get("/console/periods/2026H2/edit").text
    resp = console.post(admin, "/console/periods/2026H2/edit",
                        {"name": "下半年（更正）", "start": "2026-07-02", "end": "2026-12-30"})
    assert resp.status_code == 302 and "done=updated" in resp.location
    p = periods.get_period(r, "2026H2")
    assert (p.name, str(p.start), str(p.end)) == ("下半年（更正）", "2026-07-02", "2026-12-30")

    entry = next(iter(audit.newest_first(r)))
    assert entry.action == "period.update" and entry.target == "period:2026H2"
    assert entry.before["name"] == "2026 年下半年" and entry.after["start"] == "2026-07-02"


def test_a_period_that_has_started_is_not_corrected(console, h, r):
    h.period("p1", "2026-06-01", "2026-06-30")  # starts today, 1 June
    admin = console.as_role("admin")
    assert "已于 2026-06-01 开始，不能再更正" in admin.get("/console/periods/p1/edit").text
    resp = console.post(admin, "/console/periods/p1/edit",
                        {"name": "改名", "start": "2026-06-02", "end": "2026-06-30"})
    assert resp.status_code == 409 and "已于 2026-06-01 开始，不能再更正名称或日期" in resp.text
    assert periods.get_period(r, "p1").name == "p1" and "period.update" not in console.audit_actions()


def test_the_list_shows_each_state(console, h, clock):
    ended(h, clock, "may")
    h.period("june", "2026-06-01", "2026-06-30")
    h.period("july", "2026-07-01", "2026-07-31")
    h.period("april", "2026-04-01", "2026-04-30")
    staff = console.as_role("staff")
    admin = console.as_role("admin")
    assert console.post(admin, "/console/periods/april/close").status_code == 302
    page = staff.get("/console/periods").text
    for pid, shown in [("may", "已结束待关闭"), ("june", "进行中"), ("july", "未开始"), ("april", "已关闭")]:
        row = page[page.index(f'id="period-{pid}"'):].split("</tr>")[0]
        assert shown in row, pid


# Close, download ---------------------------------------------------------------------------
def test_an_admin_closes_through_the_form_and_downloads_what_verify_accepts(console, h, clock, r):
    ended(h, clock)
    admin = console.as_role("admin")
    page = admin.get("/console/periods/may/close").text
    assert "关闭后不能撤销" in page and "本期约 3 条" in page and "正在关闭…" in page
    resp = console.post(admin, "/console/periods/may/close")
    assert resp.status_code == 302 and "done=closed" in resp.location
    assert "评议期 may 已关闭" in admin.get(resp.location).text
    assert console.audit_actions()[0] == "period.close"
    with admin.get("/console/periods/may/export") as export:
        assert export.status_code == 200 and export.mimetype == "application/x-ndjson"
        assert "filename=may.jsonl" in export.headers["Content-Disposition"]
        lines = export.data.decode().splitlines()
    result = admin.get("/console/periods/may/result")
    assert 'filename="may.result.json"' in result.headers["Content-Disposition"]
    stored = json.loads(result.data)
    assert stored == closing.stored_result(r, "may") and stored["taps"] == 3
    assert len(lines) == 4 and closing.verify(lines, stored) == []  # 3 taps, a case opened
    again = console.post(admin, "/console/periods/may/close")
    assert again.status_code == 409 and "已经关闭" in again.text


def test_a_period_not_over_is_not_closed_and_htmx_gets_the_box_with_the_reason(console, h, clock, r):
    h.period("june", "2026-06-01", "2026-06-30")
    admin = console.as_role("admin")
    assert "结束后才能关闭" in admin.get("/console/periods/june/close").text
    plain = console.post(admin, "/console/periods/june/close")
    assert plain.status_code == 409 and "请在此之后再关闭" in plain.text
    token = console.token(admin)
    hx = admin.post("/console/periods/june/close", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert hx.status_code == 200 and 'id="close-box"' in hx.text and "请在此之后再关闭" in hx.text
    assert closing.stored_result(r, "june") is None


def test_htmx_closing_sends_the_browser_to_the_list(console, h, clock):
    ended(h, clock)
    admin = console.as_role("admin")
    token = console.token(admin)
    hx = admin.post("/console/periods/may/close", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert hx.status_code == 204 and hx.headers["HX-Redirect"].endswith("done=closed&pid=may")


def test_the_report_is_the_apis_printable_page(console, h, clock):
    ended(h, clock)
    staff = console.as_role("staff")
    mine = staff.get("/console/periods/may/report?n=3")
    api = h.client.get("/api/v1/periods/may/report?format=html&n=3", headers=h.admin)
    assert mine.status_code == 200 and mine.mimetype == "text/html" and mine.data == api.data
    assert staff.get("/console/periods/may/report?n=99").status_code == 400


def test_an_open_period_has_no_export_yet(console, h, clock):
    ended(h, clock)
    staff = console.as_role("staff")
    resp = staff.get("/console/periods/may/export")
    assert resp.status_code == 409 and "尚未关闭" in resp.text


# Who may -----------------------------------------------------------------------------------
def test_staff_read_but_do_not_create_correct_or_close(console, h, clock, r):
    ended(h, clock)
    h.period("july", "2026-07-01", "2026-07-31")
    staff = console.as_role("staff")
    page = staff.get("/console/periods").text
    assert "july" in page and "新建评议期" not in page and "关闭…" not in page and ">更正<" not in page
    assert console.post(staff, "/console/periods", form()).status_code == 403
    assert staff.get("/console/periods/july/edit").status_code == 403
    assert console.post(staff, "/console/periods/july/edit", form(id="july")).status_code == 403
    assert staff.get("/console/periods/may/close").status_code == 403
    assert console.post(staff, "/console/periods/may/close").status_code == 403
    assert closing.stored_result(r, "may") is None and "2026H2" not in [p.id for p in periods.list_periods(r)]


def test_a_manager_lists_periods_but_gets_no_results(console, h, clock):
    ended(h, clock)
    admin = console.as_role("admin")
    console.post(admin, "/console/periods/may/close")
    manager = console.as_role("manager", ["u1"])
    assert manager.get("/console/periods").status_code == 200
    for path in ("export", "result", "report", "close", "edit"):
        assert manager.get(f"/console/periods/may/{path}").status_code == 403, path


def test_logged_out_goes_to_the_login(client):
    resp = client.get("/console/periods")
    assert resp.status_code == 302 and "/console/login" in resp.location


# The API's correction ----------------------------------------------------------------------
def test_the_api_corrects_a_period_before_it_starts_and_refuses_after(h, r):
    h.period("july", "2026-07-01", "2026-07-31")
    h.period("june", "2026-06-01", "2026-06-30")
    resp = h.client.patch("/api/v1/periods/july", headers=h.admin, json={"name": "七月", "end": "2026-08-01"})
    assert resp.status_code == 200 and resp.json == {"id": "july", "name": "七月", "start": "2026-07-01",
                                                     "end": "2026-08-01"}

    entry = next(iter(audit.newest_first(r)))
    assert entry.action == "period.update" and entry.before["end"] == "2026-07-31"
    late = h.client.patch("/api/v1/periods/june", headers=h.admin, json={"name": "x"})
    assert late.status_code == 409 and late.json["error"]["code"] == "period_started"
    backwards = h.client.patch("/api/v1/periods/july", headers=h.admin, json={"start": "2026-09-01"})
    assert backwards.status_code == 400 and periods.get_period(r, "july").start.isoformat() == "2026-07-01"
    assert h.client.patch("/api/v1/periods/july", headers=h.admin, json={}).status_code == 400
    assert h.client.patch("/api/v1/periods/nope", headers=h.admin, json={"name": "x"}).status_code == 404
    assert h.client.patch("/api/v1/periods/july", headers=h.key("manager", ("u1",)),
                          json={"name": "x"}).status_code == 403


# In a browser ------------------------------------------------------------------------------
def test_an_office_admin_closes_a_period_and_downloads_its_export(browser, live, console, h, clock, r):
    ended(h, clock)
    h.period("2026H2", "2026-07-01", "2026-12-31")
    console.account("office", "admin", password=PASSWORD)
    page = browser.new_page(accept_downloads=True, locale="zh-CN")
    seen = {}

    def while_closing(route):  # the request is on its way: the page says so, the button waits
        seen["note"] = page.inner_text("#closing") if page.is_visible("#closing") else None
        seen["disabled"] = page.is_disabled("button:has-text('确认关闭评议期 may')")
        shot(page, "periods-closing")
        route.continue_()

    try:
        browser_login(page, live, "office")
        page.goto(f"{live}/console/periods/2026H2/edit")
        assert page.input_value("input[name=start]") == "2026-07-01"
        shot(page, "periods-correct")
        page.goto(f"{live}/console/periods")
        shot(page, "periods-list")
        page.click("#period-may >> text=关闭…")
        page.wait_for_load_state("networkidle")
        assert "关闭后不能撤销" in page.inner_text("main")
        shot(page, "periods-close-confirm")
        page.route("**/console/periods/may/close", lambda route: while_closing(route)
                   if route.request.method == "POST" else route.continue_())
        page.click("button:has-text('确认关闭评议期 may')")
        page.wait_for_url("**/console/periods?done=closed&pid=may")
        assert "评议期 may 已关闭" in page.inner_text("main")
        assert seen["note"] and "正在关闭…" in seen["note"] and seen["disabled"]
        shot(page, "periods-closed")
        with page.expect_download() as info:
            page.click("#period-may >> text=导出文件 (.jsonl)")
        download = info.value
        assert download.suggested_filename == "may.jsonl"
        lines = Path(download.path()).read_text(encoding="utf-8").splitlines()
    finally:
        page.close()
    result = closing.stored_result(r, "may")
    assert len(lines) == 4 and closing.verify(lines, result) == []  # 3 taps, a case opened


def test_closing_reports_its_progress_unit_by_unit(console, h, clock, r):
    ended(h, clock)
    admin = console.as_role("admin")
    assert admin.get("/console/periods/may/close/progress").json == {}
    seen: list[tuple[int, int, int]] = []
    period = periods.get_period(r, "may")
    probe = Path(h.app.config["EXPORT_DIR"]) / "probe.jsonl"
    probe.parent.mkdir(parents=True, exist_ok=True)
    closing.close(r, period, str(probe), prior_weight=20, min_n=30,
                  now=clock(), tz="Asia/Shanghai", progress=lambda *p: seen.append(p))
    assert [p[:2] for p in seen] == [(1, 2), (2, 2)] and seen[-1][2] == 3
    r.hdel("rs:closed", "may")  # the probe's close: undone, for the console's own
    assert console.post(admin, "/console/periods/may/close").status_code == 302
    assert admin.get("/console/periods/may/close/progress").json == {"units_done": 2, "units": 2, "taps": 3}
    staff = console.as_role("staff")
    assert staff.get("/console/periods/may/close/progress").status_code == 403


def test_the_close_page_shows_the_progress_while_it_runs(browser, live, console, h, clock, r):
    ended(h, clock)
    console.account("office", "admin", password=PASSWORD)
    page = browser.new_page(locale="zh-CN")
    held = []
    try:
        browser_login(page, live, "office")
        page.goto(f"{live}/console/periods/may/close")
        page.route("**/console/periods/may/close", lambda route: held.append(route)
                   if route.request.method == "POST" else route.continue_())
        closing.note_progress(r, "may", 1, 2, 2)  # as a close in flight leaves it
        page.click("button:has-text('确认关闭评议期 may')")
        expect(page.locator("#close-progress")).to_contain_text("1 / 2")
        assert "已处理 1 / 2 个单位，已写出 2 条评价" in page.inner_text("#close-progress")
        shot(page, "periods-close-progress")
        held[0].continue_()
        page.wait_for_url("**/console/periods?done=closed&pid=may")
    finally:
        page.close()
    assert closing.stored_result(r, "may")["taps"] == 3
