"""Console area: scores (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import require

bp = Blueprint("console_scores", __name__, url_prefix="/console", template_folder="templates")


@bp.route("/scores")
@require("scores.read")
def index():
    return render_template("console/placeholder.html", title="scores")
