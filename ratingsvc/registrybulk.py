"""Registry writes in bulk (`units import`): the same steps as registry.py's writes (README
"Registry writes"), each step done for a whole chunk of units before the next step begins,
in one pipeline (a round trip per Redis node) or one command on one key.

A chunk of units: their ids into their categories' sets (a SADD per category), their records,
whole (an HSET each, each in its unit's slot), their ids in `rs:units` (one SADD), then units
that moved out of the sets of the categories they left (a SREM per category). Their new
windows: a block of ids (one INCRBY), the id -> unit lookups (one HSET of `rs:wins`), then
each unit's new windows in its slot (windows.lua, one call per unit). No step spans two hash
slots; a reader sees a unit or a window only once its last step is done, and an import run
again writes what an interrupted one left out. The number of round trips grows with the
number of chunks, not of units."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import redis
from redis.cluster import RedisCluster

from . import registry, rkeys
from .records import Category, RegistryError, Unit
from .rkeys import UnitKeys
from .store import load_script
from .topology import primaries, real_client

CHUNK = 1000  # units written per step


def _pipelined(r: redis.Redis, fill: Callable[[Any], object]) -> list:
    with r.pipeline(transaction=False) as p:
        fill(p)
        return p.execute()


def _node_of(r: redis.Redis) -> Callable[[str], dict[str, Any]]:
    """The options that send a script to the node of its key: on a cluster, its node, which
    redis-py (8.1) would otherwise ask a server for (COMMAND GETKEYS) on every EVALSHA."""
    client = real_client(r)
    if isinstance(client, RedisCluster):
        return lambda key: {"target_nodes": client.get_node_from_key(key)}
    return lambda key: {}


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _check(kind: str, ids: list[str], indexed: Iterable[Any], expected: Callable[[str], bool]) -> None:
    for ident, there in zip(ids, indexed, strict=True):
        if bool(there) != expected(ident):
            raise RegistryError(kind, ident, "unknown" if expected(ident) else "existing")


def _publish(r: redis.Redis, index: str, records: dict[str, tuple[str, dict[str, str]]],
             versions: bool = False) -> None:
    """Every record whole (id -> (key, fields)), each unit's version moved after its record
    (versions: registry._publish's), then all their ids in the index."""
    def fill(p: Any) -> None:
        for ident, (key, fields) in records.items():
            p.hset(key, mapping=fields)
            if versions:
                p.incr(UnitKeys(ident).version)
    _pipelined(r, fill)
    registry._after_step(f"records {index}")
    r.sadd(index, *records)


def stored_categories(r: redis.Redis, ids: list[str]) -> dict[str, Category]:
    """The indexed categories among ids (RegistryError for one that is not)."""
    return {i: registry._category(i, d)
            for i, d in _stored(r, "category", rkeys.CATEGORIES, ids, rkeys.category).items()}


def stored_units(r: redis.Redis, ids: list[str]) -> dict[str, Unit]:
    """The indexed units among ids (RegistryError for one that is not): one round trip."""
    return {i: Unit(i, d["name"], d["category"], d["active"] == "1")
            for i, d in _stored(r, "unit", rkeys.UNITS, ids, lambda u: UnitKeys(u).info).items()}


def _stored(r: redis.Redis, kind: str, index: str, ids: list[str],
            key: Callable[[str], str]) -> dict[str, dict[str, str]]:
    if not ids:
        return {}
    indexed, *rows = _pipelined(r, lambda p: [p.smismember(index, ids), *(p.hgetall(key(i)) for i in ids)])
    _check(kind, ids, indexed, lambda i: True)
    return dict(zip(ids, rows, strict=True))


def save_categories(r: redis.Redis, cats: list[Category], *, new: set[str]) -> None:
    """Categories, the ids in new created (none of them may exist), the others changed."""
    if not cats:
        return
    ids = [c.id for c in cats]
    _check("category", ids, r.smismember(rkeys.CATEGORIES, ids), lambda i: i not in new)
    _publish(r, rkeys.CATEGORIES, {c.id: (rkeys.category(c.id),
                                          {"name": c.name, "active": _flag(c.active)}) for c in cats})


def save_units(r: redis.Redis, units: list[Unit], *, new: set[str]) -> None:
    """Units (a chunk of them), the ids in new created; their categories must exist. The
    steps of registry.save_unit: each id into its category's set (ratingsvc.catunits), the
    records, rs:units, then a unit that moved out of the set of the category it left."""
    if not units:
        return
    ids, cats = [u.id for u in units], sorted({u.category for u in units})
    indexed, known, *was = _pipelined(r, lambda p: [
        p.smismember(rkeys.UNITS, ids), p.smismember(rkeys.CATEGORIES, cats),
        *(p.hget(UnitKeys(u).info, "category") for u in ids)])
    _check("unit", ids, indexed, lambda i: i not in new)
    _check("category", cats, known, lambda c: True)
    _sets(r, "sadd", [(u.category, u.id) for u in units])
    registry._after_step("category sets")
    _publish(r, rkeys.UNITS, {u.id: (UnitKeys(u.id).info, {"name": u.name, "category": u.category,
                                                           "active": _flag(u.active)}) for u in units},
             versions=True)
    left = [(old, u.id) for u, old in zip(units, was, strict=True) if old not in (None, u.category)]
    if left:
        registry._after_step("units listed")
        _sets(r, "srem", left)
    r.incr(rkeys.REGISTRY_VERSION)  # last, as registry.save_unit


def _sets(r: redis.Redis, command: str, pairs: list[tuple[str, str]]) -> None:
    """SADD or SREM of unit ids in their categories' sets: one command per category."""
    per: dict[str, list[str]] = {}
    for cid, uid in pairs:
        per.setdefault(cid, []).append(uid)
    _pipelined(r, lambda p: [getattr(p, command)(rkeys.category_units(c), *m) for c, m in per.items()])


def create_windows(r: redis.Redis, wanted: list[tuple[str, str]]) -> list[int]:
    """New windows, (unit id, name) each, of units that exist: their ids, in order."""
    if not wanted:
        return []
    last = int(r.incrby(rkeys.WINDOW_SEQ, len(wanted)))
    ids = list(range(last - len(wanted) + 1, last + 1))
    registry._after_step("window ids")
    r.hset(rkeys.WINDOWS, mapping={str(w): unit for w, (unit, _) in zip(ids, wanted, strict=True)})
    registry._after_step("window lookups")
    per_unit: dict[str, list[str]] = {}
    for wid, (unit, name) in zip(ids, wanted, strict=True):
        per_unit.setdefault(unit, []).extend((str(wid), name))
    script, node_of = load_script(r, "windows.lua"), _node_of(r)

    def fill(p: Any) -> None:  # EVALSHA by execute_command: a cluster pipeline refuses evalsha()
        for unit, args in per_unit.items():
            keys = UnitKeys(unit)
            p.execute_command("EVALSHA", script.sha, 2, keys.wname, keys.ep, *args, **node_of(keys.ep))

    try:
        _pipelined(r, fill)
    except redis.exceptions.NoScriptError:  # a server restarted, or the first use: load, redo
        for node in primaries(r):
            node.script_load(script.script)
        _pipelined(r, fill)
    return ids
