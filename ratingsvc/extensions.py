"""Unbound extensions, bound to the app in create_app."""

from __future__ import annotations

import redis
from flask import current_app
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser, is_json_request

from . import errors
from .rules import Rules
from .signing import Signing
from .store import RedisStore
from .wechat import WeChat


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable error code"})
    message = fields.String(required=True, metadata={"description": "what went wrong, for people"})
    details = fields.Raw(metadata={"description": "field errors, where there are any"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


class JsonOnlyParser(FlaskParser):
    """webargs' parser, answering 415 to a body that is not JSON and 400 to a bad one."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req):
        if not is_json_request(req):
            raise errors.UnsupportedMediaType()
        return super()._raw_load_json(req)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = JsonOnlyParser()

    def arguments(self, schema, *args, **kwargs):
        """A schema given as a class is made once, here: webargs would make one per request
        (about 0.1 ms each, copying its fields)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


class RatingApi(Api):
    """flask-smorest's Api, with errors in ratingsvc's one JSON shape."""

    ERROR_SCHEMA = ErrorSchema

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


def get_rules() -> Rules:
    return current_app.extensions["ratingsvc.rules"]


def now() -> float:
    """The app's clock (tests pass one they control)."""
    return float(current_app.config["CLOCK"]())
