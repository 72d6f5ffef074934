"""One Redis client from a URL, for any topology, connecting only when first used.

- redis://, rediss://, unix://: one server (redis-py's own URL forms).
- redis+sentinel://[:password@]host:port[,host:port...]/service[/db][?sentinel_password=...]:
  the master that the Sentinels name, found again after a failover.
- redis+cluster://[:password@]host:port[,host:port...][/]: a Redis Cluster; MOVED and ASK are
  followed by the client, the slot map read again after a failover.
The same URLs are what flask-limiter's storage takes (limits' redis+sentinel and redis+cluster).
No command is retried on a lost connection: a counting script must never run twice.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")


class BadRedisUrl(ValueError):
    pass


def _hosts(netloc: str) -> tuple[str | None, list[tuple[str, int]]]:
    """(password, [(host, port)]) of "[:password@]host:port,host:port"."""
    auth, _, hosts = netloc.rpartition("@")
    password = unquote(auth.partition(":")[2]) if auth else None
    found = []
    for part in hosts.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit():
            raise BadRedisUrl(f"not host:port: {part!r}")
        found.append((host.strip("[]"), int(port)))
    return password or None, found


def scheme(url: str) -> str:
    return url.partition("://")[0].lower()


def check(url: str) -> None:
    """BadRedisUrl unless url is one that connect() takes."""
    kind = scheme(url)
    if kind not in SCHEMES or "://" not in url:
        raise BadRedisUrl(f"REDIS_URL must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    if kind in ("redis+sentinel", "redis+cluster"):
        parts = urlsplit(url)
        _hosts(parts.netloc)
        if kind == "redis+sentinel" and not parts.path.strip("/").split("/")[0]:
            raise BadRedisUrl("a redis+sentinel:// URL names its service: redis+sentinel://host:port/SERVICE")


def connect(url: str, *, timeout: float) -> redis.Redis:
    """The client for url; no connection is made until a command is sent."""
    check(url)
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
                               "retry": Retry(NoBackoff(), 0), "decode_responses": True}
    kind = scheme(url)
    if kind == "redis+cluster":
        password, hosts = _hosts(urlsplit(url).netloc)
        return LazyCluster(hosts, password=password, **options)
    if kind == "redis+sentinel":
        parts = urlsplit(url)
        password, hosts = _hosts(parts.netloc)
        service, _, db = parts.path.strip("/").partition("/")
        query = parse_qs(parts.query)
        sentinel_password = query.get("sentinel_password", [None])[0]
        sentinel = Sentinel(hosts, sentinel_kwargs={"socket_timeout": timeout,
                                                    "socket_connect_timeout": timeout,
                                                    "password": sentinel_password},
                            **{k: v for k, v in options.items() if k != "decode_responses"})
        return sentinel.master_for(service, db=int(db or 0), password=password, **options)
    return redis.Redis.from_url(url, **options)


class LazyCluster:
    """A RedisCluster made on first use (RedisCluster reads the slot map when made): every
    attribute is the cluster client's. Made again after a failed first attempt."""

    def __init__(self, hosts: list[tuple[str, int]], **options: Any) -> None:
        self._hosts, self._options = hosts, options
        self._client: RedisCluster | None = None
        self._lock = threading.Lock()

    def cluster(self) -> RedisCluster:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    try:
                        self._client = RedisCluster(
                            startup_nodes=[ClusterNode(h, p) for h, p in self._hosts], **self._options)
                    except redis.exceptions.RedisClusterException as exc:  # no node answered
                        raise redis.ConnectionError(f"Redis Cluster unreachable: {exc}") from exc
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cluster(), name)

    def __hash__(self) -> int:
        return id(self)


def real_client(r: Any) -> Any:
    """The redis-py client behind r (a LazyCluster's cluster, made now if need be)."""
    return r.cluster() if isinstance(r, LazyCluster) else r


def is_cluster(r: Any) -> bool:
    return isinstance(r, LazyCluster | RedisCluster)


def primaries(r: Any) -> list[redis.Redis]:
    """A plain client per master: the one server, or each cluster primary."""
    client = real_client(r)
    if isinstance(client, RedisCluster):
        return [client.get_redis_connection(node) for node in client.get_primaries()]
    return [client]


def node_for(r: Any, key: str) -> redis.Redis:
    """A plain client on the master that holds key (the one server, or the cluster's node of
    the key's slot as the client last saw the map)."""
    client = real_client(r)
    if isinstance(client, RedisCluster):
        return client.get_redis_connection(client.get_node_from_key(key))
    return client


def forget_master(r: Any) -> None:
    """After a write a master could not confirm on its replicas: a Sentinel client asks the
    Sentinels again on its next connection, a cluster client reads the slot map again."""
    client = real_client(r)
    if isinstance(client, RedisCluster):
        client.nodes_manager.initialize()
    elif isinstance(client.connection_pool, SentinelConnectionPool):
        client.connection_pool.disconnect(inuse_connections=False)


def cluster_problem(r: Any) -> str | None:
    """Why a cluster cannot serve every slot now (its state as each master sees it), or None."""
    if not is_cluster(r):
        return None
    for node in primaries(r):
        info = node.execute_command("CLUSTER INFO")
        lines = [] if isinstance(info, dict) else str(info).splitlines()
        state = info.get("cluster_state") if isinstance(info, dict) else next(
            (line.split(":", 1)[1].strip() for line in lines if line.startswith("cluster_state:")), "")
        if state != "ok":
            return f"the Redis cluster's state is {state}"
    return None
