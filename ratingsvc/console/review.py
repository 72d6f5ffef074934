"""Console area: review (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import require

bp = Blueprint("console_review", __name__, url_prefix="/console", template_folder="templates")


@bp.route("/review")
@require("review.decide")
def index():
    return render_template("console/placeholder.html", title="review")
