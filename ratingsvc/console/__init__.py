"""The console: window managers and the evaluation office in a browser, in Chinese.

Server-rendered Jinja pages under /console, one blueprint per area (this package's modules),
over the same domain functions and the same access rules (ratingsvc.access) as the API.
Accounts log in (Flask-Login) to sessions kept in Redis (console.sessions); every form and
htmx request carries a CSRF token (Flask-WTF); logins are throttled (flask-limiter).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from .. import access, accounts
from ..audit import Actor
from ..extensions import client_hash, get_redis
from ..timeutil import iso_time
from .sessions import ConsoleSessions

login_manager = LoginManager()
csrf = CSRFProtect()



class Denied(Exception):
    """403: this account may not see or do that."""

    def __init__(self, message: str = "您的账号无权查看或操作此内容。") -> None:
        super().__init__(message)
        self.message = message


class FormProblem(Exception):
    """400: a form's values cannot be used; the message says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def principal() -> accounts.Account | None:
    user = current_user
    return user if getattr(user, "is_authenticated", False) else None


def actor() -> Actor:
    account = principal()
    assert account is not None
    return Actor("account", account.username, account.name, client_hash()[:16])


def require(action: str, unit_arg: str | None = None) -> Callable:
    """Only for a logged-in account that may take this action (on the unit named by the view's
    argument unit_arg, if given): otherwise to the login page, or 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            account = principal()
            if account is None:
                return redirect(url_for("console_auth.login", next=request.full_path.rstrip("?")))
            unit = kwargs.get(unit_arg) if unit_arg else None
            if not access.may(account, action, unit):
                raise Denied()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def check_unit(action: str, unit_id: str) -> None:
    """403 unless the account may take the action on this unit (for units named in forms)."""
    if not access.may(principal(), action, unit_id):
        raise Denied()


def may(action: str, unit: str | None = None) -> bool:
    return access.may(principal(), action, unit)


def safe_next(target: str | None) -> str:
    """A place to go after login: only a path of this console, never another site."""
    if target and target.startswith("/console") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("console_home.home")


def whole(value: str, longest: int = 11) -> int | None:
    """A whole number typed in a query or form: ASCII digits only ("²".isdigit() is true, and
    int("²") fails), not too long; else None."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= longest else None


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def form_day(text: str) -> date | None:
    """A day typed in a filter (YYYY-MM-DD, 2000 to 2099), or None when empty; 400 otherwise."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FormProblem("日期格式应为 年-月-日，例如 2026-06-01。") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise FormProblem("日期应在 2000-01-01 至 2099-12-31 之间。")
    return day


def local_time(ms: int | float | None) -> str:
    if not ms:
        return ""
    return iso_time(ms, current_app.config["TIMEZONE"])[:19].replace("T", " ")


#: who acted, as an audit line or a decision names them: "account:clerk" -> 账号 clerk
ACTOR_KINDS = {"account": "账号", "key": "API 密钥", "cli": "命令行"}


def who(label: str | None) -> str:
    kind, sep, rest = (label or "").partition(":")
    return f"{ACTOR_KINDS[kind]} {rest}" if sep and kind in ACTOR_KINDS else (label or "")


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render(template: str, status: int = 200, **context: Any):
    """A page with its status (htmx takes what it needs of it with hx-select)."""
    return render_template(template, **context), status


def error_page(status: int, code: str, message: str):
    """An error as the console shows it: the page in Chinese, with the code."""
    return render_template("console/error.html", status=status, code=code, message=message), status


def init_app(app: Flask) -> None:
    app.session_interface = ConsoleSessions()
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # the API uses keys, not cookies
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # as long as the session
    app.config.setdefault("WTF_CSRF_HEADERS", ["X-CSRFToken"])
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the session is server-side and renewed at login
    login_manager.login_view = "console_auth.login"

    @login_manager.user_loader
    def _load(username: str) -> accounts.Account | None:
        account = accounts.get(get_redis(), username)
        return account if account is not None and account.active else None

    from . import auth, home
    from .areas import AREAS, MENU

    for blueprint in [auth.bp, home.bp, *AREAS]:
        app.register_blueprint(blueprint)
    app.before_request(_check)
    app.after_request(_headers)
    app.register_error_handler(CSRFError, lambda exc: error_page(
        400, "csrf", "页面已过期或请求来源不明（缺少或错误的 CSRF 令牌）。请刷新页面后重试。"))
    app.register_error_handler(Denied, lambda exc: error_page(403, "forbidden", exc.message))
    app.register_error_handler(FormProblem, lambda exc: error_page(400, "invalid_form", exc.message))

    app.extensions["ratingsvc.error_page"] = error_page
    app.jinja_env.globals.update(csrf_token=generate_csrf, may=may, nav=MENU, role_names=access.ROLE_NAMES)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["who"] = who


#: the console's pages, whatever is in front: nginx sends the same (nginx-headers.conf); the
#: app's own, so that the pages are tested under it and a deployment without nginx keeps it
CONSOLE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
}


def _headers(response: Any) -> Any:
    """Security headers on console answers; pages (they hold people's data) are not cached."""
    if request.path.startswith("/console"):
        for name, value in CONSOLE_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
    return response


def _check() -> Any:
    """What every console page does first: CSRF on changes; a forced password change."""
    if not (request.blueprint or "").startswith("console_"):
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        # A view that takes a file says how big (max_body); the CSRF check reads the form first.
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "max_body", None):
            request.max_content_length = view.max_body  # type: ignore[union-attr]
        csrf.protect()
    account = principal()
    if account is not None and account.must_change and request.endpoint not in (
            "console_auth.password", "console_auth.logout"):
        return redirect(url_for("console_auth.password"))
    g.console = True
    return None
