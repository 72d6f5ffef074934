"""Printing a unit's posters (a preview in the page, the PDF the API makes) and revoking a
window's code, for those who hold its codes (action "window.codes")."""

from __future__ import annotations

from flask import Response, redirect, request, url_for

import qr
import qr.poster

from .. import actions, registry
from ..extensions import get_redis, now
from ..views import manage as manage_views
from ..views import posters as poster_views
from . import FormProblem, actor, check_unit, render, require
from .units import bp, int_arg, notice

FORMATS = {"a4": "A4 海报（竖版）", "a5": "A5 海报（竖版）", "tent": "桌牌（A4 横版，对折立放）"}


def fmt_arg() -> str:
    fmt = request.args.get("format", "a4")
    if fmt not in FORMATS:
        raise FormProblem("海报格式只能是 A4、A5 或桌牌。")
    return fmt


def unit_window(uid: str, wid: int | None) -> registry.Window | None:
    """The window named in a query or form, if any: 403 if it is another unit's that this
    account may not print, 400 if it is not of this unit."""
    if wid is None:
        return None
    window = registry.get_window(get_redis(), wid)
    check_unit("window.codes", window.unit)
    if window.unit != uid:
        raise FormProblem("该窗口不属于此单位。")
    return window


Chosen = tuple[registry.Unit, list[registry.Window], registry.Window | None]


def chosen(uid: str, source: dict | None = None) -> Chosen:
    """The unit, the windows to print (the one named, else all), and the one named if any."""
    r = get_redis()
    unit = registry.get_unit(r, uid)
    raw = (source if source is not None else request.args).get("window", "")
    wid = int_arg("window", source=source)
    if raw and wid is None:
        raise FormProblem("窗口编号应为数字。")
    window = unit_window(uid, wid)
    return unit, [window] if window else registry.list_windows(r, uid), window


@bp.route("/units/<uid>/posters")
@require("window.codes", unit_arg="uid")
def posters(uid: str):
    unit, windows, window = chosen(uid)
    fmt = fmt_arg()
    pages = poster_views.pages(unit, windows, None)
    args = {"format": fmt, **({"window": window.id} if window else {})}
    all_windows = windows if window is None else registry.list_windows(get_redis(), uid)
    return render("console/units_posters.html", unit=unit, window=window, all_windows=all_windows,
                  fmt=fmt, formats=FORMATS, pages=pages, qr_data_uri=qr.svg_data_uri, args=args,
                  notice=notice(), call=qr.poster.CALL, hint=qr.poster.HINT)


@bp.route("/units/<uid>/posters.pdf")
@require("window.codes", unit_arg="uid")
def posters_pdf(uid: str):
    unit, windows, window = chosen(uid)
    fmt = fmt_arg()
    if not any(w.active for w in windows):
        raise FormProblem("没有启用的窗口，无法生成海报。")
    name = f"poster-W{window.id}-{fmt}.pdf" if window else f"posters-{uid}-{fmt}.pdf"
    return poster_views.pdf(unit, windows, {"format": fmt}, name)


@bp.route("/units/<uid>/qr.<any(png, svg):ext>")
@require("window.codes", unit_arg="uid")
def qr_image(uid: str, ext: str):
    """One window's current QR code alone (as the API's qr.png and qr.svg), 1024 px, to download."""
    _, _, window = chosen(uid)
    if window is None:
        raise FormProblem("请选择一个窗口。")
    url = manage_views.rating_url(window)
    if ext == "png":
        body, mimetype = qr.png(url, 1024), "image/png"
    else:
        body, mimetype = qr.svg(url, 1024), "image/svg+xml"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="qr-W{window.id}.{ext}"'})


@bp.route("/units/<uid>/revoke", methods=["GET", "POST"])
@require("window.codes", unit_arg="uid")
def revoke(uid: str):
    source = request.form if request.method == "POST" else request.args
    unit, _, window = chosen(uid, source)
    if window is None:
        raise FormProblem("请选择要作废二维码的窗口。")
    if request.method == "GET":
        return render("console/units_revoke.html", unit=unit, window=window)
    actions.revoke_window(get_redis(), actor(), now(), window.id)
    return redirect(url_for(".posters", uid=uid, window=window.id, done="revoked"))
