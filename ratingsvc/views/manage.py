"""Management: categories, units, windows, QR codes, revoking, periods (admin and managers)."""

from __future__ import annotations

import dataclasses

from flask import Response, current_app

import qr

from .. import access, actions, periods, posters, registry
from ..auth import actor, check_unit, current_key, require
from ..errors import BadRequest, Conflict
from ..extensions import ApiBlueprint, get_redis, get_signing, now
from ..limiting import per_key_limit
from ..schemas import (
    BINARY,
    TEXT,
    CategorySchema,
    CategoryUpdateSchema,
    PeriodPublicSchema,
    PeriodSchema,
    PeriodUpdateSchema,
    QrQuerySchema,
    UnitQuerySchema,
    UnitSchema,
    UnitUpdateSchema,
    WindowSchema,
    WindowUpdateSchema,
)

blp = ApiBlueprint("manage", __name__, url_prefix="/api/v1",
                   description="The evaluation office (admin) and window managers")
per_key_limit(blp)


def rating_url(window: registry.Window) -> str:
    return posters.rating_url(get_signing(), current_app.config["PUBLIC_URL"], window)


def window_out(window: registry.Window) -> dict:
    return {**dataclasses.asdict(window), "rating_url": rating_url(window)}


def managed_window(wid: int) -> registry.Window:
    window = registry.get_window(get_redis(), wid)
    check_unit(window.unit)
    return window


# Categories ------------------------------------------------------------------------------
@blp.route("/categories")
@require("categories.read")
@blp.response(200, CategorySchema(many=True))
def list_categories():
    return registry.list_categories(get_redis())


@blp.route("/categories", methods=["POST"])
@require("registry.edit")
@blp.arguments(CategorySchema)
@blp.response(201, CategorySchema)
@blp.error(409, "category_exists")
def create_category(body: dict):
    return actions.create_category(get_redis(), actor(), now(), registry.Category(**body))


@blp.route("/categories/<cid>", methods=["PATCH"])
@require("registry.edit")
@blp.arguments(CategoryUpdateSchema)
@blp.response(200, CategorySchema)
def update_category(body: dict, cid: str):
    return actions.update_category(get_redis(), actor(), now(), cid, **body)


# Units -----------------------------------------------------------------------------------
@blp.route("/units")
@require("units.list")
@blp.arguments(UnitQuerySchema, location="query")
@blp.response(200, UnitSchema(many=True))
def list_units(args: dict):
    units = registry.list_units(get_redis(), args.get("category"))
    return [u for u in units if access.may(current_key(), "units.list", u.id)]


@blp.route("/units", methods=["POST"])
@require("registry.edit")
@blp.arguments(UnitSchema)
@blp.response(201, UnitSchema)
@blp.error(404, "unknown_category")
@blp.error(409, "unit_exists")
def create_unit(body: dict):
    return actions.create_unit(get_redis(), actor(), now(), registry.Unit(**body))


@blp.route("/units/<uid>")
@require("unit.read")
@blp.response(200, UnitSchema)
def get_unit(uid: str):
    check_unit(uid)
    return registry.get_unit(get_redis(), uid)


@blp.route("/units/<uid>", methods=["PATCH"])
@require("registry.edit")
@blp.arguments(UnitUpdateSchema)
@blp.response(200, UnitSchema)
def update_unit(body: dict, uid: str):
    return actions.update_unit(get_redis(), actor(), now(), uid, **body)


# Windows ---------------------------------------------------------------------------------
@blp.route("/units/<uid>/windows")
@require("unit.read")
@blp.response(200, WindowSchema(many=True))
def list_windows(uid: str):
    check_unit(uid)
    r = get_redis()
    registry.get_unit(r, uid)
    return [window_out(w) for w in registry.list_windows(r, uid)]


@blp.route("/units/<uid>/windows", methods=["POST"])
@require("registry.edit")
@blp.arguments(WindowSchema)
@blp.response(201, WindowSchema)
def create_window(body: dict, uid: str):
    window = actions.create_window(get_redis(), actor(), now(), uid, body["name"], body.get("hours"))
    return window_out(window)


@blp.route("/windows/<int:wid>")
@require("unit.read")
@blp.response(200, WindowSchema)
def get_window(wid: int):
    return window_out(managed_window(wid))


@blp.route("/windows/<int:wid>", methods=["PATCH"])
@require("registry.edit")
@blp.arguments(WindowUpdateSchema)
@blp.response(200, WindowSchema)
def update_window(body: dict, wid: int):
    return window_out(actions.update_window(get_redis(), actor(), now(), wid, **body))


@blp.route("/windows/<int:wid>/revoke", methods=["POST"])
@require("window.codes")
@blp.response(200, WindowSchema)
def revoke_window(wid: int):
    """Bump the epoch: posters printed before stop working (410); print the new code."""
    managed_window(wid)
    return window_out(actions.revoke_window(get_redis(), actor(), now(), wid))


@blp.route("/windows/<int:wid>/qr.png")
@require("window.codes")
@blp.arguments(QrQuerySchema, location="query")
@blp.response(200, BINARY, content_type="image/png", description="the window's current QR code")
def qr_png(args: dict, wid: int):
    url = rating_url(managed_window(wid))
    return Response(qr.png(url, args["size"]), mimetype="image/png")


@blp.route("/windows/<int:wid>/qr.svg")
@require("window.codes")
@blp.arguments(QrQuerySchema, location="query")
@blp.response(200, TEXT, content_type="image/svg+xml", description="the window's current QR code")
def qr_svg(args: dict, wid: int):
    url = rating_url(managed_window(wid))
    return Response(qr.svg(url, args["size"]), mimetype="image/svg+xml")


# Periods ---------------------------------------------------------------------------------
@blp.route("/periods")
@require("periods.read")
@blp.response(200, PeriodSchema(many=True))
def list_periods():
    return periods.list_periods(get_redis())


@blp.route("/periods", methods=["POST"])
@require("periods.edit")
@blp.arguments(PeriodSchema)
@blp.response(201, PeriodSchema)
@blp.error(409, "period_exists")
def create_period(body: dict):
    return actions.create_period(get_redis(), actor(), now(), periods.Period(**body))


@blp.route("/periods/<pid>/public", methods=["PUT"])
@require("periods.edit")
@blp.arguments(PeriodPublicSchema)
@blp.response(200, PeriodPublicSchema)
@blp.error(404, "unknown_period")
def set_period_public(body: dict, pid: str):
    """Show the running period's results on the public page /results/<id>, or not (audited);
    a closed period's are shown there always."""
    actions.set_period_public(get_redis(), actor(), now(), pid, body["public"])
    return body


@blp.route("/periods/<pid>", methods=["PATCH"])
@require("periods.edit")
@blp.arguments(PeriodUpdateSchema)
@blp.response(200, PeriodSchema)
@blp.error(404, "unknown_period")
@blp.error(409, "period_started: it has started (its first day has come); no more corrections")
def update_period(body: dict, pid: str):
    """Correct a period's name or dates before it starts (audited, before and after)."""
    try:
        return actions.update_period(get_redis(), actor(), now(), pid,
                                     tz=current_app.config["TIMEZONE"], **body)
    except periods.PeriodStarted as exc:
        raise Conflict(exc.message, code="period_started", message_en=exc.message_en) from None
    except ValueError:
        raise BadRequest("评议期的结束日期不能早于开始日期。", code="invalid_request",
                         message_en="A period ends on or after its first day.") from None
