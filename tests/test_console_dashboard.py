"""The evaluation office's dashboard: its numbers are the API's for the same data."""

from __future__ import annotations

import re

from ratingsvc import overview, registry
from tests.console_helpers import browser_login, shot

DAY = 86400


def stat(html: str, name: str) -> int:
    found = re.search(rf'id="stat-{name}"><div class="value">(\d+)</div>', html)
    assert found, name
    return int(found[1])


def city(h, app):
    """Five units in two categories, taps on two days, one held tap waiting for review."""
    app.config["SCORE_MIN_N"] = 2
    h.period("p1")
    for uid, cat in [("u1", "c1"), ("u2", "c1"), ("u3", "c1"), ("u4", "c2"), ("u5", "c2"), ("u6", "c2")]:
        h.unit(uid, cat, name=f"单位{uid}")
    windows = {uid: h.window(uid) for uid in ("u1", "u2", "u3", "u4", "u5", "u6")}
    for level in (5, 5, 4):
        assert h.tap(windows["u1"], level, rater=h.rater()).status_code == 201
    h.clock.advance(DAY)  # the rest today
    for uid, levels in [("u2", (3, 4)), ("u3", (2,)), ("u4", (1, 2)), ("u5", (4, 4, 5))]:
        for level in levels:
            assert h.tap(windows[uid], level, rater=h.rater()).status_code == 201
    closed = h.window("u2", "夜间窗口")
    registry.update_window(h.r, closed.id, hours={"days": [6], "open": ["08:00-09:00"]})  # a Tuesday
    assert h.tap(closed, 5, rater=h.rater()).status_code == 202  # held: outside its hours
    return windows


def test_the_dashboard_says_what_the_scores_api_says(console, h, app, r):
    city(h, app)
    api = h.client.get("/api/v1/scores?period=p1", headers=h.admin).json
    page = console.as_role("staff").get("/console/dashboard")
    assert page.status_code == 200
    units = api["units"]
    assert stat(page.text, "period") == sum(u["n"] for u in units) == 11
    assert stat(page.text, "today") == 8  # u1's three were yesterday
    assert stat(page.text, "waiting") == sum(u["pending"] for u in units) == 1
    few = [u for u in units if u["status"] in ("insufficient", "no_ratings")]
    assert stat(page.text, "few") == len(few) == 2
    few_html = page.text.split('id="few"')[1]
    assert all(f"<code>{u['unit']}</code>" in few_html for u in few)
    tops = page.text.split('id="tops"')[1].split('id="few"')[0]
    shown = re.findall(r'<td class="num">(\d+)</td><td>([^<]+)</td><td class="num">([\d.]+)</td>', tops)
    expected = []
    for cat in ("c1", "c2"):
        ranked = sorted((u for u in units if u["category"] == cat and u["rank"]), key=lambda u: u["rank"])
        best = ranked[:3]
        expected += best + [u for u in reversed(ranked[-3:]) if u not in best]
    assert shown == [(str(u["rank"]), u["name"], f"{u['score']:.2f}") for u in expected]
    assert shown[0][1] == "单位u1" and len(shown) == 4  # c1: u1, u2 ranked; c2: u5, u4


def test_taps_today_are_read_in_one_call_over_every_unit(h, r):
    h.unit("u1")
    h.unit("u2")
    assert overview.today(r, "20260601") == overview.Today(0, 2, 0)
    h.tap(h.window("u2"), 4)
    assert overview.today(r, "20260601") == overview.Today(1, 2, 1)
    assert overview.today(r, "20260602").counted == 0


def test_without_a_period_the_dashboard_says_so(console, h):
    h.tap(h.window("u1"), 5)
    page = console.as_role("admin").get("/console/dashboard")
    assert page.status_code == 200 and "今天不在任何评议期内" in page.text
    assert stat(page.text, "today") == 1 and 'id="stat-period"' not in page.text


def test_managers_may_not_open_the_dashboard(console, h):
    h.unit("u1")
    assert console.as_role("manager", ["u1"]).get("/console/dashboard").status_code == 403


def test_the_dashboard_in_a_browser(console, h, app, live, browser):
    city(h, app)
    console.account("office", "admin")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        browser_login(page, live, "office")
        page.goto(f"{live}/console/dashboard")
        assert "本期有效评价" in page.inner_text("#stats")
        shot(page, "dashboard")
    finally:
        page.close()


def test_best_and_worst_are_three_each_and_never_the_same_unit():
    from ratingsvc.console.dashboard import summarise

    def row(uid, cat, rank, n=40, status="ok"):
        return {"unit": uid, "name": uid, "category": cat, "rank": rank, "n": n, "pending": 0,
                "status": status, "score": 9 - (rank or 0)}

    units = [row(f"a{i}", "a", i) for i in range(1, 8)] + [row(f"b{i}", "b", i) for i in range(1, 5)]
    units += [row("a0", "a", None, 3, "insufficient"), row("b0", "b", None, 0, "no_ratings")]
    s = summarise({"units": units})
    (cat_a, best_a, worst_a), (cat_b, best_b, worst_b) = s["tops"]
    def ids(rows):
        return [u["unit"] for u in rows]

    assert (cat_a, ids(best_a), ids(worst_a)) == ("a", ["a1", "a2", "a3"], ["a7", "a6", "a5"])
    assert (cat_b, ids(best_b), ids(worst_b)) == ("b", ["b1", "b2", "b3"], ["b4"])
    assert [u["unit"] for u in s["few"]] == ["b0", "a0"] and s["counted"] == 40 * 11 + 3
