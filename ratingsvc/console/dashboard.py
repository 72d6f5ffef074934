"""Console area: dashboard (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import require

bp = Blueprint("console_dashboard", __name__, url_prefix="/console", template_folder="templates")


@bp.route("/dashboard")
@require("dashboard.read")
def index():
    return render_template("console/placeholder.html", title="dashboard")
