"""The console's people: accounts, logging in, sessions in Redis, CSRF, throttling, two factors,
and the audit log of it all."""

from __future__ import annotations

import pyotp
import pytest

from ratingsvc import accounts, create_app, rkeys
from ratingsvc.console.sessions import COOKIE
from tests.console_helpers import PASSWORD, browser_login, csrf_of, shot
from tests.test_config import good


def session_cookie(client):
    cookie = client.get_cookie(COOKIE, path="/console")
    return cookie.value if cookie else None


def test_a_page_asks_for_login_then_opens(console):
    console.account("clerk", "staff")
    client = console.client()
    resp = client.get("/console/review")
    assert resp.status_code == 302 and "/console/login?next=/console/review" in resp.headers["Location"]
    page = client.get("/console/login")
    assert page.status_code == 200 and "登录" in page.text
    resp = client.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                               "next": "/console/review", "csrf_token": csrf_of(page.text)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/console/review")
    assert client.get("/console/review").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example/x", "/api/v1/units",
                                    "/console\\@evil"])
def test_after_login_only_a_console_path_is_followed(console, target):
    console.account("clerk", "staff")
    client = console.client()
    page = client.get("/console/login")
    resp = client.post("/console/login", data={"username": "clerk", "password": PASSWORD, "next": target,
                                               "csrf_token": csrf_of(page.text)})
    assert resp.headers["Location"] in ("/console/", "http://localhost/console/")


def test_wrong_password_and_unknown_account_answer_alike(console):
    console.account("clerk", "staff")
    answers = []
    for username in ("clerk", "nobody"):
        client = console.client()
        page = client.get("/console/login")
        resp = client.post("/console/login", data={"username": username, "password": "wrong-password-1",
                                                   "csrf_token": csrf_of(page.text)})
        answers.append((resp.status_code, resp.text.replace(username, "NAME").replace(
            csrf_of(resp.text), "TOKEN")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and "用户名或密码错误" in answers[0][1]
    assert console.audit_actions().count("account.login_failed") == 2


def test_login_starts_a_new_session_id(console):
    console.account("clerk", "staff")
    client = console.client()
    page = client.get("/console/login")
    before = session_cookie(client)
    assert before  # the login page's session holds its CSRF token
    client.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                        "csrf_token": csrf_of(page.text)})
    after = session_cookie(client)
    assert after and after != before
    # the planted (pre-login) id is worth nothing now
    other = console.client()
    other.set_cookie(COOKIE, before, path="/console")
    assert other.get("/console/review").status_code == 302


def test_session_cookie_flags(console, app):
    console.account("clerk", "staff")
    client = console.client()
    page = client.get("/console/login")
    resp = client.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text)})
    header = [v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith(COOKIE)][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/console" in header
    assert "Secure" in header  # PUBLIC_URL is https in the tests
    plain = create_app({**app.config, "PUBLIC_URL": "http://127.0.0.1:8000"})
    client = plain.test_client()
    page = client.get("/console/login")
    resp = client.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text)})
    header = [v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith(COOKIE)][0]
    assert "Secure" not in header


def test_the_session_is_kept_in_redis_not_in_the_cookie(console, r):
    console.account("clerk", "staff")
    client = console.login("clerk")
    sid = session_cookie(client)
    assert len(sid) >= 40 and "clerk" not in sid
    assert r.scard(rkeys.ACCOUNT_SESSIONS + "clerk") == 1
    assert not r.keys(f"*{sid}*")  # stored under its hash only


def test_idle_and_absolute_timeouts(console, clock, app):
    console.account("clerk", "staff")
    client = console.login("clerk")
    clock.advance(app.config["SESSION_IDLE_MINUTES"] * 60 - 10)
    assert client.get("/console/review").status_code == 200  # still, and it counts as activity
    clock.advance(app.config["SESSION_IDLE_MINUTES"] * 60 + 1)
    assert client.get("/console/review").status_code == 302  # idle too long
    client = console.login("clerk")
    for _ in range(app.config["SESSION_MAX_HOURS"] * 4):
        clock.advance(15 * 60)  # busy all along
        resp = client.get("/console/review")
    assert resp.status_code == 302  # ended at the absolute limit


def test_disabling_an_account_ends_its_sessions(console, runner):
    console.account("clerk", "staff")
    client = console.login("clerk")
    assert client.get("/console/review").status_code == 200
    result = runner.invoke(["users", "disable", "clerk"])
    assert result.exit_code == 0, result.output
    assert client.get("/console/review").status_code == 302
    page = console.client().get("/console/login")
    resp = console.client().post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                                         "csrf_token": csrf_of(page.text)})
    assert resp.status_code in (400, 401)


def test_a_form_without_its_csrf_token_is_refused(console):
    console.account("clerk", "staff")
    client = console.login("clerk")
    resp = client.post("/console/logout")
    assert resp.status_code == 400 and "CSRF" in resp.text and "<html" in resp.text
    assert client.get("/console/review").status_code == 200  # still logged in
    resp = client.post("/console/logout", data={"csrf_token": "made-up"})
    assert resp.status_code == 400
    token = console.token(client, "/console/review")
    resp = client.post("/console/logout", headers={"X-CSRFToken": token})  # as htmx sends it
    assert resp.status_code == 302
    assert client.get("/console/review").status_code == 302  # logged out


def test_login_is_throttled_per_account_whether_or_not_it_exists(console, rules):
    console.account("clerk", "staff")
    for username in ("clerk", "ghost"):
        statuses = []
        for i in range(7):
            client = console.client()  # a new browser each time: the limit is on the name
            page = client.get("/console/login")
            resp = client.post("/console/login", data={"username": username,
                                                       "password": f"wrong-{i}-password",
                                                       "csrf_token": csrf_of(page.text)},
                               headers={"X-Forwarded-For": f"198.51.100.{i}"})
            statuses.append(resp.status_code)
        assert statuses == [401] * 5 + [429] * 2, (username, statuses)
        assert "登录尝试过于频繁" in resp.text
    # the right password is refused too while throttled, with the same answer
    client = console.client()
    page = client.get("/console/login")
    resp = client.post("/console/login", data={"username": "clerk", "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text)})
    assert resp.status_code == 429


def test_login_is_throttled_per_address(console, app, r, clock):
    throttled = create_app({**app.config, "LIMIT_LOGIN_IP": "3 per 15 minutes"})
    from tests.console_helpers import Console

    c = Console(throttled, r, clock)
    statuses = []
    for i in range(5):
        client = c.client()
        page = client.get("/console/login")
        statuses.append(client.post("/console/login", data={"username": f"someone{i}", "password": "x" * 12,
                                                            "csrf_token": csrf_of(page.text)}).status_code)
    assert statuses == [401, 401, 401, 429, 429]


def test_a_temporary_password_must_be_changed_first(console, runner):
    out = runner.invoke(["users", "create", "wang", "--role", "staff", "--name", "王科员"])
    assert out.exit_code == 0, out.output
    temporary = out.stdout.strip().splitlines()[0]
    client = console.login("wang", temporary)
    resp = client.get("/console/review")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/console/password")
    token = console.token(client, "/console/password")
    bad = client.post("/console/password", data={"old": temporary, "new": "short", "again": "short",
                                                 "csrf_token": token})
    assert bad.status_code == 400 and "至少 10 位" in bad.text
    ok = client.post("/console/password", data={"old": temporary, "new": "Hall-Window-2026",
                                                "again": "Hall-Window-2026", "csrf_token": token})
    assert ok.status_code == 302
    assert client.get("/console/review").status_code == 200
    assert accounts.verify(console.r, "wang", "Hall-Window-2026") is not None
    assert accounts.verify(console.r, "wang", temporary) is None


def totp_login(console, app, username):
    client = app.test_client()
    page = client.get("/console/login")
    resp = client.post("/console/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text)})
    return client, resp


def test_an_admin_must_set_up_two_factors_in_production(console, app, r, clock):
    prod = create_app({**app.config, **good()})
    console.account("boss", "admin")
    client, resp = totp_login(console, prod, "boss")
    assert resp.headers["Location"].endswith("/console/login/totp")
    assert client.get("/console/review").status_code == 302  # not logged in yet
    page = client.get("/console/login/totp")
    assert "须启用两步验证" in page.text and "data:image/svg+xml" in page.text
    secret = page.text.split('class="secret">')[1].split("<")[0]
    token = csrf_of(page.text)
    wrong = client.post("/console/login/totp", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 401
    code = pyotp.TOTP(secret).at(clock())
    ok = client.post("/console/login/totp", data={"code": code, "csrf_token": token})
    assert ok.status_code == 302 and client.get("/console/review").status_code == 200
    # next time: the code is asked for, and one code works once
    client, resp = totp_login(console, prod, "boss")
    assert resp.headers["Location"].endswith("/console/login/totp")
    page = client.get("/console/login/totp")
    assert "须启用" not in page.text
    reused = client.post("/console/login/totp", data={"code": code, "csrf_token": csrf_of(page.text)})
    assert reused.status_code == 401
    clock.advance(30)
    fresh = client.post("/console/login/totp", data={"code": pyotp.TOTP(secret).at(clock()),
                                                     "csrf_token": csrf_of(page.text)})
    assert fresh.status_code == 302 and client.get("/console/review").status_code == 200
    # staff are not asked, in production either
    console.account("clerk", "staff")
    _, resp = totp_login(console, prod, "clerk")
    assert not resp.headers["Location"].endswith("/totp")


def test_not_in_development_unless_set(console, app):
    console.account("boss", "admin")
    _, resp = totp_login(console, app, "boss")
    assert not resp.headers["Location"].endswith("/totp")


def test_accounts_from_the_command_line_are_audited(runner, r):
    assert runner.invoke(["users", "create", "li", "--role", "manager"]).exit_code == 1  # no unit
    out = runner.invoke(["users", "create", "li", "--role", "staff"])
    assert out.exit_code == 0
    assert "li" in runner.invoke(["users", "list"]).stdout
    assert runner.invoke(["users", "reset-password", "li"]).exit_code == 0
    assert runner.invoke(["users", "disable", "li"]).exit_code == 0
    assert "停用" in runner.invoke(["users", "list"]).stdout
    lines = [e for e in __import__("ratingsvc.audit", fromlist=["x"]).newest_first(r)]
    assert [e.action for e in lines] == ["account.disable", "account.reset_password", "account.create"]
    assert all(e.actor_kind == "cli" for e in lines)
    assert lines[0].before["active"] is True and lines[0].after["active"] is False


def test_api_changes_are_audited_with_the_key(h, r):
    from ratingsvc import audit

    h.unit("u1")
    resp = h.client.patch("/api/v1/units/u1", json={"name": "新名字"}, headers=h.admin)
    assert resp.status_code == 200
    entry = next(audit.newest_first(r))
    assert entry.action == "unit.update" and entry.actor_kind == "key" and entry.target == "unit:u1"
    assert entry.before["name"] == "单位u1" and entry.after["name"] == "新名字"
    assert len(entry.addr) == 16  # a keyed hash, not the address
    assert "127.0.0.1" not in str(r.xrange(rkeys.AUDIT))


def test_login_page_in_a_browser(console, live, browser):
    console.account("clerk", "staff")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{live}/console/login")
    shot(page, "console-login")
    browser_login(page, live, "clerk", "wrong-password!")
    assert "用户名或密码错误" in page.content()
    browser_login(page, live, "clerk")
    assert page.url.endswith("/console/dashboard")
    shot(page, "console-home-staff")
    ctx.close()


def test_console_pages_carry_the_csp_and_are_not_cached(console):
    client = console.as_role("staff", username="clerk")
    resp = client.get("/console/review")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"
    static = client.get("/static/console/console.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
