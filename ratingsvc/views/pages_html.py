"""The citizen's error page: a WeUI message page (icon, title, text) with the right status, in
Chinese, or in English when the phone prefers English (Accept-Language)."""

from __future__ import annotations

from flask import Response, current_app, render_template_string, request

from .assets import asset_url

#: status -> (WeUI icon, Chinese title, English title)
KINDS = {
    403: ("weui-icon-warn", "无法评价", "Cannot rate"),
    404: ("weui-icon-warn", "二维码无效", "Invalid code"),
    410: ("weui-icon-info", "二维码已失效", "Code no longer valid"),
    429: ("weui-icon-waiting", "操作太频繁", "Too many requests"),
    503: ("weui-icon-waiting", "服务繁忙", "Service busy"),
}
#: every message a view passes, in English
ENGLISH = {
    "这个二维码无效，请扫描窗口张贴的评价二维码。":
        "This code is not valid. Please scan the rating code at the window.",
    "此二维码已失效，请扫描窗口现在张贴的二维码。":
        "This code is no longer valid. Please scan the code the window shows now.",
    "操作太频繁，请稍后再试。": "Too many requests. Please try again in a moment.",
    "服务繁忙，请稍后再试。": "The service is busy. Please try again in a moment.",
    "授权已过期，请重新扫码。": "The authorisation has expired. Please scan the code again.",
    "请点击屏幕下方的“使用完整服务”后再评价。":
        "Please tap “Use full service” at the bottom of the screen, then rate.",
    "微信服务繁忙，请稍后再试。": "WeChat is busy. Please try again in a moment.",
    "微信授权失败，请重新扫码。": "WeChat authorisation failed. Please scan the code again.",
}
OFFICE = ("本评价由{}组织", "Run by {}")

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light"><link rel="icon" href="data:,">
<title>{{ title }}</title>
<link rel="stylesheet" href="{{ weui }}">
<style>.weui-msg{padding-top:48px}.weui-msg__desc{font-size:17px}.weui-footer__text{color:#666}</style></head>
<body data-weui-theme="light"><main class="weui-msg">
<div class="weui-msg__icon-area"><i class="{{ icon }} weui-icon_msg"></i></div>
<div class="weui-msg__text-area"><h1 class="weui-msg__title">{{ title }}</h1>
<p class="weui-msg__desc">{{ message }}</p></div>
<div class="weui-msg__extra-area"><div class="weui-footer"><p class="weui-footer__text">{{ office }}</p>
</div></div></main></body></html>
"""


def english() -> bool:
    """The phone prefers English to Chinese (Chinese when it says neither)."""
    return request.accept_languages.best_match(["zh", "en"], default="zh") == "en"


def error_page(status: int, message: str) -> Response:
    icon, zh_title, en_title = KINDS.get(status, ("weui-icon-warn", "出错了", "Something went wrong"))
    en = english() and message in ENGLISH
    office = current_app.config["EVALUATION_OFFICE"]
    html = render_template_string(
        PAGE, lang="en" if en else "zh-CN", icon=icon, title=en_title if en else zh_title,
        message=ENGLISH[message] if en else message, office=OFFICE[en].format(office),
        weui=asset_url("vendor/weui-2.6.26/weui.min.css"))
    page = Response(html, status=status, mimetype="text/html")
    page.headers["Content-Language"] = "en" if en else "zh-CN"
    page.headers["Vary"] = "Accept-Language"
    page.headers["Cache-Control"] = "no-store"
    return page
