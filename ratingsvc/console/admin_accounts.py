"""The office admin's accounts page: list, create (a temporary password shown once, changed at
first login), edit name, role and units, disable or enable (disabling ends the account's
sessions), reset the password or the second factor. Through ratingsvc.actions (audited)."""

from __future__ import annotations

from flask import redirect, request, url_for

from .. import accounts, actions
from ..errors import NotFound
from ..extensions import get_redis, now
from . import actor, principal, render, require
from .admin import Problem, bp, notice, once, parse_units

NO_SUCH = "没有这个账号。"


def _me() -> str:
    account = principal()
    return account.username if account else ""


def _form() -> dict[str, str]:
    return {k: request.form.get(k, "").strip() for k in ("username", "name", "role", "units")}


def _role_units(form: dict[str, str]) -> tuple[str, list[str]]:
    if form["role"] not in accounts.ROLES:
        raise Problem("请选择账号的角色。")
    if len(form["name"]) > 40:
        raise Problem("姓名最多 40 字。")
    units = parse_units(form["units"]) if form["role"] == "manager" else []
    if form["role"] == "manager" and not units:
        raise Problem("窗口负责人至少要管理一个单位，请填写单位编号。")
    return form["role"], units


def _list_page(error: str | None = None, status: int = 200, form: dict | None = None):
    return render("console/admin_accounts.html", status, accounts=accounts.list_all(get_redis()),
                  roles=accounts.ROLES, me=_me(), error=error, notice=notice(),
                  form=form or {"role": "staff"})


@bp.route("/accounts", endpoint="accounts")
@require("accounts.manage")
def accounts_page():
    return _list_page()


@bp.route("/accounts", methods=["POST"])
@require("accounts.manage")
def create_account():
    form = _form()
    form["username"] = form["username"].lower()
    try:
        accounts.check_username(form["username"])
        role, units = _role_units(form)
        account, password = actions.create_account(get_redis(), actor(), now(), username=form["username"],
                                                   name=form["name"], role=role, units=units)
    except (Problem, accounts.AccountError) as exc:
        return _list_page(str(exc), 400, form)
    return once(render("console/admin_password.html", account=account, password=password, new=True))


def _account(username: str) -> accounts.Account:
    """The account, or the 404 page."""
    found = accounts.get(get_redis(), username)
    if found is None:
        raise NotFound(NO_SUCH, code="unknown_account")
    return found


def _edit_page(account: accounts.Account, error: str | None = None, status: int = 200):
    return render("console/admin_account.html", status, account=account, roles=accounts.ROLES,
                  me=_me(), error=error, notice=notice())


@bp.route("/accounts/<username>")
@require("accounts.manage")
def account(username: str):
    return _edit_page(_account(username))


@bp.route("/accounts/<username>", methods=["POST"])
@require("accounts.manage")
def edit_account(username: str):
    found = _account(username)
    try:
        role, units = _role_units({**_form(), "username": username})
        if username == _me() and role != found.role:
            raise Problem("不能更改自己账号的角色（以免失去管理权限）。如需更改，请由另一位管理员操作。")
        actions.update_account(get_redis(), actor(), now(), username, name=_form()["name"] or None,
                               role=role, units=units)
    except (Problem, accounts.AccountError) as exc:
        return _edit_page(found, str(exc), 400)
    return redirect(url_for(".account", username=username, done="saved"))


@bp.route("/accounts/<username>/active", methods=["POST"])
@require("accounts.manage")
def set_active(username: str):
    found = _account(username)
    active = request.form.get("active") == "1"
    if not active and username == _me():
        return _edit_page(found, "不能停用自己的账号。如需停用，请由另一位管理员操作。", 400)
    actions.update_account(get_redis(), actor(), now(), username, active=active)
    return redirect(url_for(".account", username=username, done="enabled" if active else "disabled"))


@bp.route("/accounts/<username>/password", methods=["POST"])
@require("accounts.manage")
def reset_password(username: str):
    found = _account(username)
    password = actions.reset_password(get_redis(), actor(), now(), username)
    return once(render("console/admin_password.html", account=found, password=password, new=False))


@bp.route("/accounts/<username>/totp", methods=["POST"])
@require("accounts.manage")
def reset_totp(username: str):
    _account(username)
    actions.reset_totp(get_redis(), actor(), now(), username)
    return redirect(url_for(".account", username=username, done="totp"))
