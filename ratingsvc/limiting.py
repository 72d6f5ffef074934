"""flask-limiter on the app's Redis: per client IP everywhere, per API key for management.

The client IP is the one ProxyFix took from the trusted proxy (PROXY_HOPS), never a raw
X-Forwarded-For. When Redis is down the limiter falls back to memory instead of failing.
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
    in_memory_fallback_enabled=True,
    strategy="fixed-window",
    key_prefix="rs:rl",
)


def storage_uri(redis_url: str) -> str:
    """The limits library spells a unix socket redis+unix://."""
    return "redis+unix://" + redis_url[len("unix://"):] if redis_url.startswith("unix://") else redis_url


CITIZEN_MESSAGE = "操作太频繁，请稍后再试。"


def citizen_limit(name: str):
    """A per-IP limit on a citizen endpoint, refused in Chinese."""
    return limiter.limit(setting(name), error_message=CITIZEN_MESSAGE)


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
