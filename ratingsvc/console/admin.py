"""Console area: admin (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import require

bp = Blueprint("console_admin", __name__, url_prefix="/console", template_folder="templates")


@bp.route("/admin")
@require("keys.manage")
def keys():
    return render_template("console/placeholder.html", title="admin")


@bp.route("/accounts")
@require("accounts.manage")
def accounts():
    return render_template("console/placeholder.html", title="accounts")


@bp.route("/audit")
@require("audit.read")
def audit():
    return render_template("console/placeholder.html", title="audit")
