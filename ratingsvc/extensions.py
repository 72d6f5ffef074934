"""Unbound extensions, bound to the app in create_app."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import redis
from apispec import BasePlugin
from flask import current_app, g, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser, is_json_request

from . import errors, errortext
from .cases.notify import ReplyNotice
from .cases.policy import Policy
from .rules import Rules
from .signing import Signing
from .store import RedisStore
from .wechat import WeChat


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable error code"})
    message = fields.String(required=True, metadata={
        "description": "what went wrong, for people: in Chinese (citizens and the office)"})
    message_en = fields.String(metadata={"description": "the same in English, for engineers, "
                                                        "where there is an English text"})
    details = fields.Raw(metadata={"description": "field errors, where there are any"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def has_lone_surrogate(data: Any) -> bool:
    """Whether any string in parsed JSON (keys too) holds a lone surrogate ("\\ud800"):
    JSON allows it, UTF-8 (and so Redis) cannot carry it. Iterative: the nesting is deep."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack += item.keys()
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return False


def invalid(details: dict) -> errors.BadRequest:
    return errors.BadRequest(errortext.invalid_request(details), code="invalid_request",
                             details=details, message_en=errors.INVALID_EN)


class JsonOnlyParser(FlaskParser):
    """webargs' parser, answering 415 to a body that is not JSON and 400 to a bad one: also
    to JSON that Python parses but cannot use (nested too deep, a number of thousands of
    digits, a lone surrogate in a string)."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        if not is_json_request(req):
            raise errors.UnsupportedMediaType()
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs answers these itself
        except (RecursionError, ValueError):
            raise invalid({"json": ["Nested too deeply, or a number too long."]}) from None
        if has_lone_surrogate(data):
            raise invalid({"json": ["A string holds a lone surrogate (not UTF-8)."]})
        return data


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonOnlyParser()

    def arguments(self, schema, *args, **kwargs):
        """A schema given as a class is made once, here: webargs would make one per request
        (about 0.1 ms each, copying its fields)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def error(self, status: int, description: str):
        """Documents an error answer of the view: its status, when, and the one error shape. As
        @alt_response, but the view stays unwrapped: its wrapper would cost every request about
        1.5 µs, for documentation."""

        def document(view: Any) -> Any:
            wrapped = self.alt_response(status, schema=ErrorSchema, description=description)(view)
            view._apidoc = wrapped._apidoc  # what flask-smorest reads of a view
            return view

        return document


class CommonErrors(BasePlugin):
    """The error answers that operations of a kind all give, documented in this one place:
    any operation 429 (a limit) and 503 (the storage away or refusing), one that needs a key
    401 and 403, one with parameters in its path 404 (no such object, or not an id), one that
    reads a JSON body 413 and 415. Each refers to flask-smorest's response of that status,
    whose body is ErrorSchema. What only some views answer (409, 410, 422, a 403 or 404 of
    their own) is their @blp.alt_response."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            statuses = [HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE]
            if operation.get("security"):
                statuses += [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN]
            if "{" in (path or ""):
                statuses.append(HTTPStatus.NOT_FOUND)
            if "requestBody" in operation:
                statuses += [HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.UNSUPPORTED_MEDIA_TYPE]
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}
            for status in statuses:
                if str(status.value) not in documented:
                    responses[status.value] = status.name


class RatingApi(Api):
    """flask-smorest's Api, with errors in ratingsvc's one JSON shape, documented status by
    status (CommonErrors; no catch-all "default" response, which would name none)."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app=None, **kwargs) -> None:
        kwargs.setdefault("spec_kwargs", {"extra_plugins": [CommonErrors()]})
        super().__init__(app, **kwargs)

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


redis_store = RedisStore()


def get_redis() -> redis.Redis:
    return redis_store.client


def get_signing() -> Signing:
    return current_app.extensions["ratingsvc.signing"]


def get_wechat() -> WeChat | None:
    """WeChat identity, when RATINGSVC_WECHAT_APPID and _SECRET are set."""
    return current_app.extensions["ratingsvc.wechat"]


def get_policy() -> Policy:
    """The settings of cases (ratingsvc.cases.policy), built once in create_app."""
    return current_app.extensions["ratingsvc.cases"]


def get_case_reply() -> ReplyNotice:
    """on_reply for actions.case_step: the citizen's WeChat notice of a unit's reply, if they
    asked for one (does nothing when WECHAT_SUBSCRIBE_TEMPLATE is off; never raises)."""
    return current_app.extensions["ratingsvc.case_reply"]


def case_url(rating_id: str) -> str:
    """The citizen's link to the case of their rating (查看处理结果): PUBLIC_URL/r/case/<token>."""
    return get_case_reply().case_url(rating_id)


def get_rules() -> Rules:
    return current_app.extensions["ratingsvc.rules"]


def client_hash() -> str:
    """Keyed hash of the client's address (as the trusted proxy saw it), made once a request:
    all that is stored or logged of it."""
    found = g.get("client_hash")
    if found is None:
        found = g.client_hash = get_signing().person_hash("ip", request.remote_addr or "")
    return found


def now() -> float:
    """The app's clock (tests pass one they control)."""
    return float(current_app.config["CLOCK"]())
