"""The console's guards in a real browser (Debian's Chromium, driven by Playwright), against the
app on a live local server: a throttled login, a form that lost its CSRF token, two factors
required of an admin in production. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import threading

import pyotp
import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from ratingsvc import create_app
from tests.console_helpers import PASSWORD, Quiet, browser_login, shot
from tests.test_config import good


@pytest.fixture
def desk(browser):
    """A desktop browser context in Chinese."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    yield ctx.new_page()
    ctx.close()


def test_a_login_is_throttled_after_repeated_failures(console, live, desk):
    console.account("clerk", "staff")
    for i in range(5):
        browser_login(desk, live, "clerk", f"not-the-password-{i}")
        assert "用户名或密码错误" in desk.content()
    browser_login(desk, live, "clerk", PASSWORD)  # the right one, too late
    assert "登录尝试过于频繁" in desk.content() and desk.url.endswith("/console/login")
    shot(desk, "console-login-throttled")
    desk.goto(f"{live}/console/review")
    assert "/console/login" in desk.url  # not logged in


def test_a_form_without_its_csrf_token_is_refused(console, live, desk, r):
    console.account("boss", "admin")
    browser_login(desk, live, "boss")
    desk.goto(f"{live}/console/registry")
    desk.wait_for_selector("input[name=csrf_token]", state="attached")
    desk.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    form = desk.locator("form[method=post]").filter(has=desk.locator("input[name=name]")).first
    form.locator("input[name=id]").fill("c9")
    form.locator("input[name=name]").fill("无令牌的类别")
    form.locator("button[type=submit]").click()
    desk.wait_for_load_state("networkidle")
    assert "CSRF" in desk.content() and "请刷新页面后重试" in desk.content()
    shot(desk, "console-csrf-refused")
    assert not r.sismember("rs:cats", "c9")  # nothing written


@pytest.fixture
def production(app, redis_server, clock):
    """The app as production runs it (ENV=production), on a live local server."""
    prod = create_app({**app.config, **good()})  # https PUBLIC_URL: Secure cookies (Chromium keeps
    # them for 127.0.0.1 over http, as a trustworthy origin)
    server = make_server("127.0.0.1", 0, prod, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_an_admin_in_production_must_add_a_second_factor(console, production, desk, clock):
    console.account("boss", "admin")
    browser_login(desk, production, "boss")
    assert desk.url.endswith("/console/login/totp")
    assert "须启用两步验证" in desk.content()
    shot(desk, "console-totp-setup")
    desk.goto(f"{production}/console/dashboard")
    assert "/console/login" in desk.url  # the console stays shut until the code is given
    browser_login(desk, production, "boss")
    secret = desk.locator("code.secret").inner_text()
    desk.fill("input[name=code]", pyotp.TOTP(secret).at(clock()))
    desk.click("button[type=submit]")
    desk.wait_for_load_state("networkidle")
    assert desk.url.endswith("/console/dashboard")
    desk.click("text=退出")
    desk.wait_for_load_state("networkidle")
    clock.advance(30)
    browser_login(desk, production, "boss")
    assert "须启用" not in desk.content() and desk.url.endswith("/console/login/totp")
    desk.fill("input[name=code]", "123456" if pyotp.TOTP(secret).at(clock()) != "123456" else "654321")
    desk.click("button[type=submit]")
    desk.wait_for_load_state("networkidle")
    assert "验证码错误" in desk.content()
    shot(desk, "console-totp-wrong")
    desk.fill("input[name=code]", pyotp.TOTP(secret).at(clock()))
    desk.click("button[type=submit]")
    desk.wait_for_load_state("networkidle")
    assert desk.url.endswith("/console/dashboard")


def test_lists_filter_as_one_types_without_reloading_the_page(console, live, desk, h):
    for i in range(12):
        h.unit(f"u{i:02d}", name=f"{'税务' if i % 3 == 0 else '社保'}服务站{i}")
    console.account("clerk", "staff")
    browser_login(desk, live, "clerk")
    desk.goto(f"{live}/console/units")
    desk.evaluate("window.stillHere = true")  # gone if the page were loaded again
    assert desk.locator("#unit-list tbody tr").count() == 12
    desk.fill("input[name=q]", "税务")
    expect(desk.locator("#unit-list tbody tr")).to_have_count(4)  # (a string to wait_for_function
    # would be eval'd in the page: the console's CSP refuses that, as it should)
    assert desk.evaluate("window.stillHere") is True
    assert "q=%E7%A8%8E%E5%8A%A1" in desk.url or "q=税务" in desk.url  # the address follows (back works)
    shot(desk, "console-units-filtered")
