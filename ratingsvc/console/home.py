"""The console's first page: the office's dashboard, or a manager's own unit."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

from .. import access
from . import principal
from .areas import MENU

bp = Blueprint("console_home", __name__, url_prefix="/console", template_folder="templates")


@bp.route("/")
def home():
    account = principal()
    if account is None:
        return redirect(url_for("console_auth.login"))
    for _title, endpoint, action in MENU:
        if access.may(account, action):
            return redirect(url_for(endpoint))
    return redirect(url_for("console_auth.password"))
