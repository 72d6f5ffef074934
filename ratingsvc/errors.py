"""Errors are exceptions that render as one JSON shape: {"error": {"code", "message"}}, the
message in Chinese (citizens and the office read it), with `message_en` for engineers where
there is an English text (ratingsvc.errortext)."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from . import errortext
from .durability import fault
from .registry import RegistryError

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad_request"
    message = "请求不合规。"
    message_en: str | None = "The request is not valid."

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 details: Any = None, headers: dict[str, str] | None = None,
                 message_en: str | None = None) -> None:
        super().__init__(message or self.message)
        if message is not None:  # the class's English text belongs to the class's message
            self.message_en = message_en
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status, code, message = 401, "unauthorized", "需要 API 密钥：Authorization: Bearer <密钥>。"
    message_en = "An API key is required: Authorization: Bearer <key>."


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", "此密钥无权进行这项操作。"
    message_en = "This key may not do that."


class NotFound(ApiError):
    status, code, message = 404, "not_found", "没有这个对象。"
    message_en = "No such object."


class Conflict(ApiError):
    status, code, message = 409, "conflict", "已经存在。"
    message_en = "That already exists."


class Gone(ApiError):
    status, code, message = 410, "code_revoked", "此二维码已失效。"
    message_en = "This code is no longer valid."


class Unprocessable(ApiError):
    status, code, message = 422, "unprocessable", "请求无法执行。"
    message_en = "The request cannot be carried out."


class TooManyRequests(ApiError):
    status, code, message = 429, "too_many_requests", "操作太频繁，请稍后再试。"
    message_en = "Too many requests; try again shortly."


class ServiceUnavailable(ApiError):
    status, code, message = 503, "unavailable", "服务繁忙，请稍后再试。"
    message_en = "The service is busy; try again shortly."


class UnsupportedMediaType(ApiError):
    status, code, message = 415, "unsupported_media_type", "请以 application/json 格式提交。"
    message_en = "Send the body as application/json."


def retry_after(seconds: int | str) -> dict[str, str]:
    """A Retry-After header of ours, remembered so that no later hook replaces it."""
    g.retry_after = str(seconds)
    return {"Retry-After": str(seconds)}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None, message_en: str | None = None):
    if headers and "Retry-After" in headers:
        retry_after(headers["Retry-After"])
    page = current_app.extensions.get("ratingsvc.error_page")
    if page is not None and request.path.startswith("/console"):  # the console's errors are pages
        response = current_app.make_response(page(status, code, message))
        response.headers.update(headers or {})
        return response
    body: dict[str, Any] = {"code": code, "message": message}
    if message_en:
        body["message_en"] = message_en
    if details:
        body["details"] = details
    response = jsonify(error=body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def handle_http_exception(exc: HTTPException):
    """Werkzeug's and webargs' HTTP errors in our shape (webargs puts field errors in data);
    one that carries its own response (a limit's on_breach page) keeps it."""
    if exc.response is not None:
        return exc.response
    data = getattr(exc, "data", None) or {}
    status = exc.code or 500
    messages = data.get("messages")
    if status in (400, 422) and messages:
        return error_response(400, "invalid_request", errortext.invalid_request(messages),
                              details=messages, message_en=INVALID_EN)
    english: str | None = exc.description or exc.name
    if status == 413:
        return error_response(413, "body_too_large", errortext.HTTP[413], message_en=english)
    headers = dict(data.get("headers") or {})
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    chinese = errortext.HTTP.get(status, "请求无法处理。")
    if status == 429 and exc.description:  # a limit's own message (ours are Chinese already)
        chinese, english = (exc.description, None) if _has_chinese(exc.description) else (
            chinese, f"Too many requests: {exc.description}; try again shortly.")
    return error_response(status, _http_code(exc), chinese, headers=headers, message_en=english)


INVALID_EN = "The request body or parameters are not valid."


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers,
                              exc.message_en)

    @app.errorhandler(RegistryError)
    def _lookup(exc: RegistryError):
        chinese, english = errortext.lookup(exc.kind, exc.ident, exc.problem)
        if exc.problem == "existing":
            return error_response(409, f"{exc.kind}_exists", chinese, message_en=english)
        if exc.problem in ("in_other_hall", "not_in_hall"):
            return error_response(409, f"window_{exc.problem}", chinese, message_en=english)
        return error_response(404, f"unknown_{exc.kind}", chinese, message_en=english)

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def _store_down(exc: Exception):
        log.warning("redis unavailable: %s", exc)
        return _unavailable("unavailable")

    @app.errorhandler(redis.exceptions.ResponseError)
    def _store_refused(exc: redis.exceptions.ResponseError):
        found = fault(exc)
        if found is None:  # not the storage's state: a bug of ours
            return _unexpected(exc)
        log.warning("redis refused: %s: %s", found[1], exc)
        return _unavailable(found[0])

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return handle_http_exception(exc)
        log.exception("unhandled error", extra={"fields": {
            "rid": g.get("request_id"), "exc": type(exc).__name__,
            "route": request.url_rule.rule if request.url_rule else "unmatched"}})
        return error_response(500, "internal", errortext.HTTP[500],
                              message_en="Something went wrong on our side.")


#: what a citizen (or a clerk) reads when the storage cannot take a write: the code says why
UNAVAILABLE = {
    "unavailable": "服务繁忙，请稍后再试。",
    "storage_full": "服务暂时无法保存数据（存储已满），请稍后再试。",
    "storage_disk": "服务暂时无法保存数据（磁盘写入失败），请稍后再试。",
    "storage_readonly": "服务正在切换，请稍后再试。",
    "storage_busy": "服务繁忙，请稍后再试。",
}


def _unavailable(code: str):
    from . import metrics

    metrics.REDIS_ERRORS.inc()
    return error_response(503, code, UNAVAILABLE[code],
                          headers={"Retry-After": str(current_app.config["RETRY_AFTER"])})
