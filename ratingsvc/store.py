"""The Redis client: one per app, built in init_app, reached through get_redis().

One client from REDIS_URL, whatever the topology (topology.py): one server, a Sentinel-watched
master, or a Redis Cluster. read_many sends a batch of reads per node, in bounded chunks."""

from __future__ import annotations

import contextlib
import gc
from functools import lru_cache
from pathlib import Path
from typing import Any

import hiredis
import redis
from flask import Flask, current_app
from redis.cluster import RedisCluster
from redis.commands.core import Script

from .topology import connect, real_client

LUA_DIR = Path(__file__).parent / "lua"
CHUNK = 2000  # commands sent in one write; their replies are read before the next write


class RedisStore:
    """Unbound extension: bind with init_app(app); the client lives in app.extensions."""

    name = "ratingsvc.redis"

    def init_app(self, app: Flask) -> None:
        # Nothing connects here: a Redis down at start is a 503 on the first request, not a
        # failed start.
        app.extensions[self.name] = connect(app.config["REDIS_URL"], timeout=app.config["REDIS_TIMEOUT"])

    @property
    def client(self) -> redis.Redis:
        return current_app.extensions[self.name]


#: a cluster's answers that its slots moved or are moving: its map is read again
REDIRECTS = (redis.exceptions.MovedError, redis.exceptions.TryAgainError,
             redis.exceptions.ClusterDownError)


def _key(command: tuple) -> Any:
    """The key that says which node a command goes to (EVAL/EVALSHA: its first key), or None."""
    name = command[0].upper() if isinstance(command[0], str) else command[0]
    if name in ("EVALSHA", "EVAL"):
        return command[3] if int(command[2]) else None
    return command[1] if len(command) > 1 and name not in ("INFO", "PING") else None


def read_many(r: redis.Redis, commands: list[tuple]) -> list:
    """Send the commands in writes of CHUNK and read their replies: a round trip per chunk,
    without a redis-py pipeline's Python work per command (20,000 HMGETs: about 60 ms, not
    200). On a cluster each node gets its own commands; a command without a key (INFO) goes
    to every primary and its replies are joined by newlines.
    For reads only: the first error reply is raised (redis.ResponseError), once every reply
    has been read. A cluster that moved slots meanwhile is asked again once, after its map is
    read anew."""
    if not commands:
        return []
    client = real_client(r)
    if not isinstance(client, RedisCluster):
        return _on_pool(client.connection_pool, commands)
    try:
        return _on_cluster(client, commands)
    except REDIRECTS:
        client.nodes_manager.initialize()
        return _on_cluster(client, commands)


def _on_cluster(rc: RedisCluster, commands: list[tuple]) -> list:
    by_node: dict[str, tuple[Any, list[int]]] = {}
    everywhere: list[int] = []
    for i, command in enumerate(commands):
        key = _key(command)
        if key is None:
            everywhere.append(i)
            continue
        node = rc.get_node_from_key(key)
        by_node.setdefault(node.name, (node, []))[1].append(i)
    replies: list = [None] * len(commands)
    for node, positions in by_node.values():  # an error reply raises once that node's are read
        got = _on_pool(rc.get_redis_connection(node).connection_pool, [commands[i] for i in positions])
        for i, reply in zip(positions, got, strict=True):
            replies[i] = reply
    for i in everywhere:
        texts = [_on_pool(rc.get_redis_connection(node).connection_pool, [commands[i]])[0]
                 for node in rc.get_primaries()]
        replies[i] = "\n".join(map(str, texts))
    return replies


def _on_pool(pool: Any, commands: list[tuple]) -> list:
    conn = pool.get_connection()
    try:
        replies: list = []
        error = None
        for start in range(0, len(commands), CHUNK):
            chunk = commands[start:start + CHUNK]
            conn.send_packed_command([b"".join(map(hiredis.pack_command, chunk))])
            for _ in chunk:
                try:
                    replies.append(conn.read_response())
                except redis.ResponseError as exc:  # an error reply: the connection stays in step
                    error = error or exc
                    replies.append(exc)
        if error is not None:
            raise error
        return replies
    except BaseException as exc:
        if not isinstance(exc, redis.ResponseError):  # lost, timed out, interrupted: unread replies
            conn.disconnect()
        raise
    finally:
        pool.release(conn)


def servers(info: str) -> str:
    """The run_ids in INFO server (read_many's, so of every master of a cluster): they change
    when a server restarts or a replica takes over, and then what a cache read is void."""
    return ",".join(line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("run_id:"))


@contextlib.contextmanager
def no_gc():
    """The cyclic garbage collector paused: a table of 10,000 units allocates some 200,000
    objects that all live until the answer is sent, and the collector's passes over them
    took half of the formula's time. Nothing here makes cycles; reference counting frees it."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# Scripts that change counts share the functions of counters.lua, and open or void cases with
# those of cases.lua.
COUNTING = ["counters.lua", "cases.lua"]
PRELUDE = {"record.lua": COUNTING, "review.lua": COUNTING, "change.lua": COUNTING,
           "appeal.lua": COUNTING, "case.lua": ["cases.lua"]}


@lru_cache(maxsize=64)
def load_script(client: redis.Redis, filename: str) -> Script:
    """A Lua file of ratingsvc/lua as a redis-py Script (EVALSHA, re-loaded on NOSCRIPT).

    Loaded once per client: the Script object is cached, and Redis caches the script body.
    """
    parts = PRELUDE.get(filename, [])
    body = "\n".join((LUA_DIR / f).read_text(encoding="utf-8") for f in [*parts, filename])
    return client.register_script(body)
