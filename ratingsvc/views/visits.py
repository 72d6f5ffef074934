"""Proof of visit on the web (README "Visit tokens", "Channels"): the page behind a visit
token or SMS link (/V/<token>) and its scan; the kiosk page at a window (/K/<code>); the API
a hall's queue system calls with the hall's key (tokens, kiosk openings, volumes); the
office's API for halls and volumes. The rules are ratingsvc.visits' and ratingsvc.volumes'."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import flask
from flask import current_app, request

from qr import render as qr

from .. import actions, channels, registry, visits, volumes
from ..audit import Actor
from ..auth import actor, bearer_token, check_unit, require
from ..errors import ApiError, Conflict, Forbidden, Gone, NotFound, Unauthorized
from ..extensions import ApiBlueprint, client_hash, get_redis, get_rules, get_signing, now
from ..limiting import citizen_limit, limiter, per_key_limit, rater_limit, setting
from ..schemas import (
    HallKeySchema,
    HallSchema,
    HallUpdateSchema,
    KioskLinkSchema,
    KioskOpenSchema,
    KioskStateSchema,
    ScanSchema,
    TokenAnswerSchema,
    TokenRequestSchema,
    VolumesAnswerSchema,
    VolumesSchema,
)
from ..signing import BadToken
from ..timeutil import iso_time, zone
from . import assets, pages_html
from .citizen import current_or_new_rater, rate_page, scan_answer

blp = ApiBlueprint("visits", __name__, url_prefix="/api/v1",
                   description="Proof of visit: visit tokens, SMS links, kiosks; halls and service volumes")
office = ApiBlueprint("halls", __name__, url_prefix="/api/v1",
                      description="The office: halls (their keys) and service volumes")
per_key_limit(office)
pages = flask.Blueprint("visit_pages", __name__)

INVALID = "这个评价码无效，请扫描办件凭证或短信中的评价码。"
WHY = {
    "expired": (Gone, "评价码已过期，感谢您的关注。", "visit_expired"),
    "early": (NotFound, INVALID, "invalid_code"),
    "window": (NotFound, INVALID, "invalid_code"),
    "hall_inactive": (Gone, "评价码已停用。", "code_revoked"),
}


def resolve_visit(token: str) -> tuple[visits.VisitToken, int, registry.Window, registry.Unit, str]:
    """(token, until when it counts, its window, its unit, whether the rater is on site:
    visits.onsite): 404 when unknown or forged, 410 when expired or its window or unit is no
    longer active."""
    r = get_redis()
    try:
        vt, until, networks = visits.verify(r, get_signing(), token, now())
        window, unit = registry.window_with_unit(r, vt.window)
    except (BadToken, registry.RegistryError):
        raise NotFound(INVALID, code="invalid_code") from None
    except visits.BadVisit as exc:
        error, message, code = WHY[exc.code]
        raise error(message, code=code) from None
    if not window.active or not unit.active:
        raise Gone("此窗口已停用。", code="code_revoked")
    return vt, until, window, unit, visits.onsite(networks, request.remote_addr)


@pages.route("/V/<path:token>")
@pages.route("/v/<path:token>")
@citizen_limit("LIMIT_SCAN_IP", page=pages_html.error_page)
def visit_page(token: str):
    """The page behind a visit token or SMS link: the rating page, or a friendly page of why
    not (a kiosk's opening rates as the kiosk: no WeChat identity)."""
    return rate_page(lambda: resolve_visit(token)[0].channel != "kiosk", token, "V")


@blp.route("/visit/<token>")
@citizen_limit("LIMIT_SCAN_IP")
@rater_limit("LIMIT_SCAN_RATER")
@blp.response(200, ScanSchema)
@blp.error(403, "wechat_required: opened outside WeChat while WeChat identity is on")
@blp.error(404, "invalid_code: not a token of a hall, or forged")
@blp.error(410, "visit_expired, or code_revoked: the window, unit or hall is no longer active")
def visit_scan(token: str):
    """A visit token's scan: as a poster's (/scan), with a ticket that counts once per token,
    whoever sends it, until the token's validity ends. A kiosk opening rates as the kiosk."""
    vt, until, window, unit, on_site = resolve_visit(token)
    rater = ("kiosk", vt.nonce) if vt.channel == "kiosk" else current_or_new_rater()
    day = datetime.fromtimestamp(vt.issued, zone(current_app.config["TIMEZONE"])).strftime("%Y%m%d")
    return scan_answer(window, unit, rater, vt.nonce, channel=channels.CODES[vt.channel],
                       ticket_day=day, until_ms=until * 1000, onsite=on_site)


# The kiosk at a window ---------------------------------------------------------------------
def kiosk_window(code: str) -> registry.Window:
    """The window of a kiosk code: 404 when forged or unknown, 410 once the window's code was
    revoked (a new epoch) or the window deactivated."""
    found = get_signing().read_kiosk_code(code)
    invalid = NotFound("评价器地址无效，请向窗口负责人索取。", code="invalid_kiosk")
    if found is None:
        raise invalid
    try:
        window = registry.get_window(get_redis(), found[0])
    except registry.RegistryError:
        raise invalid from None
    if found[1] != window.epoch or not window.active:
        raise Gone("评价器地址已失效，请向窗口负责人索取新的地址。", code="kiosk_revoked")
    return window


@pages.route("/K/<code>")
def kiosk_page(code: str):
    """The window's rating device (a tablet facing the citizen): idle until the clerk's system
    opens it after a service, then one tap for 30 seconds."""
    try:
        kiosk_window(code)
    except ApiError as exc:
        return pages_html.error_page(exc.status, exc.message)
    return assets.answer(assets.assets().get("kiosk.html"), "kiosk.html", cache="no-cache")


@blp.route("/kiosk/<code>")
@limiter.exempt
@blp.response(200, KioskStateSchema)
@blp.error(404, "invalid_kiosk")
@blp.error(410, "kiosk_revoked: the window's code was revoked, or the window deactivated")
def kiosk_state(code: str):
    """Whether the window's kiosk is open for a rating now, and the opening's token (the
    kiosk page asks every second or two)."""
    window = kiosk_window(code)
    r = get_redis()
    unit = registry.get_unit(r, window.unit)
    token = visits.kiosk_opening(r, window.id)
    return {"window": {"id": window.id, "name": window.name}, "unit": {"id": unit.id, "name": unit.name},
            "open": token is not None, "token": token, "seconds": visits.KIOSK_SECONDS}


# A hall's queue system, with the hall's key --------------------------------------------------
def hall_caller(hid: int) -> visits.Hall:
    """The hall, if the request carries its key (Authorization: Bearer rsh_<hall>_...)."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("需要办事大厅密钥：Authorization: Bearer rsh_...。", code="hall_key_required")
    r = get_redis()
    if not visits.key_matches(r, get_signing(), hid, token):
        raise Unauthorized("办事大厅密钥无效。", code="invalid_hall_key",
                           message_en="This hall key is not valid.")
    hall = visits.get_hall(r, hid)
    if not hall.active:
        raise Forbidden("这个办事大厅已停用。", code="hall_inactive")
    return hall


def hall_bucket() -> str:
    return f"hall:{(request.view_args or {}).get('hid')}"


hall_limit = limiter.limit(setting("LIMIT_API_KEY"), key_func=hall_bucket)


def token_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/').upper()}/V/{token}"


@blp.route("/halls/<int:hid>/tokens", methods=["POST"])
@hall_limit
@blp.arguments(TokenRequestSchema)
@blp.response(201, TokenAnswerSchema)
@blp.error(401, "hall_key_required or invalid_hall_key")
@blp.error(403, "hall_inactive")
@blp.error(404, "unknown_hall or unknown_window")
@blp.error(409, "window_not_in_hall")
def issue_token(body: dict, hid: int):
    """A visit token (or an SMS link) for one service at one of the hall's windows, with its
    URL and QR code: for a queue system that is online (an offline one makes its own)."""
    hall = hall_caller(hid)
    t = now()
    token = visits.issue(get_redis(), get_signing(), hid, body["window"], channel=body["channel"], now=t)
    url = token_url(token)
    return {"token": token, "url": url, "channel": body["channel"], "window": body["window"],
            "expires_at": iso_time((int(t) + hall.valid_minutes * 60) * 1000, current_app.config["TIMEZONE"]),
            "qr_svg": qr.svg_data_uri(url)}


@blp.route("/halls/<int:hid>/kiosk", methods=["POST"])
@hall_limit
@blp.arguments(KioskOpenSchema)
@blp.response(200, KioskStateSchema)
@blp.error(401, "hall_key_required or invalid_hall_key")
@blp.error(403, "hall_inactive")
@blp.error(404, "unknown_hall or unknown_window")
@blp.error(409, "window_not_in_hall")
def open_kiosk(body: dict, hid: int):
    """The clerk ended a service: open the window's kiosk for one rating, for 30 seconds."""
    hall_caller(hid)
    r = get_redis()
    token = visits.open_kiosk(r, get_signing(), hid, body["window"], now())
    window, unit = registry.window_with_unit(r, body["window"])
    return {"window": {"id": window.id, "name": window.name}, "unit": {"id": unit.id, "name": unit.name},
            "open": True, "token": token, "seconds": visits.KIOSK_SECONDS}


@blp.route("/halls/<int:hid>/volumes", methods=["POST"])
@hall_limit
@blp.arguments(VolumesSchema)
@blp.response(200, VolumesAnswerSchema)
@blp.error(401, "hall_key_required or invalid_hall_key")
@blp.error(403, "hall_inactive")
@blp.error(404, "unknown_hall or unknown_window")
@blp.error(409, "window_not_in_hall, or volumes_refused: a day to come, or of a closed period")
def hall_volumes(body: dict, hid: int):
    """Services done per window and day, from the hall's queue system (its own windows only;
    a window's day sent again replaces what it had)."""
    hall = hall_caller(hid)
    rows = [volumes.Volume(v["window"], v["day"], v["services"]) for v in body["rows"]]
    for v in rows:
        if v.window not in hall.windows:
            raise registry.RegistryError("window", v.window, "not_in_hall")
    by = Actor("hall", str(hid), hall.name, client_hash()[:16])
    return save_volumes(by, rows)


# The office: halls and volumes -------------------------------------------------------------
def hall_out(hall: visits.Hall) -> dict[str, Any]:
    return dataclasses.asdict(hall)


@office.route("/halls")
@require("halls.read")
@office.response(200, HallSchema(many=True))
def list_halls():
    return [hall_out(h) for h in visits.list_halls(get_redis())]


@office.route("/halls", methods=["POST"])
@require("halls.edit")
@office.arguments(HallSchema)
@office.response(201, HallKeySchema)
@office.error(404, "unknown_window")
@office.error(409, "window_in_other_hall")
def create_hall(body: dict):
    """A hall, with its windows and validity; its key is in the answer, once."""
    hall, key = actions.create_hall(get_redis(), get_signing(), actor(), now(), **body)
    return {"hall": hall_out(hall), "key": key}


@office.route("/halls/<int:hid>", methods=["PATCH"])
@require("halls.edit")
@office.arguments(HallUpdateSchema)
@office.response(200, HallSchema)
@office.error(404, "unknown_hall or unknown_window")
@office.error(409, "window_in_other_hall")
def update_hall(body: dict, hid: int):
    return hall_out(actions.update_hall(get_redis(), actor(), now(), hid, **body))


@office.route("/halls/<int:hid>/key", methods=["POST"])
@require("halls.edit")
@office.response(200, HallKeySchema)
@office.error(404, "unknown_hall")
def new_hall_key(hid: int):
    """A new key for the hall, shown once; the old key stops (its tokens not yet rated too)."""
    hall, key = actions.new_hall_key(get_redis(), get_signing(), actor(), now(), hid)
    return {"hall": hall_out(hall), "key": key}


@office.route("/volumes", methods=["POST"])
@require("volumes.import")
@office.arguments(VolumesSchema)
@office.response(200, VolumesAnswerSchema)
@office.error(404, "unknown_window: nothing was written")
@office.error(409, "volumes_refused: a day to come, or of a closed period: nothing was written")
def import_volumes(body: dict):
    """Services done per window and day (a window's day sent again replaces what it had)."""
    rows = [volumes.Volume(v["window"], v["day"], v["services"]) for v in body["rows"]]
    return save_volumes(actor(), rows)


def save_volumes(by: Actor, rows: list[volumes.Volume]) -> dict[str, int]:
    try:
        return actions.import_volumes(get_redis(), by, now(), rows, tz=current_app.config["TIMEZONE"],
                                      margin=get_rules().volume_margin)
    except volumes.Refused as exc:
        raise Conflict(str(exc), code="volumes_refused") from None


@office.route("/windows/<int:wid>/kiosk")
@require("window.codes")
@office.response(200, KioskLinkSchema)
@office.error(404, "unknown_window")
def kiosk_link(wid: int):
    """The address of the window's kiosk page, to open on the rating device at the window."""
    window = registry.get_window(get_redis(), wid)
    check_unit(window.unit)
    return {"url": kiosk_url(window)}


def kiosk_url(window: registry.Window) -> str:
    code = get_signing().kiosk_code(window.id, window.epoch)
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/K/{code}"
