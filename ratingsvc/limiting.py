"""flask-limiter: per client IP everywhere, per API key for management.

The client IP is the one ProxyFix took from the trusted proxy (PROXY_HOPS), never a raw
X-Forwarded-For; buckets are named by its keyed hash (client_hash), never by the address.
`limiter` keeps its counts in the app's Redis; when Redis is down it does not fail requests:
it applies the per-IP default limit in each worker's memory until Redis answers again.

A tap is the hot path, and every Redis round trip on it costs about a third of what the bare
framework can serve. So the per-IP limit on taps and reasons is counted in
each worker's memory (a client may reach LIMIT_RATING_IP once per worker); the fleet-wide
per-IP flood control is nginx's limit_req at the edge, and the per-rater and per-window
limits live in the recording script (ratingsvc/lua/record.lua), the tap's one round trip.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name
from limits import RateLimitItem, parse_many
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import limitstore
from .auth import request_key
from .errors import TooManyRequests, retry_after
from .extensions import client_hash


def setting(name: str) -> Callable[[], str]:
    """A limit read from the app's config at request time (RATINGSVC_LIMIT_*)."""
    return lambda: current_app.config[name]


def client_bucket() -> str:
    """The client address, as a keyed hash: raw addresses are never key names in Redis."""
    return "ip:" + client_hash()[:16]


def api_key_bucket() -> str:
    """A valid API key's own bucket; a request without one (or with an unknown key, which
    a client can make up by the thousand) counts against its address."""
    key = request_key()
    return f"key:{key.id}" if key is not None else client_bucket()


limiter = Limiter(
    key_func=client_bucket,
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


CITIZEN_MESSAGE = "操作太频繁，请稍后再试。"
KEY_MESSAGE = "此 API 密钥的请求太频繁，请稍后再试（RATINGSVC_LIMIT_API_KEY）。"


def scanned_window() -> str:
    """The window a scan's code names (read from the signed token, no lookup)."""
    token = (request.view_args or {}).get("token", "")
    try:
        window = current_app.extensions["ratingsvc.signing"].read_qr_token(token).window
        return f"window:{window}"
    except ValueError:
        return "window:invalid"


def rater_cookie() -> str | None:
    """The device or openid cookie a request carries, as sent (a forged one only buckets
    itself)."""
    for name in ("rs_wx", current_app.config["DEVICE_COOKIE"]):
        value = request.cookies.get(name)
        if value:
            return value
    return None


def scanning_rater() -> str:
    signing = current_app.extensions["ratingsvc.signing"]
    return "rater:" + signing.person_hash("rater-cookie", rater_cookie() or "")[:16]


def citizen_limit(name: str, key_func: Callable[[], str] | None = None,
                  exempt_when: Callable[[], bool] | None = None, page: Callable | None = None):
    """A limit on a citizen endpoint (per client IP unless key_func), refused in Chinese:
    in the JSON error shape, or as page(status, message) on an HTML page."""
    return limiter.limit(setting(name), key_func=key_func, exempt_when=exempt_when,
                         error_message=CITIZEN_MESSAGE,
                         on_breach=(lambda _: page(429, CITIZEN_MESSAGE)) if page else None)


def rater_limit(name: str):
    """A limit per rater (device or openid cookie). A first-time phone has none yet: only the
    per-IP limits apply to it, as documented, not this one keyed by its address."""
    return citizen_limit(name, key_func=scanning_rater, exempt_when=lambda: rater_cookie() is None)


class LocalCounts:
    """Fixed-window hit counts per key, in this worker's memory: microseconds, no Redis.

    (flask-limiter's own memory storage costs about 0.3 ms a request on top of Flask, most
    of it in its per-request bookkeeping: as much as the recording script's round trip.)
    """

    def __init__(self, prune_at: int = 100_000) -> None:
        """prune_at: keys held before the ended windows are first dropped."""
        self._counts: dict[tuple[str, int, int, int], int] = {}
        self._lock = threading.Lock()
        self._prune_at = self._prune_min = prune_at

    def __len__(self) -> int:
        return len(self._counts)

    def hit(self, key: str, limits: list[RateLimitItem], now: float) -> tuple[RateLimitItem, int] | None:
        """Count one hit against every limit; the first one over, with the seconds until its
        window ends, or None when all still allow it."""
        over = None
        with self._lock:
            if len(self._counts) > self._prune_at:
                self._counts = {k: n for k, n in self._counts.items() if k[3] + k[2] > now}
                # Many live windows (many addresses within the hour) are not pruned again at
                # every hit: next time at twice what was left.
                self._prune_at = max(self._prune_min, 2 * len(self._counts))
            for item in limits:
                size = item.get_expiry()
                start = int(now) // size * size
                slot = (key, item.amount, size, start)
                n = self._counts[slot] = self._counts.get(slot, 0) + 1
                if n > item.amount and over is None:
                    over = (item, max(1, start + size - int(now)))
        return over


@functools.lru_cache(maxsize=32)
def parsed(value: str) -> list[RateLimitItem]:
    return parse_many(value)


def local_citizen_limit(name: str):
    """A per-IP limit counted in this worker's memory (no Redis round trip), refused in Chinese
    with Retry-After and X-RateLimit-* headers. The Redis limiter leaves the view alone."""

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            now = time.time()
            counts: LocalCounts = current_app.extensions["ratingsvc.local_counts"]
            over = counts.hit(f"{request.endpoint}:{client_hash()}",
                              parsed(current_app.config[name]), now)
            if over is not None:
                item, wait = over
                raise TooManyRequests(CITIZEN_MESSAGE, headers={
                    **retry_after(wait), "X-RateLimit-Limit": str(item.amount),
                    "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(now) + wait)})
            return view(*args, **kwargs)
        LOCALLY_LIMITED.add(get_qualified_name(limited))
        return limited
    return decorate


LOCALLY_LIMITED: set[str] = set()  # views limited by local_citizen_limit only


@limiter.request_filter
def _locally_limited() -> bool:
    """The Redis limiter skips these views at its first check (cheaper than exempt)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and get_qualified_name(view) in LOCALLY_LIMITED


def per_key_limit(blueprint) -> None:
    """LIMIT_API_KEY on every route of a management or scoring blueprint."""
    limiter.limit(setting("LIMIT_API_KEY"), key_func=api_key_bucket,
                  error_message=KEY_MESSAGE)(blueprint)


def init_app(app: Flask) -> None:
    timeout = app.config["REDIS_TIMEOUT"]
    url = app.config["REDIS_URL"]
    app.config["RATELIMIT_STORAGE_URI"] = limitstore.storage_uri(url)
    app.config["RATELIMIT_STORAGE_OPTIONS"] = limitstore.storage_options(url, {
        "socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)})

    @app.after_request
    def _retry_after_only_when_refused(response):  # runs after flask-limiter's header hook
        ours = g.get("retry_after")  # set by our own 429 and 503 answers
        if ours is not None:
            response.headers["Retry-After"] = str(ours)
        elif response.status_code != 429:
            response.headers.pop("Retry-After", None)
        return response

    # flask-limiter adds the app's storage options to those an earlier app (in this process:
    # the tests) gave: a Sentinel's use_replicas must not reach the next app's plain Redis.
    limiter._storage_options = {}
    limiter.init_app(app)
    app.extensions["ratingsvc.local_counts"] = LocalCounts()
    # One Limiter serves every app made in this process (tests make many): each starts out
    # trusting its own storage, not a dead one an earlier app saw.
    limiter._storage_dead = False
