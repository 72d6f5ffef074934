"""The Redis client: one per app, built in init_app, reached through get_redis()."""

from __future__ import annotations

import contextlib
import gc
from functools import lru_cache
from pathlib import Path

import hiredis
import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

LUA_DIR = Path(__file__).parent / "lua"


class RedisStore:
    """Unbound extension: bind with init_app(app); the client lives in app.extensions."""

    name = "ratingsvc.redis"

    def init_app(self, app: Flask) -> None:
        timeout = app.config["REDIS_TIMEOUT"]
        # No automatic retry: a counting script must never run twice because a reply was slow.
        # A dead pooled connection is noticed on checkout and reopened by redis-py itself.
        client = redis.Redis.from_url(
            app.config["REDIS_URL"],
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        app.extensions[self.name] = client

    @property
    def client(self) -> redis.Redis:
        return current_app.extensions[self.name]


def read_many(r: redis.Redis, commands: list[tuple]) -> list:
    """Send the commands in one write and read their replies: one round trip, without a
    redis-py pipeline's Python work per command (20,000 HMGETs: about 60 ms, not 200).
    For reads only: the first error reply is raised (redis.ResponseError), once every reply
    has been read."""
    if not commands:
        return []
    conn = r.connection_pool.get_connection()
    try:
        conn.send_packed_command([b"".join(map(hiredis.pack_command, commands))])
        replies: list = []
        error = None
        for _ in commands:
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
        r.connection_pool.release(conn)


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
