"""Console area: the office admin's pages. API keys for machines (this module), people's
accounts (admin_accounts) and the audit log (admin_audit), all on the blueprint console_admin.
Every change goes through ratingsvc.actions (audited); a key or a temporary password is shown
once, on the page that answers the form, and never again."""

from __future__ import annotations

import re

from flask import Blueprint, Response, redirect, request, url_for

from .. import actions, apikeys, registry
from ..extensions import get_redis, now
from . import actor, render, require

bp = Blueprint("console_admin", __name__, url_prefix="/console", template_folder="templates")
KEY_ID = re.compile(r"[0-9a-f]{12}")
UNIT_SPLIT = re.compile(r"[\s,，、;；]+")
DONE = {"revoked": "密钥已吊销，使用它的程序从现在起无法访问。", "saved": "已保存。",
        "enabled": "账号已启用。", "disabled": "账号已停用，其登录会话已全部结束。",
        "totp": "已重置两步验证，该账号下次登录时可重新绑定。"}


class Problem(ValueError):
    """A form's value that cannot be used: the page shows it again with this message."""


def parse_units(text: str) -> list[str]:
    """Unit ids typed into a form (separated by spaces, commas or 、), each one known."""
    r, ids = get_redis(), []
    for uid in UNIT_SPLIT.split(text.strip()):
        if uid and uid not in ids:
            try:
                registry.get_unit(r, uid)
            except registry.RegistryError:
                raise Problem(f"没有编号为“{uid}”的单位，请核对单位编号。") from None
            ids.append(uid)
    return ids


def notice() -> str | None:
    return DONE.get(request.args.get("done", ""))


def once(response: tuple) -> tuple:
    """A page with a secret on it: never kept by the browser or a proxy."""
    body, status = response
    return Response(body, status, headers={"Cache-Control": "no-store", "Pragma": "no-cache"}), status


def _keys_page(error: str | None = None, status: int = 200, form: dict | None = None):
    return render("console/admin_keys.html", status, keys=apikeys.list_keys(get_redis()), roles=apikeys.ROLES,
                  error=error, notice=notice(), form=form or {"role": "scorer"})


@bp.route("/keys")
@require("keys.manage")
def keys():
    return _keys_page()


@bp.route("/keys", methods=["POST"])
@require("keys.manage")
def create_key():
    form = {k: request.form.get(k, "").strip() for k in ("name", "role", "units")}
    try:
        if not form["name"] or len(form["name"]) > 80:
            raise Problem("请填写密钥名称（最多 80 字），写明哪个程序使用它。")
        if form["role"] not in apikeys.ROLES:
            raise Problem("请选择密钥的角色。")
        units = parse_units(form["units"]) if form["role"] == "manager" else []
        if form["role"] == "manager" and not units:
            raise Problem("窗口负责人密钥至少要指定一个单位。")
        key, record = actions.create_key(get_redis(), actor(), now(), name=form["name"], role=form["role"],
                                         units=units)
    except Problem as exc:
        return _keys_page(str(exc), 400, form)
    return once(render("console/admin_key_created.html", key=key, record=record))


@bp.route("/keys/<key_id>/revoke", methods=["POST"])
@require("keys.manage")
def revoke_key(key_id: str):
    if not KEY_ID.fullmatch(key_id) or not actions.revoke_key(get_redis(), actor(), now(), key_id):
        return _keys_page("没有这个密钥（可能已被吊销）。", 404)
    return redirect(url_for(".keys", done="revoked"))


from . import admin_accounts, admin_audit  # noqa: E402,F401  (their routes, on this blueprint)
