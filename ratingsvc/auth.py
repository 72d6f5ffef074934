"""Bearer API keys on requests: require(role, ...) on a view, then may_manage(unit)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_smorest import Blueprint

from . import apikeys
from .errors import Forbidden, Unauthorized
from .extensions import get_redis

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def current_key() -> apikeys.ApiKey:
    return g.api_key


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def request_key() -> apikeys.ApiKey | None:
    """The valid API key this request carries, or None; looked up once a request (the
    limiter asks first, to choose the bucket)."""
    if "request_key" not in g:
        token = bearer_token()
        g.request_key = apikeys.lookup(get_redis(), token) if token else None
    return g.request_key


def require(*roles: str) -> Callable:
    """Let through only a valid key of one of these roles (401 without one, 403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if bearer_token() is None:
                raise Unauthorized()
            key = request_key()
            if key is None:
                raise Unauthorized("This API key is not valid.", code="invalid_key")
            if key.role not in roles:
                raise Forbidden(f"A key of role {' or '.join(roles)} is needed.", code="wrong_role")
            g.api_key = key
            return view(*args, **kwargs)

        return Blueprint.doc(security=SECURITY)(wrapper)

    return decorator


def check_unit(unit_id: str) -> None:
    """403 unless the current key may manage this unit (admins may manage all)."""
    if not current_key().may_manage(unit_id):
        raise Forbidden("This key may not manage that unit.", code="other_unit")
