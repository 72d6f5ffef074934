"""The office admin's pages: API keys (shown once), accounts (temporary passwords shown once,
disable ends sessions, no demoting or disabling oneself), and the audit log (filters, cursor
paging, CSV). Only admins: staff and managers get 403."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pyotp
import pytest

from ratingsvc import accounts, apikeys, rkeys
from ratingsvc.console import admin_audit
from tests.console_helpers import PASSWORD, browser_login, csrf_of, shot

PAGES = ["/console/keys", "/console/accounts", "/console/audit", "/console/audit.csv",
         "/console/accounts/clerk"]
POSTS = ["/console/keys", "/console/keys/0123456789ab/revoke", "/console/accounts", "/console/accounts/clerk",
         "/console/accounts/clerk/active", "/console/accounts/clerk/password", "/console/accounts/clerk/totp"]
SECRET = re.compile(r'id="(?:new-key|temporary-password)">([^<]+)<')


@pytest.fixture
def office(h, console):
    """Units u1 and u2, an account clerk (staff), and the admin 'boss' logged in."""
    h.unit("u1"), h.unit("u2")
    console.account("clerk", "staff")
    console.account("boss", "admin")
    return console.login("boss")


def logged(page: str) -> str:
    """The audit page's entries (not its filters)."""
    return page[page.index("<tbody>"):] if "<tbody>" in page else ""


def secret_of(page: str) -> str:
    found = SECRET.search(page)
    assert found, "no secret on the page"
    return found[1]


@pytest.mark.parametrize("role,units", [("staff", None), ("manager", ["u1"])])
def test_only_admins_manage_keys_accounts_and_read_the_audit_log(h, console, role, units):
    h.unit("u1")
    console.account("clerk", "staff")
    client = console.as_role(role, units)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    token = console.token(client)
    for path in POSTS:
        resp = client.post(path, data={"csrf_token": token, "name": "x", "role": "admin", "username": "x1",
                                       "active": "0"})
        assert resp.status_code == 403, path
    review = client.get("/console/review").status_code
    assert review == (200 if role == "staff" else 403)
    assert accounts.get(h.r, "clerk").active and apikeys.list_keys(h.r) == []
    assert accounts.get(h.r, "x1") is None
    assert not [a for a in console.audit_actions() if a.split(".")[0] in ("key", "account") and
                a not in ("account.login",)]


def test_a_key_is_shown_once_works_and_is_revoked(h, console, office):
    resp = console.post(office, "/console/keys", {"name": "计分服务", "role": "scorer"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    key = secret_of(resp.text)
    assert key.startswith("rsk_") and "只显示这一次" in resp.text
    listing = office.get("/console/keys").text
    assert "<td>计分服务</td>" in listing and key not in listing
    assert "2026-06-01 10:00:00" in listing  # created, local time
    bearer = {"Authorization": f"Bearer {key}"}
    assert h.client.get("/api/v1/units", headers=bearer).status_code == 200
    [record] = apikeys.list_keys(h.r)
    resp = console.post(office, f"/console/keys/{record.id}/revoke")
    assert resp.status_code == 302 and "done=revoked" in resp.headers["Location"]
    assert "密钥已吊销" in office.get(resp.headers["Location"]).text
    assert h.client.get("/api/v1/units", headers=bearer).status_code == 401
    assert console.post(office, f"/console/keys/{record.id}/revoke").status_code == 404
    assert console.post(office, "/console/keys/0/revoke").status_code == 404  # never a prefix of many
    assert console.audit_actions()[:2] == ["key.revoke", "key.create"]


def test_a_manager_key_names_known_units(h, console, office):
    unknown = console.post(office, "/console/keys", {"name": "大厅屏", "role": "manager",
                                                     "units": "u1, ghost"})
    assert unknown.status_code == 400 and "没有编号为“ghost”的单位" in unknown.text
    none = console.post(office, "/console/keys", {"name": "大厅屏", "role": "manager", "units": ""})
    assert none.status_code == 400 and "至少要指定一个单位" in none.text
    assert apikeys.list_keys(h.r) == []
    ok = console.post(office, "/console/keys", {"name": "大厅屏", "role": "manager", "units": "u1、u2"})
    assert ok.status_code == 200 and apikeys.list_keys(h.r)[0].units == ["u1", "u2"]


def test_a_new_account_gets_a_temporary_password_it_must_change(h, console, office):
    resp = console.post(office, "/console/accounts", {"username": "lisi", "name": "李四", "role": "manager",
                                                      "units": "u2"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    temporary = secret_of(resp.text)
    assert "临时密码只显示这一次" in resp.text and temporary not in office.get("/console/accounts").text
    listing = office.get("/console/accounts").text
    assert "李四" in listing and "窗口负责人" in listing and "待改临时密码" in listing
    person = console.login("lisi", temporary)
    assert person.get("/console/units").headers["Location"].endswith("/console/password")
    page = person.get("/console/password").text
    changed = person.post("/console/password", data={"old": temporary, "new": "Ming-Yue-Pass-7",
                                                     "again": "Ming-Yue-Pass-7", "csrf_token": csrf_of(page)})
    assert changed.status_code == 302
    assert person.get("/console/review").status_code == 403  # a manager now, not redirected
    assert "account.create" in console.audit_actions()
    bad = console.post(office, "/console/accounts", {"username": "wangwu", "role": "manager", "units": "u9"})
    assert bad.status_code == 400 and "没有编号为“u9”的单位" in bad.text
    assert accounts.get(h.r, "wangwu") is None
    taken = console.post(office, "/console/accounts", {"username": "lisi", "role": "staff"})
    assert taken.status_code == 400 and "已存在" in taken.text


def test_editing_an_account_and_not_demoting_or_disabling_oneself(h, console, office):
    resp = console.post(office, "/console/accounts/clerk", {"name": "王办事员", "role": "manager",
                                                            "units": "u1 u2"})
    assert resp.status_code == 302
    clerk = accounts.get(h.r, "clerk")
    assert (clerk.name, clerk.role, clerk.units) == ("王办事员", "manager", ["u1", "u2"])
    unknown = console.post(office, "/console/accounts/clerk", {"role": "manager", "units": "u1 nope"})
    assert unknown.status_code == 400 and "没有编号为“nope”的单位" in unknown.text
    demote = console.post(office, "/console/accounts/boss", {"name": "老板", "role": "staff"})
    assert demote.status_code == 400 and "不能更改自己账号的角色" in demote.text
    disable = console.post(office, "/console/accounts/boss/active", {"active": "0"})
    assert disable.status_code == 400 and "不能停用自己的账号" in disable.text
    assert accounts.get(h.r, "boss").role == "admin" and accounts.get(h.r, "boss").active
    assert office.get("/console/accounts/nobody").status_code == 404
    assert console.audit_actions().count("account.update") == 1


def test_disabling_ends_the_session_and_resets_are_shown_once(h, console, office):
    clerk = console.login("clerk")
    assert clerk.get("/console/review").status_code == 200
    resp = console.post(office, "/console/accounts/clerk/active", {"active": "0"})
    assert resp.status_code == 302 and "已停用" in office.get(resp.headers["Location"]).text
    after = clerk.get("/console/review")
    assert after.status_code == 302 and "/console/login" in after.headers["Location"]
    assert console.post(office, "/console/accounts/clerk/active", {"active": "1"}).status_code == 302
    reset = console.post(office, "/console/accounts/clerk/password")
    temporary = secret_of(reset.text)
    assert accounts.verify(h.r, "clerk", PASSWORD) is None and accounts.verify(h.r, "clerk", temporary)
    secret = accounts.new_totp_secret()
    assert accounts.enable_totp(h.r, "clerk", secret, pyotp.TOTP(secret).at(h.clock()), h.clock())
    assert "已开启" in office.get("/console/accounts").text
    assert console.post(office, "/console/accounts/clerk/totp").status_code == 302
    assert not accounts.get(h.r, "clerk").totp
    assert [a for a in console.audit_actions() if a.startswith("account.") and a not in (
        "account.login", "account.logout")] == ["account.reset_totp", "account.reset_password",
                                                "account.enable", "account.disable"]


def test_the_audit_log_filters_pages_and_shows_changes_readably(h, console, office, clock, monkeypatch):
    console.post(office, "/console/accounts/clerk", {"name": "王办事员", "role": "manager", "units": "u1"})
    console.post(office, "/console/keys", {"name": "计分服务", "role": "scorer"})
    page = office.get("/console/audit?action=account.update").text
    assert "修改账号" in logged(page) and "account:clerk" in page and "创建 API 密钥" not in logged(page)
    row = logged(page)
    assert re.search(r"<td>角色</td><td[^>]*>评议办工作人员</td><td[^>]*>窗口负责人</td>", row)
    assert re.search(r"<td>单位</td><td[^>]*></td><td[^>]*>u1</td>", row)
    keys = logged(office.get("/console/audit?action=key.").text)
    assert "创建 API 密钥" in keys and "修改账号" not in keys
    assert "account:clerk" not in logged(office.get("/console/audit?target=key:").text)
    assert "修改账号" in logged(office.get("/console/audit?actor=boss").text)
    assert "<tbody>" not in office.get("/console/audit?actor=nobody").text
    monkeypatch.setattr(admin_audit, "PAGE", 2)
    first = office.get("/console/audit").text
    cursor = re.search(r'href="/console/audit\?before=([0-9-]+)"', first)[1]
    second = office.get(f"/console/audit?before={cursor}").text
    assert "回到最新" in second and "创建 API 密钥" in logged(first) and "创建 API 密钥" not in logged(second)


def test_the_audit_log_filters_by_date(h, console, clock, r):
    # The log's ids are the Redis server's times (its clock, not the test's): a line of
    # 2020-01-02 first, written as audit.record writes one; then today's, on the real clock.
    old = int(datetime(2020, 1, 2, 12, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
    r.xadd(rkeys.AUDIT, {"time": str(old), "actor": "cli:root@host", "actor_kind": "cli",
                         "actor_name": "命令行", "addr": "", "action": "key.create", "target": "key:abc",
                         "before": "", "after": ""}, id=f"{old}-0")
    clock.t = time.time()
    h.unit("u1")
    console.account("clerk", "staff")
    console.account("boss", "admin")
    office = console.login("boss")
    console.post(office, "/console/accounts/clerk", {"name": "王办事员", "role": "staff"})
    today = datetime.fromtimestamp(clock.t, ZoneInfo("Asia/Shanghai")).date().isoformat()
    then = logged(office.get("/console/audit?until=2020-01-02").text)
    assert "创建 API 密钥" in then and "2020-01-02 12:00:00" in then and "修改账号" not in then
    later = logged(office.get("/console/audit?since=2020-01-03").text)
    assert "创建 API 密钥" not in later and "修改账号" in later
    assert "修改账号" in logged(office.get(f"/console/audit?since={today}&until={today}").text)
    assert "<tbody>" not in office.get("/console/audit?since=2020-01-03&until=2020-01-04").text
    assert office.get("/console/audit?since=yesterday").status_code == 400


def test_the_audit_export_is_csv_with_formulas_inert(h, console, office):
    console.post(office, "/console/accounts", {"username": "evil", "name": '=HYPERLINK("x")',
                                               "role": "staff"})
    resp = office.get("/console/audit.csv?action=account.create")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间", "操作者", "操作者名称"] and len(rows) == 2
    assert rows[1][5:8] == ["account.create", "创建账号", "account:evil"]
    assert "=HYPERLINK" in rows[1][9] and rows[1][1] == "account:boss"
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_an_admin_creates_an_account_and_disables_it_in_a_browser(h, console, live, browser):
    h.unit("u1")
    console.account("boss", "admin")
    admin = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    person = context.new_page()
    try:
        browser_login(admin, live, "boss")
        admin.goto(f"{live}/console/accounts")
        admin.fill("input[name=username]", "zhaoliu")
        admin.fill("input[name=name]", "赵六")
        admin.select_option("select[name=role]", "manager")
        admin.fill("input[name=units]", "u1")
        admin.click("text=创建账号 >> nth=-1")
        admin.wait_for_load_state("networkidle")
        temporary = admin.inner_text("#temporary-password")
        shot(admin, "admin-account-created")
        browser_login(person, live, "zhaoliu", temporary)
        assert person.url.endswith("/console/password") and "临时密码" in person.inner_text("main")
        shot(person, "admin-first-login-change")
        person.fill("input[name=old]", temporary)
        person.fill("input[name=new]", "Zhao-Liu-Pass-8")
        person.fill("input[name=again]", "Zhao-Liu-Pass-8")
        person.click("button[type=submit] >> text=保存")
        person.wait_for_load_state("networkidle")
        assert "/console/password" not in person.url
        admin.goto(f"{live}/console/accounts/zhaoliu")
        admin.once("dialog", lambda d: d.accept())
        admin.click("text=停用账号")
        admin.wait_for_load_state("networkidle")
        assert "账号已停用" in admin.inner_text(".alert-ok")
        shot(admin, "admin-account-disabled")
        person.reload()
        assert "/console/login" in person.url
    finally:
        admin.close()
        context.close()
    admin_pages = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        browser_login(admin_pages, live, "boss")
        admin_pages.goto(f"{live}/console/audit")
        assert "停用账号" in admin_pages.inner_text("table")
        shot(admin_pages, "admin-audit")
        admin_pages.goto(f"{live}/console/keys")
        admin_pages.fill("input[name=name]", "市考评系统计分服务")
        admin_pages.click("text=创建 >> nth=-1")
        admin_pages.wait_for_load_state("networkidle")
        assert admin_pages.inner_text("#new-key").startswith("rsk_")
        shot(admin_pages, "admin-key-created")
        admin_pages.goto(f"{live}/console/keys")
        assert "市考评系统计分服务" in admin_pages.inner_text("table") and "rsk_" not in admin_pages.content()
        shot(admin_pages, "admin-keys")
    finally:
        admin_pages.close()
