"""Console area: units (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import require

bp = Blueprint("console_units", __name__, url_prefix="/console", template_folder="templates")


@bp.route("/units")
@require("units.list")
def index():
    return render_template("console/placeholder.html", title="units")
