"""The citizen's error page: plain HTML in Chinese, with the right status."""

from __future__ import annotations

from flask import Response, render_template_string

TITLES = {404: "二维码无效", 410: "二维码已失效", 429: "操作太频繁", 503: "服务繁忙"}

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>body{font:18px/1.6 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
margin:0;padding:48px 24px;text-align:center;color:#333;background:#f7f7f7}
h1{font-size:24px;margin:0 0 16px}</style></head>
<body><main><h1>{{ title }}</h1><p>{{ message }}</p></main></body></html>
"""


def error_page(status: int, message: str) -> Response:
    html = render_template_string(PAGE, title=TITLES.get(status, "出错了"), message=message)
    return Response(html, status=status, mimetype="text/html")
