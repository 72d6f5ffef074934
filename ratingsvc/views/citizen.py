"""Citizens: the page behind the QR code, the scan, the one tap, the optional reason."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import flask
import redis
from flask import after_this_request, current_app, request

from .. import channels, metrics, periods, proofofwork, recording, registry, visits
from ..errors import (
    ApiError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unprocessable,
    retry_after,
)
from ..extensions import (
    ApiBlueprint,
    client_hash,
    get_policy,
    get_redis,
    get_rules,
    get_signing,
    get_wechat,
    now,
)
from ..limiting import citizen_limit, local_citizen_limit, rater_limit, scanned_window
from ..schemas import (
    LEVELS,
    DetailsAnswerSchema,
    DetailsSchema,
    RatingAnswerSchema,
    RatingSchema,
    ScanSchema,
)
from ..signing import BadTicket, BadToken
from ..timeutil import iso_time
from . import assets, pages_html
from .citizen_case import case_links
from .identity import current_rater, set_identity_cookie, wechat_gate

blp = ApiBlueprint("citizen", __name__, url_prefix="/api/v1", description="Citizens: scan and tap")
pages = flask.Blueprint("pages", __name__)

log = logging.getLogger(__name__)
STATUS_CODES = {"counted": 201, "held": 202, "duplicate": 200}
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ADDRESS_CHARS = 16  # of the scan address's keyed hash, in its ticket (rules.Rules.stale)


def address_mark() -> str:
    """What a ticket carries of its scan's address, and a tap is compared with."""
    return client_hash()[:ADDRESS_CHARS]


def not_durable(why: str) -> ServiceUnavailable:
    """503 for a tap the server cannot keep on disk as TAP_DURABILITY asks (logged)."""
    log.warning("%s", why)
    metrics.REDIS_ERRORS.inc()
    return ServiceUnavailable("服务繁忙，请稍后再试。", code="not_durable",
                              headers=retry_after(current_app.config["RETRY_AFTER"]))


def durable_ack(r: redis.Redis) -> recording.Ack | None:
    """What a write that changes counts waits for before its answer (None: nothing), or 503
    if the server would not keep it as TAP_DURABILITY asks."""
    config = current_app.config
    unsafe = current_app.extensions["ratingsvc.durability"].problem(r)
    if unsafe:  # never acknowledge a tap that the server would not keep
        raise not_durable(f"tap refused: {unsafe}")
    if config["TAP_DURABILITY"] == "waitaof":
        return recording.Ack(("WAITAOF", 1, 0, config["WAITAOF_TIMEOUT_MS"]))
    if config["TAP_DURABILITY"] == "replica":
        return recording.Ack(("WAIT", config["TAP_REPLICAS"], config["WAIT_TIMEOUT_MS"]))
    return None


def level_fields(r: redis.Redis, outcome: recording.Outcome, level: int, now_ms: int) -> dict:
    """A tap's answer's "level" and "change_until": the level sent, changeable until the
    window closes; for a replay or a duplicate, what the stored rating says now."""
    tapped = now_ms
    if outcome.earlier_level is not None:
        level = outcome.earlier_level
    elif (outcome.replayed or outcome.status == "duplicate") and outcome.rating_id:
        unit, stream_id = recording.parse_rating_id(outcome.rating_id) or ("", "")
        found = recording.current_level(r, unit, stream_id)
        if found:
            level, tapped = found
    config = current_app.config
    until = recording.change_until(tapped, config["RATING_CHANGE_SECONDS"], config["TIMEZONE"])
    return {"level": level, "change_until": None if outcome.status == "duplicate" else until}


#: a refusal of what a rater sends after a tap: the error, its message and code, by the
#: status the script gave; the reason and the level change add their own to these
Refusals = dict[str, tuple[type[ApiError], str, str]]
REFUSED: Refusals = {
    "unknown": (NotFound, "没有找到这条评价。", "unknown_rating"),
    "forbidden": (Forbidden, "无法确认是您的评价。", "not_your_rating"),
}
DETAILS_REFUSED: Refusals = {**REFUSED, "closed": (Forbidden, "补充意见的时间已过。", "details_closed"),
                   "exists": (Conflict, "这条评价已经补充过意见。", "details_exist")}


def refused(status: str, table: Refusals = REFUSED) -> ApiError:
    error, message, code = table[status]
    return error(message, code=code)


def resolve(token: str) -> tuple[registry.Window, registry.Unit, int | None]:
    """The live window behind a QR token, its unit and its hall (None: in no hall): 404 when
    unknown or forged, 410 when revoked."""
    invalid = NotFound("这个二维码无效，请扫描窗口张贴的评价二维码。", code="invalid_code")
    try:
        qt = get_signing().read_qr_token(token)
        window, unit, hall = registry.window_scan(get_redis(), qt.window)
    except (BadToken, registry.RegistryError):
        raise invalid from None
    if qt.epoch > window.epoch:
        raise invalid
    if qt.epoch < window.epoch or not window.active or not unit.active:
        raise Gone("此二维码已失效，请扫描窗口现在张贴的二维码。")
    return window, unit, hall


@pages.route("/r/<path:token>")  # path: a "/" in a mangled token still gets the friendly page
@pages.route("/R/<path:token>")
@citizen_limit("LIMIT_SCAN_IP", page=pages_html.error_page)
def rating_page(token: str):
    """The page behind the QR code, or a friendly page of why not."""
    return rate_page(lambda: bool(resolve(token)), token, "r")


def rate_page(check: Callable[[], bool], token: str, page: str) -> Any:
    """The rating page once check() passes (it raises ApiError, or answers whether WeChat
    identity applies), or a friendly page of why not; through WeChat's gate when it is on
    (back to /<page>/<token>)."""
    try:
        gated = check()
    except ApiError as exc:
        return pages_html.error_page(exc.status, exc.message)
    except (redis.ConnectionError, redis.TimeoutError):
        busy = pages_html.error_page(503, "服务繁忙，请稍后再试。")
        busy.headers.update(retry_after(current_app.config["RETRY_AFTER"]))
        return busy
    wechat = get_wechat()
    if gated and wechat is not None and current_rater() is None:
        return wechat_gate(wechat, token, page)
    return assets.answer(assets.assets().get("rate.html"), "rate.html", cache="no-cache")


@pages.route("/r/")
@pages.route("/R/")
def no_token():
    """A link cut short: the friendly page, not JSON."""
    return pages_html.error_page(404, "这个二维码无效，请扫描窗口张贴的评价二维码。")


@blp.route("/scan/<token>")
@citizen_limit("LIMIT_SCAN_IP")
@citizen_limit("LIMIT_SCAN_WINDOW", key_func=scanned_window)
@rater_limit("LIMIT_SCAN_RATER")
@blp.response(200, ScanSchema)
@blp.error(403, "wechat_required: scanned outside WeChat while WeChat identity is on")
@blp.error(410, "code_revoked: the code was revoked, or its window or unit deactivated")
def scan(token: str):
    """Names, levels and a signed scan ticket; sets the device cookie on a first visit."""
    window, unit, hall = resolve(token)
    found = visits.where(get_redis(), hall, unit.category, request.remote_addr)
    return scan_answer(window, unit, current_or_new_rater(), get_signing().new_nonce(), hold=found.hold,
                       onsite=found.onsite)


def current_or_new_rater() -> tuple[str, str]:
    """The rater's (kind, identifier): WeChat's or the device cookie's, a new device (its
    cookie set on the answer) on a first visit; 403 without WeChat while WeChat identity is on."""
    signing, config = get_signing(), current_app.config
    rater = current_rater()
    if rater is None and get_wechat() is not None:
        raise Forbidden("请用微信扫描窗口的二维码进行评价。", code="wechat_required")
    if rater is None:
        rater = ("device", signing.new_device())
        cookie = signing.device_cookie(rater[1])

        @after_this_request
        def _set_cookie(response: flask.Response) -> flask.Response:
            set_identity_cookie(response, config["DEVICE_COOKIE"], cookie)
            return response
    return rater


def renewed_from(window: int, device: str) -> int | None:
    """The first scan's time (ms) of the ticket this scan renews, if it is this rater's for this
    window: the page sends it back (the Renew-Ticket header, never in the URL: a ticket names its
    device) when a tap was refused as ticket_expired, and sends the tap at once with the new
    ticket. The tap is then not "too fast" (RULE_MIN_TAP_MS): its rater chose after the first
    scan."""
    old = request.headers.get("Renew-Ticket")
    if not old or len(old) > 2048:
        return None
    try:
        t = get_signing().read_ticket(old)
    except BadTicket:
        return None
    return (t.first_ms or t.issued_ms) if t.window == window and t.device == device else None


def scan_answer(window: registry.Window, unit: registry.Unit, rater: tuple[str, str], nonce: str,
                **ticket: Any) -> dict:
    """A scan's answer: names, levels, the signed ticket (ticket: Signing.ticket's channel
    fields) and, when proof of work is on, its challenge."""
    signing, config = get_signing(), current_app.config
    t = now()
    stamp = iso_time(t * 1000, config["TIMEZONE"])
    period = periods.current_period(get_redis(), date.fromisoformat(stamp[:10]))
    answer = {
        "unit": {"id": unit.id, "name": unit.name},
        "window": {"id": window.id, "name": window.name},
        "levels": [{"level": lvl, "label": LEVELS[lvl]} for lvl in sorted(LEVELS, reverse=True)],
        "ticket": signing.ticket(window.id, unit.id, window.epoch, rater[1], rater[0], nonce,
                                 address=address_mark(),
                                 first_ms=renewed_from(window.id, rater[1]), **ticket),
        "expires_in": config["TICKET_MAX_AGE"],
        "office": config["EVALUATION_OFFICE"],
        "period": period and {"id": period.id, "name": period.name, "start": period.start,
                              "end": period.end},
        "now": stamp,
        "channel": channels.BY_CODE[ticket.get("channel", "p")],
    }
    if ticket.get("until_ms"):
        left = (ticket["until_ms"] - int(t * 1000)) // 1000
        answer["expires_in"] = max(0, min(config["TICKET_MAX_AGE"], left))
    if config["POW_BITS"] > 0:
        answer["pow"] = {"bits": config["POW_BITS"], "challenge": nonce}
    return answer


@blp.route("/ratings", methods=["POST"])
@local_citizen_limit("LIMIT_RATING_IP")
@blp.arguments(RatingSchema)
@blp.response(201, RatingAnswerSchema, description="counted")
@blp.alt_response(200, schema=RatingAnswerSchema, success=True,
                  description="duplicate: this rater already rated this window today")
@blp.alt_response(202, schema=RatingAnswerSchema, success=True,
                  description="held: recorded for review, not counted (the page thanks anyway)")
@blp.error(403, "ticket_invalid, ticket_expired, pow_required or pow_invalid: scan again")
@blp.error(410, "code_revoked: the code was revoked after the scan")
@blp.error(422, "idempotency_key_reused: this Idempotency-Key came with a different rating")
def rate(body: dict):
    """One tap. Send an Idempotency-Key header to make retries safe."""
    config = current_app.config
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ApiError("Idempotency-Key 应为 1-128 个字母、数字或 _ . : -", code="invalid_request",
                       message_en="Idempotency-Key: 1-128 letters, digits or _ . : -")
    signing = get_signing()
    try:
        ticket = signing.read_ticket(body["ticket"])
    except BadTicket:
        raise Forbidden("评价凭证无效，请重新扫码。", code="ticket_invalid") from None
    if not proofofwork.verify(ticket.nonce, body.get("pow"), config["POW_BITS"]):
        raise Forbidden("请重新扫码后再试。", code="pow_invalid" if body.get("pow") else "pow_required")
    r = get_redis()
    ack = durable_ack(r)
    now_ms = int(now() * 1000)
    age_ms = now_ms - ticket.issued_ms
    rules = get_rules()
    chose_ms = now_ms - (ticket.first_ms or ticket.issued_ms)  # since the first scan, if renewed
    reasons = rules.request_signals(ticket_age_ms=chose_ms, user_agent=request.user_agent.string)
    moved = bool(ticket.address) and ticket.address != address_mark()  # (older tickets: no)
    stale = rules.stale(ticket_age_ms=age_ms, moved=moved)
    tap = recording.Tap(
        unit=ticket.unit, window=ticket.window, epoch=ticket.epoch, level=body["level"],
        rater=signing.person_hash(ticket.kind, ticket.device), now_ms=now_ms, nonce=ticket.nonce,
        ip=client_hash(), reasons=(*reasons, *(["poster"] if ticket.hold else [])),
        channel=ticket.channel, ticket_day=ticket.ticket_day, onsite=ticket.onsite)
    late = ticket.until_ms is not None and now_ms > ticket.until_ms  # a visit token's validity
    expired = age_ms > config["TICKET_MAX_AGE"] * 1000 or late or stale
    try:
        outcome = recording.record(
            r, tap, rules, tz=config["TIMEZONE"],
            expired=expired, idempotency_key=idempotency_key,
            idempotency_ttl=config["IDEMPOTENCY_TTL"],
            ack=ack, case=get_policy().open_args(now_ms))
    except recording.NotDurable as exc:
        raise not_durable(f"tap not confirmed: {exc}") from None
    metrics.TAPS.labels(outcome.status).inc()
    if ticket.channel == "k" and outcome.status in STATUS_CODES:  # the kiosk's opening is used
        visits.close_kiosk(r, ticket.window, ticket.nonce)
    if outcome.status == "held":
        for rule in outcome.reasons:
            metrics.HELD.labels(rule).inc()
    if outcome.status == "expired":
        raise Forbidden("评价页面已过期，请重新扫码。", code="ticket_expired")
    if outcome.status == "revoked":
        raise Gone("此二维码已失效，请扫描窗口现在张贴的二维码。")
    if outcome.status == "limited":
        raise TooManyRequests(code="too_many_taps", headers=retry_after(outcome.retry_after))
    if outcome.status == "mismatch":
        raise Unprocessable("此 Idempotency-Key 已用于另一条评价。", code="idempotency_key_reused",
                            message_en="This Idempotency-Key was used for a different rating.")
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    answer = {"status": outcome.status, "rating_id": outcome.rating_id,
              **level_fields(r, outcome, body["level"], now_ms)}
    if outcome.status == "counted" and outcome.rating_id:  # a counted 差评 opened its case
        answer.update(case_links(outcome.rating_id, answer["level"]))
    return answer, STATUS_CODES[outcome.status], headers


@blp.route("/ratings/<rating_id>/details", methods=["POST"])
@local_citizen_limit("LIMIT_RATING_IP")
@blp.arguments(DetailsSchema)
@blp.response(201, DetailsAnswerSchema)
@blp.error(403, "not_your_rating, or details_closed: too late")
@blp.error(409, "details_exist: another reason was given already")
def details(body: dict, rating_id: str):
    """The optional reason after a tap: problem tags and a comment, by the same rater. Sending
    the same reason again (a retry) answers as the first time, with Idempotent-Replayed."""
    parsed = recording.parse_rating_id(rating_id)
    if parsed is None:
        raise refused("unknown")
    config, signing = current_app.config, get_signing()
    rater = current_rater()
    if rater is None:
        raise refused("forbidden")
    t = now()
    status = recording.add_details(
        get_redis(), parsed[0], parsed[1], rater=signing.person_hash(*rater),
        now_ms=int(t * 1000), max_age_ms=config["DETAILS_MAX_AGE"] * 1000,
        tags=list(dict.fromkeys(body["tags"])), comment=body["comment"].strip())
    if status in DETAILS_REFUSED:
        raise refused(status, DETAILS_REFUSED)
    headers = {"Idempotent-Replayed": "true"} if status == "replayed" else {}
    return {"status": "saved"}, 201, headers
