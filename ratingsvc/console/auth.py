"""Logging in and out: password, then (if the account has one, or must) a TOTP code; a forced
change of a temporary password; the account's own page (password, second factor)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

import qr

from .. import accounts, actions, audit
from ..audit import Actor
from ..extensions import client_hash, get_redis, now
from ..limiting import limiter, setting
from . import actor, principal, safe_next

bp = Blueprint("console_auth", __name__, url_prefix="/console", template_folder="templates")
WRONG = "用户名或密码错误。"  # the same whether or not the account exists
WRONG_CODE = "验证码错误或已使用，请输入验证器当前显示的 6 位数字。"
THROTTLED = "登录尝试过于频繁，请 15 分钟后再试。"
PENDING_SECONDS = 300  # between the password and the code


def _login_name() -> str:
    """Whose password or code this request tries: the name typed at the login form; the account
    waiting for its code (the session's, never a form field: a field would make a new bucket
    per guess); the logged-in account changing its password."""
    if request.endpoint == "console_auth.login":
        return (request.form.get("username") or "").strip().lower()
    if request.endpoint == "console_auth.totp":
        return str(session.get("pending") or "")
    account = principal()
    return account.username if account is not None else ""


def _account_bucket() -> str:
    """Per account name, whether or not it exists (so the limit tells nothing), hashed."""
    return "login:" + hashlib.sha256(_login_name().encode()).hexdigest()[:16]


def _ip_bucket() -> str:
    return "login-ip:" + client_hash()[:16]


THROTTLED_PAGES = {"console_auth.totp": "console/totp.html", "console_auth.password": "console/password.html",
                   "console_auth.my_totp": "console/my_totp.html"}


def _throttled(_limit: object):
    template = THROTTLED_PAGES.get(request.endpoint or "", "console/login.html")
    return current_app.make_response((render_template(template, error=THROTTLED,
                                                      username=_login_name()), 429))


def _limits(view):
    view = limiter.limit(setting("LIMIT_LOGIN_ACCOUNT"), key_func=_account_bucket, methods=["POST"],
                         on_breach=_throttled, error_message=THROTTLED)(view)
    return limiter.limit(setting("LIMIT_LOGIN_IP"), key_func=_ip_bucket, methods=["POST"],
                         on_breach=_throttled, error_message=THROTTLED)(view)


def _person(username: str) -> Actor:
    return Actor("account", username, username, client_hash()[:16])


def totp_required(account: accounts.Account) -> bool:
    return account.role == "admin" and current_app.config["ENV"] == "production"


def _finish(account: accounts.Account):
    """Logged in: a new session (new id), the next page."""
    target = session.pop("next", None)
    session.clear()
    session.regenerate()  # type: ignore[attr-defined]
    login_user(account)
    audit.record(get_redis(), _person(account.username), "account.login", f"account:{account.username}",
                 now=now())
    return redirect(url_for("console_auth.password") if account.must_change else safe_next(target))


@bp.route("/login", methods=["GET", "POST"])
@_limits
def login():
    if request.method == "GET":
        if principal() is not None:
            return redirect(safe_next(request.args.get("next")))
        return render_template("console/login.html", next=request.args.get("next", ""))
    username = _login_name()
    account = accounts.verify(get_redis(), username, request.form.get("password", ""))
    if account is None:
        known = accounts.get(get_redis(), username) is not None  # a name typed is no identifier
        who = username if known else "?"  # to keep: it may be a password pasted in the wrong box
        audit.record(get_redis(), _person(who), "account.login_failed", f"account:{who}", now=now())
        return render_template("console/login.html", error=WRONG, username=username,
                               next=request.form.get("next", "")), 401
    session.clear()
    session.regenerate()  # an id planted before is worth nothing now
    session["next"] = request.form.get("next", "")
    if account.totp or totp_required(account):
        session["pending"], session["pending_at"] = account.username, now()
        if not account.totp:
            session["new_totp"] = accounts.new_totp_secret()
        return redirect(url_for("console_auth.totp"))
    return _finish(account)


def _pending() -> accounts.Account | None:
    username = session.get("pending")
    if not username or now() - session.get("pending_at", 0) > PENDING_SECONDS:
        return None
    account = accounts.get(get_redis(), username)
    return account if account is not None and account.active else None


def _qr_context(secret: str, username: str) -> dict:
    uri = accounts.totp_uri(secret, username, current_app.config["TOTP_ISSUER"])
    return {"secret": secret, "qr": qr.svg_data_uri(uri, 180)}


@bp.route("/login/totp", methods=["GET", "POST"])
@_limits
def totp():
    account = _pending()
    if account is None:  # nothing waiting for a code (a GET here must not end a session)
        for k in ("pending", "pending_at", "new_totp"):
            session.pop(k, None)
        return redirect(url_for("console_auth.login"))
    secret = session.get("new_totp")  # enrolment: required, and none set yet
    context = {"username": account.username, "enrol": bool(secret)}
    if secret:
        context.update(_qr_context(secret, account.username))
    if request.method == "GET":
        return render_template("console/totp.html", **context)
    code = request.form.get("code", "")
    r, who = get_redis(), _person(account.username)
    ok = (actions.enable_totp(r, who, now(), account.username, secret, code) if secret
          else accounts.verify_totp(r, account.username, code, now()))
    if not ok:
        return render_template("console/totp.html", error=WRONG_CODE, **context), 401
    return _finish(accounts.require(r, account.username))


@bp.route("/logout", methods=["POST"])
def logout():
    account = principal()
    if account is not None:
        audit.record(get_redis(), actor(), "account.logout", f"account:{account.username}", now=now())
    logout_user()
    session.clear()
    return redirect(url_for("console_auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@_limits
def password():
    account = principal()
    if account is None:
        return redirect(url_for("console_auth.login"))
    if request.method == "GET":
        return render_template("console/password.html", forced=account.must_change)
    r = get_redis()
    old, new, again = (request.form.get(k, "") for k in ("old", "new", "again"))
    error = None
    if accounts.verify(r, account.username, old) is None:
        error = "当前密码不正确。"
    elif new != again:
        error = "两次输入的新密码不一致。"
    elif new == old:
        error = "新密码不能与当前密码相同。"
    else:
        try:
            actions.change_password(r, actor(), now(), account.username, new)  # ends every session
        except accounts.AccountError as exc:
            error = str(exc)
    if error:
        return render_template("console/password.html", forced=account.must_change, error=error), 400
    session.regenerate()  # this browser goes on, under a new id
    return redirect(url_for("console_home.home", done="password"))


@bp.route("/me/totp", methods=["GET", "POST"])
@_limits
def my_totp():
    """One's own second factor, for any account (required of admins in production, at login)."""
    account = principal()
    if account is None:
        return redirect(url_for("console_auth.login"))
    if account.totp:
        return render_template("console/my_totp.html", done=True)
    secret = session.get("my_totp") or accounts.new_totp_secret()
    session["my_totp"] = secret
    context = _qr_context(secret, account.username)
    if request.method == "GET":
        return render_template("console/my_totp.html", **context)
    if not actions.enable_totp(get_redis(), actor(), now(), account.username, secret,
                               request.form.get("code", "")):
        return render_template("console/my_totp.html", error=WRONG_CODE, **context), 400
    session.pop("my_totp", None)
    return render_template("console/my_totp.html", done=True,
                           notice="两步验证已启用：下次登录时需要输入验证码。")
