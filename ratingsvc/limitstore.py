"""flask-limiter's storage on the app's Redis topology (limits' own redis, redis+sentinel and
redis+cluster storages), with a cluster's made on first use: limits' cluster storage reads the
slot map when made, and a cluster down at start must be 503s (and the in-memory fallback), not
a failed start."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import redis
from limits.storage import Storage, storage_from_string

from . import topology


def storage_uri(redis_url: str) -> str:
    """The limits library's URI for the app's REDIS_URL: it spells a unix socket redis+unix://,
    names a Sentinel service by the whole path (no /db) and reads no query."""
    kind = topology.scheme(redis_url)
    if kind == "unix":
        return "redis+unix://" + redis_url[len("unix://"):]
    if kind == "redis+sentinel":
        parts = urlsplit(redis_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + parts.path.strip("/").split("/")[0], "", ""))
    if kind == "redis+cluster":
        return "ratingsvc+" + redis_url.split("?", 1)[0]
    return redis_url


def storage_options(redis_url: str, options: dict[str, Any]) -> dict[str, Any]:
    """Sentinel: counts read from the master only (a replica may lag behind a limit)."""
    if topology.scheme(redis_url) == "redis+sentinel":
        return {**options, "use_replicas": False}
    return options


class LazyClusterStorage(Storage):
    """limits' redis+cluster storage, made on first use (again after a failed attempt)."""

    STORAGE_SCHEME = ["ratingsvc+redis+cluster"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._uri = (uri or "").removeprefix("ratingsvc+")
        self._options = {**options, "wrap_exceptions": wrap_exceptions}
        self._inner: Storage | None = None

    def _storage(self) -> Storage:
        if self._inner is None:
            try:
                self._inner = cast(Storage, storage_from_string(self._uri, **self._options))
            except redis.exceptions.RedisClusterException as exc:
                raise redis.ConnectionError(f"Redis Cluster unreachable: {exc}") from exc
        return cast(Storage, self._inner)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (redis.RedisError, redis.exceptions.RedisClusterException)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._storage().incr(key, expiry, amount)

    def get(self, key: str) -> int:
        return self._storage().get(key)

    def get_expiry(self, key: str) -> float:
        return self._storage().get_expiry(key)

    def check(self) -> bool:
        try:
            return self._storage().check()
        except redis.RedisError:
            return False

    def reset(self) -> int | None:
        return self._storage().reset()

    def clear(self, key: str) -> None:
        self._storage().clear(key)
