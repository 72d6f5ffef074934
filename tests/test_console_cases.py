"""The console's 差评工单: a manager's inbox (overdue first), a case's page with its history and
the forms its state allows, an appeal of its tap; the office's rates of every unit and the
appeal queue (one at a time and in bulk); nothing of another unit. One journey in a real
browser: a manager verifies and rectifies a case."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from ratingsvc.cases import store
from tests.console_helpers import browser_login, shot
from tests.test_console_units import say

HOUR, DAY = 3600, 86400


@pytest.fixture
def hall(h, console):
    """u1 (蔡甸区政务服务中心, its manager zhang) with two windows, u2 of another category with
    its manager li; a period under way (p1) and one before it; the office's clerk."""
    h.unit("u1", name="蔡甸区政务服务中心")
    h.unit("u2", "c2", name="奓山街道便民服务中心")
    h.w1, h.w2 = h.window("u1", "综合受理窗口"), h.window("u1", "社保窗口")
    h.o1 = h.window("u2", "1号窗口")
    h.period("p0", "2026-01-01", "2026-04-30")
    h.period("p1", "2026-05-01", "2026-09-30")
    console.account("zhang", "manager", ["u1"])
    console.account("li", "manager", ["u2"])
    console.account("clerk", "staff")
    return h


def bad(h, window, level=1, comment="", tags=()) -> str:
    """A 差评 (with the rater's reason when given): its rating id."""
    if comment or tags:
        return say(h, window, level, comment, tags)
    resp = h.tap(window, level, h.rater())
    assert resp.status_code == 201 and resp.json["status"] == "counted", resp.json
    return resp.json["rating_id"]


def case_of(h, rid: str) -> store.Case:
    unit, sid = rid.rsplit(".", 1)
    found = store.get(h.r, unit, sid)
    assert found is not None
    return found


def step(console, client, rid: str, action: str, **text):
    resp = console.post(client, f"/console/cases/{rid}/{action}", text)
    assert "/console/login" not in resp.headers.get("Location", ""), "the session has ended"
    return resp


def managed(console) -> list[str]:
    """The audit log's case and appeal lines, newest first."""
    return [a for a in console.audit_actions() if a.startswith(("case.", "appeal."))]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))


# The inbox -------------------------------------------------------------------------------------
def test_the_inbox_puts_overdue_cases_first_then_by_deadline(hall, console, clock):
    h = hall
    verified = bad(h, h.w1, 2)  # Monday 1 June: verified at once, next owes its reply by late June
    assert step(console, console.login("zhang"), verified, "verify").status_code == 302
    clock.advance(HOUR)
    late = bad(h, h.w2, 1, "等了两个小时", ["duty"])  # to be verified by the end of 2 June
    clock.advance(2 * DAY)  # Wednesday 3 June
    fresh = bad(h, h.w1, 1)
    other = bad(h, h.o1, 1)  # u2's
    client = console.login("zhang")
    resp = client.get("/console/cases")  # one unit: its own inbox
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/console/units/u1/cases")
    page = client.get("/console/units/u1/cases").text
    assert [page.index(rid) for rid in (late, fresh, verified)] == sorted(page.index(rid) for rid in (
        late, fresh, verified))
    assert other not in page
    late_row = page[page.index("<tr", page.index("<tbody")):page.index(late)]
    assert 'class="c-late"' in late_row and "超期" in late_row and "社保窗口" in late_row
    assert "等了两个小时" in late_row and "履职尽责" in late_row and "待核实" in late_row
    assert "2026-06-01 11:00" in late_row and "非常不满意" in late_row
    assert page.count(">超期</span>") == 1
    # filters: by state, and the overdue ones
    only_verified = client.get("/console/units/u1/cases?state=verified").text
    assert verified in only_verified and late not in only_verified and fresh not in only_verified
    only_late = client.get("/console/units/u1/cases?state=overdue").text
    assert late in only_late and fresh not in only_late
    assert "共 0 个工单" in client.get("/console/units/u1/cases?state=closed").text
    # the unit's page has the tab; another unit's inbox is not the manager's
    assert 'href="/console/units/u1/cases"' in client.get("/console/units/u1").text
    assert client.get("/console/units/u2/cases").status_code == 403


def test_a_manager_of_two_units_sees_both_in_one_inbox(hall, console):
    a, b = bad(hall, hall.w1), bad(hall, hall.o1)
    client = console.as_role("manager", ["u1", "u2"])
    page = client.get("/console/cases").text
    assert a in page and b in page and "奓山街道便民服务中心" in page


# A case's steps ----------------------------------------------------------------------------------
def test_a_case_is_verified_then_rectified_with_its_history(hall, console, clock):
    h = hall
    rid = bad(h, h.w1, 2, "材料要求说了三遍都不一样，电话13812345678", ["public"])
    client = console.login("zhang")
    page = client.get(f"/console/cases/{rid}").text
    assert "138****5678" in page and "13812345678" not in page  # masked
    assert 'id="form-verify"' in page and 'id="form-explain"' in page and 'id="form-rectify"' not in page
    too_soon = step(console, client, rid, "rectify", cause="a", act="b", reply="c")
    assert too_soon.status_code == 409 and "工单现为「待核实」，不能整改答复" in too_soon.text
    clock.advance(600)
    done = step(console, client, rid, "verify", note="已电话联系评价人")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/console/cases/{rid}?done=verify")
    page = client.get(done.headers["Location"]).text
    assert "已核实。" in page and "已电话联系评价人" in page
    assert 'id="form-rectify"' in page and 'id="form-explain"' in page and 'id="form-verify"' not in page
    missing = step(console, client, rid, "rectify", cause="窗口人员不足", act=" ", reply="已增派人员")
    assert missing.status_code == 400 and "请填写整改措施。" in missing.text
    assert ">窗口人员不足</textarea>" in missing.text and ">已增派人员</textarea>" in missing.text  # kept
    assert case_of(h, rid).state == "verified"
    done = step(console, client, rid, "rectify", cause="窗口人员不足", act="高峰时段增开窗口",
                reply="已增开窗口，感谢监督")
    assert done.status_code == 302
    page = text_of(client.get(done.headers["Location"]).text)
    assert "已整改" in page and "提交整改答复" not in page and "回访期限" in page
    history = page[page.index("办理记录"):page.index("申诉")]
    assert re.search(r"生成工单 系统 .*核实 账号 zhang 核实情况： 已电话联系评价人 .*"
                     r"整改答复 账号 zhang 问题原因： 窗口人员不足 整改措施： 高峰时段增开窗口 "
                     r"答复群众： 已增开窗口，感谢监督", history)
    c = case_of(h, rid)
    assert c.state == "rectified" and c.reply == "已增开窗口，感谢监督"
    assert managed(console) == ["case.rectify", "case.verify"]


def test_explain_needs_a_reply(hall, console):
    rid = bad(hall, hall.w1)
    client = console.login("zhang")
    empty = step(console, client, rid, "explain", reply="")
    assert empty.status_code == 400 and "请填写给群众的答复。" in empty.text
    assert step(console, client, rid, "explain", reply="该事项须本人到场办理").status_code == 302
    c = case_of(hall, rid)
    assert c.state == "explained" and c.reply == "该事项须本人到场办理"
    assert step(console, client, rid, "verify").status_code == 409


def test_only_the_units_manager_takes_steps(hall, console):
    rid = bad(hall, hall.w1)
    other = console.login("li")
    assert other.get(f"/console/cases/{rid}").status_code == 403
    assert step(console, other, rid, "verify").status_code == 403
    assert console.post(other, f"/console/cases/{rid}/appeal", {"reason": "x"}).status_code == 403
    staff = console.login("clerk")
    page = staff.get(f"/console/cases/{rid}").text  # the office reads, but does not handle
    assert "差评工单" in page and 'id="form-verify"' not in page and "提交申诉" not in page
    assert step(console, staff, rid, "rectify", cause="a", act="b", reply="c").status_code == 403
    assert console.post(staff, f"/console/cases/{rid}/appeal", {"reason": "x"}).status_code == 403
    zhang = console.login("zhang")
    assert zhang.get("/console/cases/not-a-case").status_code == 404
    assert zhang.get("/console/cases/u1.1-0").status_code == 404
    assert step(console, zhang, rid, "close").status_code == 404
    assert case_of(hall, rid).state == "new" and not managed(console)


# Appeals ------------------------------------------------------------------------------------------
def appeal(console, client, rid: str, reason: str, evidence: str = ""):
    resp = console.post(client, f"/console/cases/{rid}/appeal", {"reason": reason, "evidence": evidence})
    assert "/console/login" not in resp.headers.get("Location", ""), "the session has ended"
    return resp


def counts(h, unit="u1"):
    return h.client.get(f"/api/v1/units/{unit}/score?period=p1", headers=h.admin).json["counts"]


def test_a_manager_appeals_and_the_office_decides_one(hall, console):
    h = hall
    rid = bad(h, h.w1, 1, "态度差", ["duty"])
    zhang = console.login("zhang")
    assert "提交申诉" in zhang.get(f"/console/cases/{rid}").text
    empty = appeal(console, zhang, rid, " ", "监控 10:02")
    assert empty.status_code == 400 and "请填写申诉理由。" in empty.text
    assert ">监控 10:02</textarea>" in empty.text  # kept
    done = appeal(console, zhang, rid, "系本单位工作人员误操作", "监控 10:02 显示工作人员代按")
    assert done.status_code == 302
    page = zhang.get(done.headers["Location"]).text
    assert "已提交申诉" in page and "待复核" in page and "提交申诉</button>" not in page
    assert appeal(console, zhang, rid, "again").status_code == 409
    assert zhang.get("/console/appeals").status_code == 403  # the office decides

    clerk = console.login("clerk")
    queue = clerk.get("/console/appeals").text
    assert "待复核（1 项" in queue and "系本单位工作人员误操作" in queue
    assert "监控 10:02 显示工作人员代按" in queue
    assert "态度差" in queue and "综合受理窗口" in queue and "非常不满意" in queue
    assert counts(h)["1"] == 1
    no_note = console.post(clerk, "/console/appeals/decide", {"rating_id": rid, "decision": "uphold"})
    assert no_note.status_code == 400 and "请填写复核意见。" in no_note.text
    upheld = console.post(clerk, "/console/appeals/decide", {"rating_id": rid, "decision": "uphold",
                                                             "note": "监控核实为误触"})
    assert upheld.status_code == 302
    page = clerk.get(upheld.headers["Location"]).text
    assert "已认定申诉成立 1 项" in page and "没有待复核的申诉" in page
    assert "已复核（1 项" in page and "监控核实为误触" in page
    assert counts(h)["1"] == 0
    c = case_of(h, rid)
    assert c.state == "void" and c.appeal == "upheld"
    assert managed(console) == ["appeal.uphold", "appeal.file"]
    again = console.post(clerk, "/console/appeals/decide", {"rating_id": rid, "decision": "reject"})
    assert again.status_code == 409 and "已有复核结论" in again.text
    assert "申诉成立，评价已剔除" in zhang.get(f"/console/cases/{rid}").text


def bulk(console, client, ids: list[str], decision: str, note: str = ""):
    """The bulk form with these appeals ticked."""
    return client.post("/console/appeals/bulk", data={"ids": ids, "decision": decision, "note": note,
                                                      "csrf_token": console.token(client)})


def test_the_office_decides_ticked_appeals_at_once(hall, console, clock):
    h = hall
    ids = [bad(h, w, 1) for w in (h.w1, h.w2, h.o1)]
    zhang, li = console.login("zhang"), console.login("li")
    for rid in ids:
        clock.advance(60)
        manager = li if rid.startswith("u2") else zhang
        assert appeal(console, manager, rid, f"恶意差评 {rid[-6:]}").status_code == 302
    admin = console.as_role("admin")
    queue = admin.get("/console/appeals").text
    assert [queue.index(f'value="{rid}" form="bulk"') for rid in ids] == sorted(
        queue.index(f'value="{rid}" form="bulk"') for rid in ids)  # oldest first
    none = console.post(admin, "/console/appeals/bulk", {"decision": "reject"})
    assert none.status_code == 400 and "请先勾选" in none.text
    no_note = bulk(console, admin, ids[:2], "uphold")
    assert no_note.status_code == 400 and "请填写复核意见" in no_note.text
    assert "appeal.uphold" not in console.audit_actions()
    before = counts(h)
    done = bulk(console, admin, ids[:2], "uphold", "同一时段多次误触")
    assert done.status_code == 302
    assert "已认定申诉成立 2 项" in admin.get(done.headers["Location"]).text
    assert counts(h)["1"] == before["1"] - 2 and counts(h, "u2")["1"] == 1
    assert console.audit_actions().count("appeal.uphold") == 2
    again = bulk(console, admin, ids, "reject")
    page = admin.get(again.headers["Location"]).text
    assert "已认定申诉不成立 1 项；另有 2 项此前已有复核结论" in page
    assert console.audit_actions().count("appeal.reject") == 1 and counts(h, "u2")["1"] == 1
    decided = page[page.index("已复核（3 项"):]
    assert decided.index("申诉不成立") < decided.index("申诉成立</span>")  # the latest first


# The office's rates -----------------------------------------------------------------------------------
def row_cells(page: str, marker: str) -> list[str]:
    """The numeric cells of the table row holding marker."""
    at = page.index(marker)
    row = page[page.rindex("<tr", 0, at):page.index("</tr>", at)]
    return [text_of(c).strip() for c in re.findall(r'<td class="num[^"]*">(.*?)</td>', row)]


def test_the_office_sees_every_units_rates_with_overdue_first(hall, console, clock):
    h = hall
    clock.t -= 40 * DAY  # in April (p0): not in p1's figures
    bad(h, h.w1, 1)
    clock.t += 40 * DAY
    zhang, li = console.login("zhang"), console.login("li")
    on_time, explained, waiting = bad(h, h.w1, 1), bad(h, h.w1, 2), bad(h, h.w2, 1)
    assert step(console, zhang, on_time, "verify").status_code == 302
    assert step(console, zhang, on_time, "rectify", cause="a", act="b", reply="c").status_code == 302
    assert step(console, zhang, explained, "explain", reply="按规定须本人办理").status_code == 302
    other = bad(h, h.o1, 2)
    assert appeal(console, li, other, "误触").status_code == 302
    clock.advance(3 * DAY)  # Thursday: `waiting` and u2's `other` are past their verification
    li = console.login("li")  # (the sessions of Monday have ended)
    assert step(console, li, other, "verify").status_code == 302  # late, but done
    clerk = console.login("clerk")
    page = clerk.get("/console/cases?period=p1").text
    assert "p1（2026-05-01 至 2026-09-30）" in page
    overdue = page[page.index('id="overdue"'):page.index("各单位差评办理情况")]
    assert waiting in overdue and on_time not in overdue and "超期工单（2 个" in overdue  # April's too
    units = page[page.index("按单位"):]
    assert units.index("蔡甸区政务服务中心") < units.index("奓山街道便民服务中心")  # overdue first
    assert 'href="/console/units/u1/cases"' in units
    # 现超期, 差评数, 已回复, 回复率, 按期整改, 整改率, 回访数, 回访满意, 满意率, 核实中位数,
    # 办结中位数, 超期, 申诉, 成立
    assert row_cells(units, "蔡甸区政务服务中心") == [
        "2", "3", "2", "66.7%", "2", "66.7%", "0", "0", "—", "0.0", "—", "1", "0", "0"]
    assert row_cells(units, "奓山街道便民服务中心")[:4] == ["0", "1", "0", "0.0%"]
    assert row_cells(units, "奓山街道便民服务中心")[-2:] == ["1", "0"]
    categories = page[page.index("按类别合计"):page.index("按单位")]
    assert row_cells(categories, "类别c1")[:3] == ["3", "2", "66.7%"]
    before = clerk.get("/console/cases?period=p0").text
    assert row_cells(before[before.index("按单位"):], "蔡甸区政务服务中心")[:2] == ["2", "1"]
    # the download: every unit, the same figures (rates as fractions)
    resp = clerk.get("/console/cases/rates.csv?period=p1")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.text.lstrip("\ufeff"))))
    assert rows[0][:6] == ["unit", "name", "category", "bad", "replied", "reply_rate"]  # the API's
    assert rows[1][:6] == ["u1", "蔡甸区政务服务中心", "c1", "3", "2", "0.6667"]
    # a manager: not this page but their inbox; the download of their own unit only
    zhang = console.login("zhang")
    zhang_csv = list(csv.reader(io.StringIO(zhang.get("/console/cases/rates.csv?period=p1").text)))
    assert [r[0] for r in zhang_csv[1:]] == ["u1"]


def test_menu_and_dashboard_show_cases_and_appeals(hall, console, clock):
    h = hall
    rid = bad(h, h.w1)
    zhang = console.login("zhang")
    assert appeal(console, zhang, rid, "误触").status_code == 302
    bad(h, h.w2)
    clock.advance(3 * DAY)
    zhang = console.login("zhang")
    menu = zhang.get("/console/units/u1").text
    assert ">差评工单</a>" in menu and "申诉复核" not in menu
    clerk = console.login("clerk")
    board = clerk.get("/console/dashboard").text
    assert ">差评工单</a>" in board and ">申诉复核</a>" in board
    assert re.search(r'id="stat-overdue"><div class="value">2</div>', board)
    assert re.search(r'id="stat-appeals"><div class="value">1</div>', board)
    assert 'href="/console/appeals"' in board


# In a real browser ----------------------------------------------------------------------------------
def test_a_manager_verifies_and_rectifies_a_case_in_the_browser(hall, console, live, browser, clock):
    h = hall
    bad(h, h.w1, 2)
    clock.advance(2 * HOUR)
    rid = bad(h, h.w2, 1, "排队一个多小时，窗口只开了一个", ["business", "duty"])
    clock.advance(2 * DAY)  # the first is overdue
    bad(h, h.o1, 1)
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live, "zhang")
    page.click("nav.side >> text=差评工单")
    expect(page.locator("h1")).to_contain_text("差评工单")
    expect(page.locator("table.c-inbox tbody tr")).to_have_count(2)
    expect(page.locator("table.c-inbox tbody tr").first).to_contain_text("超期")
    shot(page, "cases-inbox")
    page.locator("table.c-inbox tbody tr", has_text="排队一个多小时").get_by_role("link").click()
    expect(page.locator("#form-verify")).to_be_visible()
    shot(page, "cases-case-new")
    page.fill("#form-verify textarea[name=note]", "已电话联系评价人，属实")
    page.click("#form-verify button[type=submit]")
    expect(page.locator(".alert-ok")).to_have_text("已核实。")
    page.fill("#form-rectify textarea[name=cause]", "午间只开一个窗口")
    page.fill("#form-rectify textarea[name=act]", "午间增开社保窗口，安排轮岗")
    page.fill("#form-rectify textarea[name=reply]", "您反映的排队问题已整改，午间增开窗口，感谢监督。")
    page.click("#form-rectify button[type=submit]")
    expect(page.locator(".alert-ok")).to_contain_text("已提交整改情况")
    expect(page.locator("h1")).to_contain_text("已整改")
    expect(page.locator("table.c-history tbody tr")).to_have_count(3)
    assert page.locator("#form-rectify").count() == 0
    shot(page, "cases-case-rectified")
    assert case_of(h, rid).state == "rectified"
    ctx.close()
    # what the office sees of it
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    assert appeal(console, console.login("li"), f"{h.o1.unit}." + store.of_units(h.r, ["u2"])[0].id,
                  "工作人员误触评价器", "监控 10:02").status_code == 302
    browser_login(page, live, "clerk")
    page.goto(f"{live}/console/cases")
    expect(page.locator("#overdue")).to_contain_text("综合受理窗口")
    shot(page, "cases-office")
    page.goto(f"{live}/console/appeals")
    expect(page.locator("table.c-appeals tbody tr")).to_have_count(1)
    shot(page, "cases-appeals")
    ctx.close()


def test_the_case_list_downloads_as_xlsx_and_csv_for_the_accounts_units(hall, console, clock):
    from tests.test_sheets import book

    h = hall
    clock.t -= 40 * DAY  # in April (p0): not in p1's list
    bad(h, h.w1, 1)
    clock.t += 40 * DAY
    zhang = console.login("zhang")
    done = bad(h, h.w1, 2, comment="等了很久，电话 13912345678", tags=("duty",))
    assert step(console, zhang, done, "verify", note="已联系").status_code == 302
    resp = step(console, zhang, done, "rectify", cause="人手不足", act="增开窗口", reply="已增开窗口")
    assert resp.status_code == 302
    waiting = bad(h, h.w2, 1)
    other = bad(h, h.o1, 1)
    clerk = console.login("clerk")
    sheet = book(clerk.get("/console/cases/list.xlsx?period=p1"))
    assert sheet[0][:8] == ["工单编号", "单位编号", "单位名称", "窗口编号", "窗口名称", "评价等级",
                            "评价时间", "状态"]
    rows = {r[0]: r for r in sheet[1:]}
    assert set(rows) == {done, waiting, other}  # April's case belongs to p0
    row = rows[done]
    assert row[1:6] == ["u1", "蔡甸区政务服务中心", h.w1.id, "综合受理窗口", "不满意"]
    assert row[7] == "已整改" and row[13] == "否" and row[14] == "履职尽责"
    assert "13912345678" not in row[15] and row[16:20] == ["已联系", "人手不足", "增开窗口", "已增开窗口"]
    assert rows[waiting][7] == "待核实"
    # a manager: their own unit's cases only; the state filter as the inbox's
    mine = book(zhang.get("/console/cases/list.xlsx?period=p1"))
    assert sorted(r[0] for r in mine[1:]) == sorted([done, waiting])
    open_only = list(csv.reader(io.StringIO(zhang.get("/console/cases/list.csv?period=p1&state=new").text)))
    assert [r[0] for r in open_only[1:]] == [waiting]
    assert "下载本期工单清单" in zhang.get("/console/units/u1/cases").text
