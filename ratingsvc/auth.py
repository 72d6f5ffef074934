"""Bearer API keys on requests: require(action) on a view, then check_unit(unit). What each
action allows is ratingsvc.access's, the console's too."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request
from flask_smorest import Blueprint

from . import access, apikeys
from .audit import Actor
from .errors import Forbidden, Unauthorized
from .extensions import client_hash, get_redis

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def current_key() -> apikeys.ApiKey:
    return g.api_key


def actor() -> Actor:
    """The current key, as the audit log names it."""
    key = current_key()
    return Actor("key", key.id, key.name, client_hash()[:16])


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


def require(action: str) -> Callable:
    """Let through only a valid key whose role may take this action (401 without one, 403
    otherwise); a view on one unit then calls check_unit."""
    roles = sorted(access.roles_for(action) & set(apikeys.ROLES))

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if bearer_token() is None:
                raise Unauthorized()
            key = request_key()
            if key is None:
                raise Unauthorized("API 密钥无效（已吊销或输入有误）。", code="invalid_key",
                                   message_en="This API key is not valid.")
            if not access.may(key, action):
                raise Forbidden(f"需要 {' 或 '.join(roles)} 角色的密钥。", code="wrong_role",
                                message_en=f"A key of role {' or '.join(roles)} is needed.")
            g.api_key, g.access_action = key, action
            return view(*args, **kwargs)

        return Blueprint.doc(security=SECURITY)(wrapper)

    return decorator


def check_unit(unit_id: str) -> None:
    """403 unless the current key may take the view's action on this unit."""
    if not access.may(current_key(), g.access_action, unit_id):
        raise Forbidden("此密钥无权管理该单位。", code="other_unit",
                        message_en="This key may not manage that unit.")
