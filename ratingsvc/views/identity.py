"""Who is rating: a signed device cookie, or (when it is on) a WeChat openid."""

from __future__ import annotations

import logging

import flask
from flask import current_app, request
from werkzeug.wrappers import Response as WerkzeugResponse

from ..extensions import get_signing, get_wechat
from ..wechat import SnapshotUser, WeChat, WeChatError
from . import pages_html

log = logging.getLogger(__name__)
OPENID_COOKIE = "rs_wx"
COOKIE_MAX_AGE = 400 * 86400


def set_identity_cookie(response: WerkzeugResponse, name: str, value: str) -> None:
    response.set_cookie(name, value, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=current_app.config["PUBLIC_URL"].startswith("https:"))


def current_rater() -> tuple[str, str] | None:
    """(kind, identifier) of the person on this request: their WeChat openid when WeChat
    identity is on, else their device; None if they have none yet."""
    signing = get_signing()
    if get_wechat() is not None:
        openid = signing.read_openid_cookie(request.cookies.get(OPENID_COOKIE))
        return ("openid", openid) if openid else None
    device = signing.read_device_cookie(request.cookies.get(current_app.config["DEVICE_COOKIE"]))
    return ("device", device) if device else None


def wechat_gate(wechat: WeChat, token: str, page: str = "r") -> flask.Response | WerkzeugResponse:
    """Off to WeChat's silent authorization, or back from it with a code to exchange (to the
    page /<page>/<token>: r a poster's, V a visit token's)."""
    signing = get_signing()
    code, state = request.args.get("code"), request.args.get("state", "")
    if not code:
        back = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/{page}/{token}"
        return flask.redirect(wechat.authorize_url(back, signing.wechat_state(token)))
    if not signing.check_wechat_state(token, state):
        return pages_html.error_page(403, "授权已过期，请重新扫码。")
    try:
        openid = wechat.openid(code)
    except SnapshotUser:
        return pages_html.error_page(403, "请点击屏幕下方的“使用完整服务”后再评价。")
    except WeChatError as exc:
        log.warning("wechat: %s", exc)
        if exc.unavailable:
            return pages_html.error_page(503, "微信服务繁忙，请稍后再试。")
        return pages_html.error_page(403, "微信授权失败，请重新扫码。")
    response = flask.redirect(f"/r/{token}")
    set_identity_cookie(response, OPENID_COOKIE, signing.openid_cookie(openid))
    return response
