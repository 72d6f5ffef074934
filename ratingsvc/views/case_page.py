"""Citizens: the page of their case (/r/case/<token>), server-rendered for old phones and older
readers (长辈版: 20px text, 64px buttons, strong contrast), no script: the follow-up is a plain
form POST answered with a redirect. And the WeChat one-time subscription: off to WeChat's
confirm page, and back with the openid, kept sealed for the reply's notice."""

from __future__ import annotations

import logging
from datetime import datetime

import flask
from flask import current_app, render_template, request, url_for

from ..cases import citizen, notify
from ..errors import ApiError
from ..extensions import get_case_reply, get_redis, get_signing, now
from ..limiting import citizen_limit
from .citizen_case import UNKNOWN, find, rate_handling, shown

log = logging.getLogger(__name__)
bp = flask.Blueprint("case_page", __name__, template_folder="templates")

#: ?notice= on the way back from WeChat -> what the page says
NOTICES = {"on": "已开启微信通知：单位答复后，您将在微信中收到处理结果。",
           "off": "您没有开启微信通知。收藏本页，也可以随时查看处理结果。",
           "late": "单位已经答复，请直接在本页查看处理结果。",
           "done": "已收到您对处理结果的评价，感谢您的监督！"}
#: the page's own headers: its URL is the citizen's key to the case, so it is never sent on as a
#: Referer, cached, indexed or framed
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'none'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex", "Cache-Control": "no-store",
}


def day(iso: str | None) -> str:
    """An ISO time of the case's view as the page shows it (cases.citizen.day_text)."""
    if not iso:
        return ""
    tz = current_app.config["TIMEZONE"]
    return citizen.day_text(int(datetime.fromisoformat(iso).timestamp() * 1000), tz,
                            citizen.year_of(int(now() * 1000), tz))


def page(status: int = 200, **context) -> flask.Response:
    html = render_template("citizen/case.html", office=current_app.config["EVALUATION_OFFICE"], day=day,
                           **context)
    return flask.Response(html, status=status, mimetype="text/html", headers=HEADERS)


def error(status: int, message: str) -> flask.Response:
    return page(status, problem=message)


@bp.route("/r/case/<token>", methods=["GET", "POST"])
@citizen_limit("LIMIT_SCAN_IP", page=error)
def case_page(token: str):
    """The case; a POST is the follow-up form (followup=1|2|3), answered 303 back to the page."""
    try:
        case = find(token)
        if request.method == "POST":
            rate_handling(case, _number(request.form.get("followup")))
            return flask.redirect(url_for(".case_page", token=token, notice="done"), 303)
    except ApiError as exc:
        if exc.status == 404:
            return error(404, UNKNOWN)
        return page(exc.status, case=shown(find(token)), problem=exc.message)
    view = shown(case)
    reply = get_case_reply()
    waiting = case.state in notify.WAITING
    subscribed = waiting and reply.on and notify.subscribed(get_redis(), case.unit, case.id)
    return page(case=view, notice=NOTICES.get(request.args.get("notice", "")), subscribed=subscribed,
                notify_url=url_for(".subscribe", token=token) if waiting and reply.on and not subscribed
                else None)


def _number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 3 else 0


@bp.route("/r/case/<token>/notify")
@citizen_limit("LIMIT_SCAN_IP", page=error)
def subscribe(token: str):
    """接收处理结果通知: off to WeChat's confirm page of a one-time subscription, which comes back
    to subscribed() with the openid; `reserved` binds the way back to this case."""
    try:
        case = find(token)
    except ApiError:
        return error(404, UNKNOWN)
    reply = get_case_reply()
    if not reply.on or reply.wechat is None or case.state not in notify.WAITING:
        return flask.redirect(url_for(".case_page", token=token))
    back = reply.case_url(case.rating_id) + "/subscribed"
    return flask.redirect(reply.wechat.subscribe_url(
        reply.template_id, notify.SCENE, back, get_signing().subscribe_reserved(case.rating_id)))


@bp.route("/r/case/<token>/subscribed")
@citizen_limit("LIMIT_SCAN_IP", page=error)
def subscribed(token: str):
    """WeChat's way back: openid, template_id, action (confirm | cancel), scene, reserved. The
    openid is kept, sealed, only when reserved is this case's, the template ours and the openid
    that of the case's rater."""
    try:
        case = find(token)
    except ApiError:
        return error(404, UNKNOWN)
    reply = get_case_reply()
    args = request.args
    back = (lambda notice: flask.redirect(url_for(".case_page", token=token, notice=notice), 303))  # noqa: E731
    if not reply.on or args.get("action") != "confirm":
        return back("off")
    signing = get_signing()
    if not signing.check_subscribe_reserved(case.rating_id, args.get("reserved", "")) \
            or args.get("template_id") != reply.template_id:
        return error(403, "授权已过期，请回到处理结果页面，重新点击“接收处理结果通知”。")
    r = get_redis()
    openid = args.get("openid", "")
    if not openid or not notify.is_rater(r, signing, case, openid):
        log.warning("case %s: a WeChat consent from another person than its rater", case.rating_id)
        return error(403, "请使用评价时的微信开启通知。")
    if case.state not in notify.WAITING:
        return back("late")
    notify.keep(r, signing, case, openid)
    return back("on")
