"""Accessibility of every console page: axe-core (vendored in tests/vendor, a test tool the app
does not serve) runs the WCAG 2 A and AA rules in Chromium on each page, as an office admin and
as a unit manager would see it, over one realistic data set; no violation of impact serious or
critical. Each page's full screenshot goes to tests/artifacts/a11y-<page>.png, to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratingsvc import actions, registry
from ratingsvc.audit import Actor
from tests.conftest import START
from tests.console_helpers import browser_login, shot
from tests.helpers import tap_from
from tests.test_console_units import OFFICE_HOURS, say

AXE = sorted((Path(__file__).parent / "vendor").glob("axe-core-*/axe.min.js"))[-1]
#: where the browser fetches axe from: the pages allow scripts of their own origin only (CSP
#: script-src 'self'), so an inline <script> with axe's text is refused; a route the test
#: answers itself serves the file as if it were the app's.
AXE_URL = "/static/__axe__/axe.min.js"
DAY = 86400
BOSS = Actor("account", "boss", "王主任", "0123456789abcdef")

#: page name -> path ({w1} the first window's id); for the office admin
ADMIN_PAGES = {
    "password": "/console/password",
    "dashboard": "/console/dashboard",
    "units": "/console/units",
    "unit": "/console/units/u1",
    "posters": "/console/units/u1/posters?window={w1}",
    "posters-all": "/console/units/u1/posters",
    "revoke": "/console/units/u1/revoke?window={w1}",
    "results": "/console/units/u1/results",
    "comments": "/console/units/u1/comments",
    "registry": "/console/registry",
    "category-edit": "/console/registry/categories/c1",
    "unit-new": "/console/registry/units/new",
    "unit-edit": "/console/registry/units/u1",
    "window-new": "/console/registry/units/u1/windows/new",
    "window-edit": "/console/registry/windows/{w1}",
    "import": "/console/registry/import",
    "review": "/console/review",
    "decisions": "/console/review/decisions",
    "scores": "/console/scores",
    "periods": "/console/periods",
    "period-edit": "/console/periods/2026H2/edit",
    "close": "/console/periods/april/close",
    "keys": "/console/keys",
    "accounts": "/console/accounts",
    "account": "/console/accounts/clerk",
    "audit": "/console/audit",
}
#: for the manager of u1 (u2 is another unit's)
MANAGER_PAGES = {
    "password": "/console/password",
    "units": "/console/units",
    "unit": "/console/units/u1",
    "posters": "/console/units/u1/posters?window={w1}",
    "revoke": "/console/units/u1/revoke?window={w1}",
    "results": "/console/units/u1/results",
    "comments": "/console/units/u1/comments",
    "periods": "/console/periods",
    "forbidden": "/console/units/u2",
}


@pytest.fixture
def config(config, tmp_path):
    return {**config, "EXPORT_DIR": str(tmp_path / "exports")}


@pytest.fixture
def data(h, rules, console, clock):
    """Two categories; three units (two in 政务服务, one in 公安); windows (one with opening
    hours, one revoked); taps of each level, reasons with comments (a phone number); held taps
    of two reasons, one decided; periods: April (ended, not closed), May (closed), the current
    one, one to come; an API key; accounts of each role; audit lines of all that."""
    now = clock()
    actions.create_category(h.r, BOSS, now, registry.Category("c1", "政务服务中心"))
    actions.create_category(h.r, BOSS, now, registry.Category("c2", "公安窗口"))
    actions.create_unit(h.r, BOSS, now, registry.Unit("u1", "蔡甸区政务服务中心", "c1"))
    actions.create_unit(h.r, BOSS, now, registry.Unit("u2", "奓山街道便民服务中心", "c1"))
    actions.create_unit(h.r, BOSS, now, registry.Unit("u3", "蔡甸区公安分局出入境大厅", "c2"))
    h.w1 = actions.create_window(h.r, BOSS, now, "u1", "综合受理窗口", OFFICE_HOURS)
    h.w2 = actions.create_window(h.r, BOSS, now, "u1", "社保医保窗口")
    h.w3 = actions.create_window(h.r, BOSS, now, "u2", "1号窗口")
    h.w4 = actions.create_window(h.r, BOSS, now, "u3", "出入境证件窗口")
    actions.revoke_window(h.r, BOSS, now, h.w2.id)

    h.period("april", "2026-04-01", "2026-04-30")
    h.period("may", "2026-05-01", "2026-05-31")
    clock.t = START - 10 * DAY  # taps in May, for the closed period
    for window, level in [(h.w1, 5), (h.w1, 4), (h.w3, 2), (h.w4, 5)]:
        assert h.tap(window, level, rater=h.rater()).status_code == 201
    clock.t = START
    h.period("p1", "2026-06-01", "2026-09-30")
    h.period("2026H2", "2026-10-01", "2026-12-31")
    for window, levels in [(h.w1, (5, 5, 4, 3, 2, 1)), (h.w2, (5, 4, 3)), (h.w3, (4, 4)), (h.w4, (5, 2))]:
        for level in levels:
            assert h.tap(window, level, rater=h.rater()).status_code == 201
    say(h, h.w1, 1, "排队一个多小时，窗口只开了一个。电话13812345678没人接", tags=["business", "duty"])
    say(h, h.w1, 2, "材料要求说了三遍都不一样", tags=["public"], change_to=1)
    say(h, h.w2, 5, "工作人员很耐心")

    h.w5 = actions.create_window(h.r, BOSS, now, "u2", "2号窗口（已停用）")
    actions.update_window(h.r, BOSS, now, h.w5.id, active=False)

    strict = rules(RULE_MIN_TAP_MS=800, RULE_LATE_TICKET=900)
    held = [tap_from(strict, h.w1, level=lvl, wait=0.1).json["rating_id"] for lvl in (1, 2, 1, 1)]
    held.append(tap_from(strict, h.w4, level=5, wait=1000).json["rating_id"])
    unit, _, stream = held[0].rpartition(".")
    actions.decide(h.r, BOSS, clock(), unit, stream, action="reject", why="同一手机连续评价",
                   tz="Asia/Shanghai")

    actions.create_key(h.r, BOSS, clock(), name="计分服务", role="scorer")
    actions.create_key(h.r, BOSS, clock(), name="蔡甸区政务中心叫号系统", role="manager", units=["u1"])
    console.account("boss", "admin")
    console.account("zhang", "manager", ["u1"])
    actions.update_account(h.r, BOSS, clock(), "zhang", name="张主任")
    actions.create_account(h.r, BOSS, clock(), username="clerk", name="李科员", role="staff")
    actions.create_account(h.r, BOSS, clock(), username="liu", name="刘站长", role="manager", units=["u2", "u3"])
    actions.update_account(h.r, BOSS, clock(), "liu", active=False)
    admin = console.login("boss")
    assert console.post(admin, "/console/periods/may/close").status_code == 302
    return h


def check(page, live: str, path: str, name: str) -> None:
    """Open the page, take its screenshot, run axe: no serious or critical violations."""
    page.goto(f"{live}{path}")
    page.wait_for_load_state("networkidle")
    shot(page, f"a11y-{name}")
    page.add_script_tag(url=AXE_URL)
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + '  ' + n.failureSummary.replace(/\\n/g, ' '))}));
    }""")
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name} ({path}):\n" + "\n".join(
        f"- {v['id']} [{v['impact']}] {v['help']}\n" + "\n".join(f"    {n}" for n in v["nodes"]) for v in bad)


@pytest.fixture
def desk(browser, live):
    """A desktop browser context in Chinese that can load axe."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    ctx.route(f"{live}{AXE_URL}", lambda route: route.fulfill(
        path=str(AXE), content_type="application/javascript; charset=utf-8"))
    yield ctx.new_page()
    ctx.close()


def test_the_login_page(live, desk):
    check(desk, live, "/console/login", "login")


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_an_office_admins_page(data, live, desk, name):
    browser_login(desk, live, "boss")
    check(desk, live, ADMIN_PAGES[name].format(w1=data.w1.id), f"admin-{name}")


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_a_managers_page(data, live, desk, name):
    browser_login(desk, live, "zhang")
    check(desk, live, MANAGER_PAGES[name].format(w1=data.w1.id), f"manager-{name}")
