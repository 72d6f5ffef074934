"""The public results page (/results/<period>): shown without a login for a closed period, and
for a running one only once the office makes it public; the numbers are the score table's; a
closed period's digest, export and result download there and verify; at a phone's width in
Chromium."""

from __future__ import annotations

import json
import re

import pytest

from ratingsvc import audit, create_app
from ratingsvc.closing import verify
from tests.console_helpers import shot
from tests.helpers import Helper, tap_from


@pytest.fixture
def pub(config, r, clock, tmp_path):
    """p1 (May) has ended; units in two categories with taps; exports go to tmp_path."""
    h = Helper(create_app({**config, "EXPORT_DIR": str(tmp_path), "SCORE_MIN_N": 2}), r, clock)
    h.period("p1", "2026-05-01", "2026-06-01")
    for uid, cat, name in (("u1", "c1", "政务服务中心综合窗口"), ("u2", "c1", "不动产登记中心"),
                           ("u3", "c2", "东城街道便民服务站"), ("u4", "c2", "西城街道便民服务站")):
        h.unit(uid, cat, name)
    h.wins = {u: h.window(u) for u in ("u1", "u2", "u3", "u4")}
    for i, (uid, levels) in enumerate({"u1": (5, 5, 4), "u2": (3, 2), "u3": (5,), "u4": (4, 4, 1)}.items()):
        for j, level in enumerate(levels):
            assert tap_from(h, h.wins[uid], level=level, ip=f"203.0.113.{10 * i + j}").status_code == 201
    yield h
    h.r.flushdb()
    h.r.close()


def table(h) -> dict[str, dict]:
    rows = h.client.get("/api/v1/scores?period=p1", headers=h.admin).json["units"]
    return {row["unit"]: row for row in rows}


def units_shown(html: str) -> list[tuple[str, str, str]]:
    """(unit, rank, score) of each unit in the page's order."""
    return re.findall(r'data-unit="([^"]+)">\s*<span class="rank"[^>]*>([^<]*)</span>.*?<span class="score">'
                      r'(?:<b>([^<]*)</b>)?', html, re.S)


def test_a_running_period_is_shown_only_once_the_office_makes_it_public(pub):
    h = pub
    hidden = h.client.get("/results/p1")
    assert hidden.status_code == 404 and "还没有公开" in hidden.get_data(as_text=True)
    assert h.client.get("/results/nope").status_code == 404
    def put(pid: str, body: dict, who: dict):
        return h.client.put(f"/api/v1/periods/{pid}/public", headers=who, json=body)

    for who in (h.key("scorer"), h.key("manager", ("u1",))):  # the office's admins only
        assert put("p1", {"public": True}, who).status_code == 403
    bad = put("p1", {"public": "sure"}, h.admin)
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_request"
    assert put("nope", {"public": True}, h.admin).status_code == 404
    resp = put("p1", {"public": True}, h.admin)
    assert resp.status_code == 200 and resp.json == {"public": True}
    page = h.client.get("/results/p1")  # no key, no session
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "进行中" in html and "下载导出文件" not in html
    rows = table(h)
    shown = units_shown(html)
    assert [u for u, _, _ in shown] == list(rows) == ["u1", "u2", "u4", "u3"]  # the table's order
    for uid, rank, score in shown:
        assert rank == (str(rows[uid]["rank"]) if rows[uid]["rank"] else "—")
        assert score == f"{rows[uid]['score']:.2f}"
    assert "评价数不足" in html  # u3: one tap, below SCORE_MIN_N
    (entry,) = audit.search(h.r, action="period.public")[0]
    assert entry.target == "period:p1"
    assert (entry.before, entry.after) == ({"public": False}, {"public": True})
    put("p1", {"public": False}, h.admin)
    assert h.client.get("/results/p1").status_code == 404


def test_a_closed_period_shows_its_digest_and_its_files_verify(pub, clock):
    h = pub
    assert h.client.get("/results/p1/export.jsonl").status_code == 404  # not closed
    clock.advance(86400 * 2)
    closed = h.client.post("/api/v1/periods/p1/close", headers=h.admin)
    assert closed.status_code == 201, closed.json
    page = h.client.get("/results/p1")  # closed: public without being made so
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "已结束" in html and closed.json["digest"] in html
    export = h.client.get("/results/p1/export.jsonl")
    result = h.client.get("/results/p1/result.json")
    assert export.status_code == 200 and result.status_code == 200
    lines = export.get_data(as_text=True).splitlines()
    export.close()
    assert json.loads(lines[-1])["chain"] == closed.json["digest"]
    assert verify(lines, json.loads(result.get_data(as_text=True))) == []
    assert [u for u, _, _ in units_shown(html)] == ["u1", "u2", "u4", "u3"]  # ranked first, as before


def test_the_page_at_a_phone_width_in_chromium(pub, live_pub, browser, clock):
    h = pub
    h.client.put("/api/v1/periods/p1/public", headers=h.admin, json={"public": True})
    from tests.test_console_a11y import AXE, AXE_URL, violations

    # (the page's CSP allows no script: axe comes in with the CSP bypassed, for the test only)
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", bypass_csp=True)
    ctx.route(f"{live_pub}{AXE_URL}", lambda route: route.fulfill(
        body=AXE.read_text(encoding="utf-8"), content_type="application/javascript"))

    def serious() -> list:
        return [(v["id"], v["nodes"]) for v in violations(page) if v["impact"] in ("serious", "critical")]

    try:
        page = ctx.new_page()
        page.goto(f"{live_pub}/results/p1")
        assert page.locator("li.unit").count() == 4
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
        assert "无差评" in page.locator("li.unit[data-unit=u1]").inner_text()
        shot(page, "results-running-360")
        assert serious() == []
        clock.advance(86400 * 2)
        assert h.client.post("/api/v1/periods/p1/close", headers=h.admin).status_code == 201
        page.reload()
        assert page.locator("#digest").inner_text() == h.client.get(
            "/api/v1/periods/p1/result", headers=h.admin).json["digest"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot(page, "results-closed-360")
        assert serious() == []
        page.goto(f"{live_pub}/results/nope")
        assert "还没有公开" in page.locator(".problem").inner_text()
        shot(page, "results-unknown-360")
    finally:
        ctx.close()


@pytest.fixture
def live_pub(pub):
    """The fixture's app on a live local server."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, pub.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_office_makes_a_period_public_in_the_console(console, h):
    """The same action as the API's (audited); staff see the state but may not change it."""
    h.period("p1", "2026-05-01", "2026-09-30")
    staff = console.as_role("staff")
    assert "公开结果" not in staff.get("/console/periods").text
    assert console.post(staff, "/console/periods/p1/public", {"public": "1"}).status_code == 403
    admin = console.as_role("admin")
    assert "未公开" in admin.get("/console/periods").text
    resp = console.post(admin, "/console/periods/p1/public", {"public": "1"})
    assert resp.status_code == 302 and "done=public" in resp.location
    page = admin.get(resp.location).text
    assert "已在公示页公开" in page and "停止公开" in page and 'href="/results/p1"' in page
    assert h.client.get("/results/p1").status_code == 200
    assert console.audit_actions()[0] == "period.public"
    console.post(admin, "/console/periods/p1/public", {"public": "0"})
    assert h.client.get("/results/p1").status_code == 404


def test_the_command_line_makes_a_period_public(h, runner):
    h.period("p1", "2026-05-01", "2026-09-30")
    shown = runner.invoke(["periods", "public", "p1"])
    assert shown.exit_code == 0 and "shown on /results/p1" in shown.output
    assert h.client.get("/results/p1").status_code == 200
    assert runner.invoke(["periods", "public", "p1", "--off"]).exit_code == 0
    assert h.client.get("/results/p1").status_code == 404
    unknown = runner.invoke(["periods", "public", "nope"])
    assert unknown.exit_code == 1 and "nope" in unknown.output
    (entry,) = audit.search(h.r, action="period.public")[0][:1]
    assert entry.after == {"public": False} and entry.actor.startswith("cli")
