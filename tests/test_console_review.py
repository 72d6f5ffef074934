"""The console's review queue: held taps with names, local times and reasons in Chinese, grouped
and filtered; one tap or a whole filtered group decided with one reason, each decision audited;
the decisions history. A journey in a real browser: 200 held taps of one window rejected at once."""

from __future__ import annotations

import re

import pytest

from ratingsvc import registry, review
from ratingsvc.console import review as console_review
from tests.console_helpers import ARTIFACTS, browser_login, shot
from tests.helpers import tap_from


@pytest.fixture
def held(rules):
    """u1 (单位u1) with windows 东厅A and 西厅B; A has 3 taps held for automation (too fast), B
    one held outside its hours; one tap on A counted."""
    h = rules(RULE_MIN_TAP_MS=800, RULE_LATE_TICKET=900)
    h.period("p1")
    h.a, h.b = h.window(name="东厅A"), h.window(name="西厅B")
    assert tap_from(h, h.a, level=4).json["status"] == "counted"
    h.ids_a = [tap_from(h, h.a, level=lvl, wait=0.1).json["rating_id"] for lvl in (1, 2, 1)]
    registry.update_window(h.r, h.a.id, hours={"days": [1, 2, 3, 4, 5], "open": ["08:00-18:00"]})
    registry.update_window(h.r, h.b.id, hours={"days": [6, 7], "open": ["08:00-12:00"]})  # closed today
    h.ids_b = [tap_from(h, h.b, level=5, wait=1000).json["rating_id"]]
    return h


def held_ids(h, **filters) -> list[str]:
    return [t.rating_id for t in review.list_held(h.r, ["u1"], **filters)]


def bulk_form(page: str) -> dict[str, str]:
    """The hidden fields of the page's bulk form (the group it was shown)."""
    form = page[page.index('action="/console/review/bulk"'):]
    form = form[:form.index("</form>")]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))


def test_the_queue_shows_names_local_times_and_the_rules_in_chinese(held, console):
    client = console.as_role("staff")
    page = client.get("/console/review").text
    assert "东厅A" in page and "西厅B" in page and "单位u1" in page
    assert "疑似自动程序" in page and "非办公时间评价" in page
    text = re.sub(r"<[^>]*>", "", page)
    assert "automation" not in text and "hours" not in text  # codes only in links and forms
    assert "2026-06-01 10:00:05" in page and "2026-06-01 10:16:45" in page  # local (Asia/Shanghai)
    assert "非常不满意" in page
    # grouped by window and reason, with counts
    groups = re.findall(r"<td>(东厅A|西厅B)</td>\s*<td><span class=\"tag tag-warn\">([^<]+)</span></td>"
                        r"<td class=\"num\">(\d+)</td>", page)
    assert groups == [("东厅A", "疑似自动程序（过快或非手机浏览器）", "3"),
                      ("西厅B", "非办公时间评价", "1")]


def test_filters_by_unit_window_and_reason_and_pages(held, console, monkeypatch):
    client = console.as_role("staff")
    only_b = client.get(f"/console/review?window={held.b.id}").text
    assert held.ids_b[0] in only_b and not any(i in only_b for i in held.ids_a)
    late = client.get("/console/review?unit=u1&reason=hours").text
    assert held.ids_b[0] in late and held.ids_a[0] not in late
    assert client.get("/console/review?unit=ghost").status_code == 404
    assert client.get("/console/review?reason=nonsense").status_code == 400
    assert client.get("/console/review?window=x").status_code == 400
    monkeypatch.setattr(console_review, "PAGE", 2)
    first, second = (client.get(f"/console/review?page={n}").text for n in (1, 2))
    assert "第 1 / 2 页" in first and held.ids_a[0] in first and held.ids_b[0] not in first
    assert held.ids_b[0] in second and held.ids_a[0] not in second


def test_one_tap_is_decided_with_a_reason_and_audited(held, console):
    client = console.as_role("staff", username="clerk")
    tap = held.ids_a[1]
    no_reason = console.post(client, "/console/review/decide", {"rating_id": tap, "action": "reject"})
    assert no_reason.status_code == 400 and "请填写处理理由" in no_reason.text
    assert tap in held_ids(held)
    resp = console.post(client, "/console/review/decide", {
        "rating_id": tap, "action": "reject", "why": "同一手机连续评价", "window": str(held.a.id)})
    assert resp.status_code == 302 and f"window={held.a.id}" in resp.headers["Location"]
    assert "已驳回 1 条评价" in client.get(resp.headers["Location"]).text
    assert tap not in held_ids(held)
    assert console.audit_actions().count("review.reject") == 1
    again = console.post(client, "/console/review/decide", {"rating_id": tap, "action": "release",
                                                           "why": "x"})
    assert again.status_code == 409 and "已经处理过了" in again.text
    made = review.decisions(held.r, ["u1"])
    assert [(d["action"], d["by"], d["why"]) for d in made] == [
        ("reject", "account:clerk", "同一手机连续评价")]


def test_a_filtered_group_is_decided_at_once_if_unchanged(held, console):
    client = console.as_role("admin")
    page = client.get(f"/console/review?window={held.a.id}").text
    assert "批量处理当前筛选的 3 条评价" in page and "驳回这 3 条" in page
    form = bulk_form(page)
    assert form["count"] == "3" and form["window"] == str(held.a.id)
    no_reason = console.post(client, "/console/review/bulk", {**form, "action": "reject"})
    assert no_reason.status_code == 400 and len(held_ids(held, window=held.a.id)) == 3
    # the group changed since the page was shown: one more tap held on A; nothing is decided
    tap_from(held, held.a, wait=0.1)
    changed = console.post(client, "/console/review/bulk", {**form, "action": "reject", "why": "海报被拍"})
    assert changed.status_code == 409 and "已有变化" in changed.text and "现在 4 条" in changed.text
    assert len(held_ids(held, window=held.a.id)) == 4 and "review.reject" not in console.audit_actions()
    form = bulk_form(changed.text)  # the page shown again, with the group as it is now
    done = console.post(client, "/console/review/bulk", {**form, "action": "reject", "why": "海报被拍"})
    assert done.status_code == 302
    assert "已驳回 4 条评价" in client.get(done.headers["Location"]).text
    assert held_ids(held, window=held.a.id) == [] and held_ids(held) == held.ids_b
    assert console.audit_actions().count("review.reject") == 4  # one line per decision


def test_bulk_needs_a_unit_or_window_filter(held, console):
    client = console.as_role("admin")
    page = client.get("/console/review").text
    assert 'action="/console/review/bulk"' not in page and "请先按单位或窗口筛选" in page
    ids = held_ids(held)
    resp = console.post(client, "/console/review/bulk", {"count": str(len(ids)), "action": "release",
                                                        "why": "all", "digest": console_review.digest(
                                                            review.list_held(held.r, ["u1"]))})
    assert resp.status_code == 400 and held_ids(held) == ids


def test_decide_many_counts_what_was_decided_already(held, clock):
    from ratingsvc import actions
    from ratingsvc.audit import Actor

    taps = review.list_held(held.r, ["u1"], window=held.a.id)
    who = Actor("account", "clerk", "王办事员")
    actions.decide(held.r, who, clock(), "u1", taps[0].rating_id.split(".", 1)[1], action="release",
                   why="核实无误", tz="Asia/Shanghai")
    assert actions.decide_many(held.r, who, clock(), taps, action="reject", why="海报被拍",
                               tz="Asia/Shanghai") == {"done": 2, "decided": 1}


def test_the_decisions_are_listed_newest_first(held, console, clock):
    client = console.as_role("staff", username="clerk")
    console.post(client, "/console/review/decide", {"rating_id": held.ids_b[0], "action": "release",
                                                   "why": "窗口延时服务，核实属实"})
    clock.advance(60)
    console.post(client, "/console/review/decide", {"rating_id": held.ids_a[0], "action": "reject",
                                                   "why": "代评"})
    page = client.get("/console/review/decisions").text
    assert "共 2 条处理记录" in page
    assert page.index("代评") < page.index("窗口延时服务，核实属实")
    assert "clerk 的名字" in page and "西厅B" in page and "非办公时间评价" in page and "放行" in page
    assert client.get("/console/review/decisions?unit=ghost").status_code == 404


def test_managers_may_not_review(held, console):
    client = console.as_role("manager", ["u1"])
    for path in ("/console/review", "/console/review/decisions", f"/console/review?window={held.a.id}"):
        assert client.get(path).status_code == 403
    token = console.token(client, "/console/")
    for path in ("/console/review/decide", "/console/review/bulk"):
        resp = client.post(path, data={"csrf_token": token, "rating_id": held.ids_a[0], "action": "reject",
                                       "why": "x", "window": str(held.a.id), "count": "3"})
        assert resp.status_code == 403
    assert len(held_ids(held)) == 4 and not [a for a in console.audit_actions() if a.startswith("review.")]
    assert console.client().get("/console/review").status_code == 302  # logged out: to the login page


def test_an_admin_rejects_200_held_taps_of_one_window_in_a_browser(rules, console, live, browser):
    h = rules(RULE_MIN_TAP_MS=800)
    a, b = h.window(name="综合受理窗口"), h.window(name="社保窗口")
    for _ in range(200):
        assert tap_from(h, a, level=1, wait=0.1).json["status"] == "held"
    for _ in range(2):
        tap_from(h, b, level=2, wait=0.1)
    console.account("office", "admin")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        browser_login(page, live, "office")
        page.goto(f"{live}/console/review")
        assert "202" in page.inner_text(".stats")
        shot(page, "review-queue")
        page.select_option("select[name=window]", str(a.id))
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert page.inner_text(".bulk h2") == "批量处理当前筛选的 200 条评价"
        shot(page, "review-bulk-form")
        page.fill(".bulk input[name=why]", "海报被拍照传播，非现场办事群众评价")
        page.once("dialog", lambda d: d.accept() if "200 条" in d.message else d.dismiss())
        page.click(".bulk button[value=reject]")
        page.wait_for_load_state("networkidle")
        assert "已驳回 200 条评价" in page.inner_text(".alert-ok")
        assert "没有符合条件的待核评价" in page.inner_text("main")
        shot(page, "review-bulk-done")
        page.click("text=查看处理记录")
        assert "共 200 条处理记录" in page.inner_text("main")
        assert "海报被拍照传播" in page.inner_text("table")
        page.set_viewport_size({"width": 1280, "height": 700})
        page.screenshot(path=str(ARTIFACTS / "review-decisions.png"))  # its first screen only
    finally:
        page.close()
    assert review.list_held(h.r, ["u1"], window=a.id) == []
    assert len(review.list_held(h.r, ["u1"], window=b.id)) == 2
    assert console.audit_actions().count("review.reject") == 200
