"""Accessibility of every console page: axe-core (vendored in tests/vendor, a test tool the app
does not serve) runs the WCAG 2 A and AA rules in Chromium on each page, as an office admin and
as a unit manager would see it, over one realistic data set; no violation of impact serious or
critical. Each page's full screenshot goes to tests/artifacts/a11y-<page>.png, to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from ratingsvc import actions, registry
from ratingsvc.audit import Actor
from ratingsvc.cases import store
from tests.conftest import START
from tests.console_helpers import browser_login, shot
from tests.helpers import tap_from
from tests.test_console_units import OFFICE_HOURS, say

AXE = sorted((Path(__file__).parent / "vendor").glob("axe-core-*/axe.min.js"))[-1]
#: where the browser fetches axe from: a route the test answers itself, as if the app served
#: it. In production nginx adds CSP script-src 'self' (nginx-headers.conf), under which an
#: inline <script> with axe's text would be refused; the app under test sends no CSP, but a
#: script of the page's own origin works under both.
AXE_URL = "/static/__axe__/axe.min.js"
DAY = 86400
BOSS = Actor("account", "boss", "王主任", "0123456789abcdef")


def import_file(rows: list[str]):
    """Upload a CSV of these rows on the import form: the preview (or the file's errors)."""
    def upload(page, live, data, tmp_path) -> None:
        path = tmp_path / "单位.csv"
        path.write_text("\r\n".join(["category_id,category_name,unit_id,unit_name,windows", *rows]) + "\r\n",
                        encoding="utf-8")
        page.goto(f"{live}/console/registry/import")
        page.set_input_files("input[type=file]", str(path))
        page.click("text=上传并预览")
    return upload


def new_key(page, live, data, tmp_path) -> None:
    page.goto(f"{live}/console/keys")
    page.fill("input[name=name]", "区考评系统")
    page.click("button:has-text('创建')")


def reset_password(page, live, data, tmp_path) -> None:
    page.goto(f"{live}/console/accounts/clerk")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('重置密码')")


def bad_period(page, live, data, tmp_path) -> None:
    page.goto(f"{live}/console/periods")
    page.fill("input[name=id]", "2027")
    page.fill("input[name=name]", "2027 年")
    page.fill("input[name=start]", "2027-12-31")
    page.fill("input[name=end]", "2027-01-01")
    page.click("button:has-text('创建')")


def open_case(page, live, data, tmp_path) -> None:
    page.goto(f"{live}/console/units/u1/cases")
    page.locator("table.c-inbox tbody tr a").first.click()


def case_mistake(page, live, data, tmp_path) -> None:
    """A reply left empty (the browser's own check taken away, as an old browser would)."""
    open_case(page, live, data, tmp_path)
    page.wait_for_load_state("networkidle")
    page.evaluate("document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))")
    page.click("button:has-text('提交解释说明')")


#: page name -> path ({w1} the first window's id) or what a person does; for the office admin
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
    "import-preview": import_file(["c1,政务服务中心,u4,索河街道便民服务中心,1号窗口|2号窗口",
                                   "c2,公安窗口,u3,蔡甸区公安分局出入境接待大厅,出入境证件窗口"]),
    "import-mistake": import_file(["c1,政务服务中心,u 5,错误编号的单位,窗口"]),
    "cases": "/console/cases",
    "unit-cases": "/console/units/u1/cases",
    "case": open_case,
    "appeals": "/console/appeals",
    "review": "/console/review",
    "decisions": "/console/review/decisions",
    "scores": "/console/scores",
    "periods": "/console/periods",
    "period-edit": "/console/periods/2026H2/edit",
    "period-mistake": bad_period,
    "close": "/console/periods/april/close",
    "keys": "/console/keys",
    "key-created": new_key,
    "accounts": "/console/accounts",
    "account": "/console/accounts/clerk",
    "password-reset": reset_password,
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
    "cases": "/console/cases",
    "case": open_case,
    "case-mistake": case_mistake,
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
    of two reasons, one decided; the cases of the 差评, one verified, one appealed; periods:
    April (ended, not closed), May (closed), the current one, one to come; an API key; accounts
    of each role; audit lines of all that."""
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
    actions.update_account(h.r, BOSS, clock(), "boss", name="王主任")
    console.account("zhang", "manager", ["u1"])
    actions.update_account(h.r, BOSS, clock(), "zhang", name="张主任")
    actions.create_account(h.r, BOSS, clock(), username="clerk", name="李科员", role="staff")
    actions.create_account(h.r, BOSS, clock(), username="liu", name="刘站长", role="manager",
                           units=["u2", "u3"])
    actions.update_account(h.r, BOSS, clock(), "liu", active=False)
    policy = h.app.extensions["ratingsvc.cases"]
    first, second, *_ = store.inbox_order(store.of_units(h.r, ["u1"], open_only=True), int(clock() * 1000))
    zhang = Actor("account", "zhang", "张主任", "0123456789abcdef")
    actions.case_step(h.r, zhang, clock(), policy, "u1", first.id, "verify",
                      text={"note": "已电话联系评价人"})
    actions.file_appeal(h.r, zhang, clock(), policy, "u1", second.id, reason="工作人员误触评价器",
                        evidence="监控 10:02")
    admin = console.login("boss")
    assert console.post(admin, "/console/periods/may/close").status_code == 302
    return h


def visit(page, live: str, how, data, tmp_path) -> None:
    """Open a page: by its path ({w1}: the first window's id), or by what a person does."""
    if callable(how):
        how(page, live, data, tmp_path)
    else:
        page.goto(f"{live}{how.format(w1=data.w1.id)}")
    page.wait_for_load_state("networkidle")


def violations(page) -> list[dict]:
    """axe's WCAG 2 A and AA violations on the page as it is: id, impact, help, the nodes."""
    page.add_script_tag(url=AXE_URL)
    return page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary.replace(/\\s+/g, ' '))}));
    }""")


def serious(page, name: str) -> str:
    """The page's screenshot, then axe: its violations of impact serious or critical, said."""
    shot(page, f"a11y-{name}")
    bad = [v for v in violations(page) if v["impact"] in ("serious", "critical")]
    return "\n".join(f"- {v['id']} [{v['impact']}] {v['help']}\n" + "\n".join(f"    {n}" for n in v["nodes"])
                     for v in bad)


def every_page(desk, live, data, tmp_path, username: str, pages: dict, prefix: str) -> None:
    """Each page in turn, in one login (one data set for all: a minute, not four); every page
    with a problem is named, with its problems."""
    browser_login(desk, live, username)
    problems = {}
    for name, how in pages.items():
        visit(desk, live, how, data, tmp_path)
        found = serious(desk, f"{prefix}-{name}")
        if found:
            problems[name] = f"{name} ({desk.url}):\n{found}"
    assert not problems, "\n".join(problems.values())


@pytest.fixture
def desk(browser, live):
    """A desktop browser context in Chinese that can load axe."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    ctx.route(f"{live}{AXE_URL}", lambda route: route.fulfill(
        path=str(AXE), content_type="application/javascript; charset=utf-8"))
    yield ctx.new_page()
    ctx.close()


def test_axe_runs_and_finds_what_is_planted(live, desk):
    """The harness itself: axe loads under the pages' CSP and reports a planted fault (an input
    without a label, grey on white), so that a page passing means something."""
    desk.goto(f"{live}/console/login")
    desk.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<input id=planted><p id=faint style="color:#ccc;background:#fff">看不清</p>')""")
    found = {v["id"]: v for v in violations(desk)}
    assert found["label"]["impact"] == "critical" and "#planted" in found["label"]["nodes"][0]
    assert found["color-contrast"]["impact"] == "serious"


def test_the_login_page(live, desk):
    desk.goto(f"{live}/console/login")
    assert serious(desk, "login") == ""


def test_every_page_an_office_admin_opens(data, live, desk, tmp_path):
    every_page(desk, live, data, tmp_path, "boss", ADMIN_PAGES, "admin")


def test_every_page_a_manager_opens(data, live, desk, tmp_path):
    every_page(desk, live, data, tmp_path, "zhang", MANAGER_PAGES, "manager")


def test_the_citizens_case_page(h, live, browser):
    """The rater's case page (an elder-friendly phone page) before the reply, and with its
    follow-up buttons. It refuses every script (script-src 'none'), so axe comes in with the
    browser's CSP bypass."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN", bypass_csp=True)
    ctx.route(f"{live}{AXE_URL}", lambda route: route.fulfill(
        path=str(AXE), content_type="application/javascript; charset=utf-8"))
    page = ctx.new_page()
    try:
        answer = tap_from(h, h.window(), level=1).json
        path = answer["case_url"].split("/r/", 1)[1]
        page.goto(f"{live}/r/{path}")
        assert serious(page, "citizen-case-new") == ""
        unit, sid = answer["rating_id"].rsplit(".", 1)
        reply = {"reply": "经核实，该事项需本人到场办理，已电话向您说明。"}
        store.step(h.r, h.app.extensions["ratingsvc.cases"], unit, sid, "explain", by="m",
                   now_ms=int(h.clock() * 1000), text=reply)
        page.goto(f"{live}/r/{path}")
        assert page.get_by_role("button", name="满意", exact=True).is_visible()
        assert serious(page, "citizen-case-replied") == ""
    finally:
        ctx.close()
