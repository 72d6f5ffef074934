"""Console area: registry (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from . import require

bp = Blueprint("console_registry", __name__, url_prefix="/console", template_folder="templates")


@bp.route("/registry")
@require("registry.edit")
def index():
    return render_template("console/placeholder.html", title="registry")
