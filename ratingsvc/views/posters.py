"""Posters for window managers: one window's, or every window of a unit, as a PDF."""

from __future__ import annotations

from datetime import datetime

from flask import Response, current_app

import qr.poster
from qr.poster import Poster

from .. import posters, registry
from ..auth import check_unit, require
from ..extensions import ApiBlueprint, get_redis, get_signing, now
from ..limiting import per_key_limit
from ..schemas import BINARY, PosterQuerySchema
from ..timeutil import zone

blp = ApiBlueprint("posters", __name__, url_prefix="/api/v1", description="Printable posters")
per_key_limit(blp)


def pages(unit: registry.Unit, windows: list[registry.Window], period: str | None) -> list[Poster]:
    """What the posters of these windows carry (the active ones'), for the named period, else
    the one under way today, else the next (the API's PDFs, and the console's too)."""
    r, config = get_redis(), current_app.config
    today = datetime.fromtimestamp(now(), zone(config["TIMEZONE"])).date()
    found = posters.period_for(r, today, period)
    return posters.posters_for(get_signing(), config["PUBLIC_URL"], unit, windows, found)


def pdf(unit: registry.Unit, windows: list[registry.Window], args: dict, name: str) -> Response:
    body = qr.poster.render(pages(unit, windows, args.get("period")), args["format"])
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@blp.route("/windows/<int:wid>/poster.pdf")
@require("window.codes")
@blp.arguments(PosterQuerySchema, location="query")
@blp.response(200, BINARY, content_type="application/pdf", description="the window's poster")
def window_poster(args: dict, wid: int):
    r = get_redis()
    window = registry.get_window(r, wid)
    check_unit(window.unit)
    return pdf(registry.get_unit(r, window.unit), [window], args, f"poster-W{wid}.pdf")


@blp.route("/units/<uid>/posters.pdf")
@require("window.codes")
@blp.arguments(PosterQuerySchema, location="query")
@blp.response(200, BINARY, content_type="application/pdf", description="every active window, a page each")
def unit_posters(args: dict, uid: str):
    check_unit(uid)
    r = get_redis()
    unit = registry.get_unit(r, uid)
    return pdf(unit, registry.list_windows(r, uid), args, f"posters-{uid}.pdf")
