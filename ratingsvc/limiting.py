"""flask-limiter on the app's Redis: per client IP everywhere, per API key for management.

The client IP is the one ProxyFix took from the trusted proxy (PROXY_HOPS), never a raw
X-Forwarded-For. When Redis is down the limiter does not fail requests: it applies the
per-IP default limit in each worker's memory until Redis answers again.
Per-rater and per-window limits live in the recording script (ratingsvc/lua/record.lua).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from redis.backoff import NoBackoff
from redis.retry import Retry


def setting(name: str) -> Callable[[], str]:
    """A limit read from the app's config at request time (RATINGSVC_LIMIT_*)."""
    return lambda: current_app.config[name]


def api_key_bucket() -> str:
    """The API key a request carries (by hash), else its IP."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "key:" + hashlib.sha256(token.strip().encode()).hexdigest()[:16]
    return "ip:" + (get_remote_address() or "")


limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[setting("LIMIT_DEFAULT_IP")],
    headers_enabled=True,
    swallow_errors=True,
    # While Redis is unreachable, only this applies (in each worker's memory).
    # (flask-limiter takes a callable here as for any limit; its type hint says str only)
    in_memory_fallback=[setting("LIMIT_DEFAULT_IP")],  # type: ignore[list-item]
    in_memory_fallback_enabled=True,
    strategy="fixed-window",
    key_prefix="rs:rl",
)


def storage_uri(redis_url: str) -> str:
    """The limits library spells a unix socket redis+unix://."""
    return "redis+unix://" + redis_url[len("unix://"):] if redis_url.startswith("unix://") else redis_url


CITIZEN_MESSAGE = "操作太频繁，请稍后再试。"


def scanned_window() -> str:
    """The window a scan's code names (read from the signed token, no lookup)."""
    token = (request.view_args or {}).get("token", "")
    try:
        window = current_app.extensions["ratingsvc.signing"].read_qr_token(token).window
        return f"window:{window}"
    except ValueError:
        return "window:invalid"


def scanning_rater() -> str:
    """The device or openid cookie a scan carries (as sent; a forged one only buckets itself)."""
    for name in ("rs_wx", current_app.config["DEVICE_COOKIE"]):
        value = request.cookies.get(name)
        if value:
            return "rater:" + hashlib.sha256(value.encode()).hexdigest()[:16]
    return "rater:ip:" + (get_remote_address() or "")


def citizen_limit(name: str, key_func: Callable[[], str] | None = None):
    """A limit on a citizen endpoint (per client IP unless key_func), refused in Chinese."""
    return limiter.limit(setting(name), key_func=key_func, error_message=CITIZEN_MESSAGE)


def per_key_limit(blueprint) -> None:
    """LIMIT_API_KEY on every route of a management or scoring blueprint."""
    limiter.limit(setting("LIMIT_API_KEY"), key_func=api_key_bucket)(blueprint)


def init_app(app: Flask) -> None:
    timeout = app.config["REDIS_TIMEOUT"]
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config["REDIS_URL"])
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {
        "socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)}

    @app.after_request
    def _retry_after_only_when_refused(response):  # runs after flask-limiter's header hook
        ours = g.get("retry_after")  # set by our own 429 and 503 answers
        if ours is not None:
            response.headers["Retry-After"] = str(ours)
        elif response.status_code != 429:
            response.headers.pop("Retry-After", None)
        return response

    limiter.init_app(app)
    # One Limiter serves every app made in this process (tests make many): each starts out
    # trusting its own storage, not a dead one an earlier app saw.
    limiter._storage_dead = False
