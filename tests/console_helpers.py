"""Console test helpers: accounts, logging in with a test client (CSRF token and all), reading
the token from a page, and logging a real browser in."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.serving import WSGIRequestHandler

from ratingsvc import accounts, audit

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "Correct-Horse-9"
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


def csrf_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page carries no CSRF token"
    return found[1]


class Console:
    def __init__(self, app, r, clock) -> None:
        self.app, self.r, self.clock = app, r, clock

    def account(self, username: str = "clerk", role: str = "staff", units: list[str] | None = None,
                password: str = PASSWORD) -> accounts.Account:
        """An account with a password of its own (no change needed at login)."""
        account, _ = accounts.create(self.r, username=username, name=f"{username} 的名字", role=role,
                                     units=units, now=self.clock(), password=password)
        return account

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def login(self, username: str = "clerk", password: str = PASSWORD,
              client: FlaskClient | None = None) -> FlaskClient:
        """A test client logged in as this account (it must need no second factor)."""
        client = client or self.client()
        page = client.get("/console/login")
        resp = client.post("/console/login", data={"username": username, "password": password,
                                                   "csrf_token": csrf_of(page.text)})
        assert resp.status_code == 302, resp.text[:500]
        return client

    def as_role(self, role: str, units: list[str] | None = None, username: str | None = None) -> FlaskClient:
        """A new account of this role, logged in."""
        name = username or f"{role}{len(accounts.list_all(self.r)) + 1}"
        self.account(name, role, units)
        return self.login(name)

    @staticmethod
    def token(client: FlaskClient, path: str = "/console/") -> str:
        """The CSRF token of this client's session (from a page it may open)."""
        return csrf_of(client.get(path, follow_redirects=True).text)

    def post(self, client: FlaskClient, path: str, data: dict | None = None, **kwargs):
        """A form post with the session's CSRF token."""
        return client.post(path, data={**(data or {}), "csrf_token": self.token(client)}, **kwargs)

    def audit_actions(self) -> list[str]:
        return [e.action for e in audit.newest_first(self.r)]


def browser_login(page, live: str, username: str, password: str = PASSWORD) -> None:
    """Log a Playwright page in through the login form."""
    page.goto(f"{live}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shot(page, name: str) -> None:
    """A screenshot for a person to look at: tests/artifacts/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
