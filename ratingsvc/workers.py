"""gunicorn's own error answers in ratingsvc's JSON shape. gunicorn.conf.py installs them
in the master, so every worker inherits them. (The gevent worker: gevent_worker.py.)"""

from __future__ import annotations

import json

from gunicorn import util

#: gunicorn answers these itself (a malformed or oversized request line or headers)
CODES = {400: ("bad_request", "请求格式不正确。"), 403: ("forbidden", "请求被拒绝。"),
         414: ("uri_too_long", "请求地址太长。"), 417: ("expectation_failed", "请求格式不正确。"),
         431: ("headers_too_large", "请求头太大。"), 501: ("not_implemented", "不支持这种请求。"),
         500: ("internal", "服务器出错了，请稍后再试。")}


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's util.write_error, answering {"error": {"code", "message"}} instead of HTML.
    The detail (mesg) is left out: it can quote the request line, tokens and all."""
    code, message = CODES.get(status_int, ("bad_request", "请求格式不正确。"))
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


def json_errors() -> None:
    util.write_error = write_json_error  # gunicorn's workers call util.write_error(...)
