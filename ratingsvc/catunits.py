"""Each category's units, in a set per category (rkeys.category_units): a category's scores, and
so one unit's, read only that category's units (issue 14). No Flask here.

The sets are a superset: every unit the registry lists (rs:units) is in the set of the category
its record names, and may also be in the set of a category it left, or be in one before the
registry lists it (a write interrupted between its steps, until its retry). So a reader keeps
the ids that the registry lists (members) and then those whose record names the category (the
caller, from the records it reads anyway): extra ids never show.

registry.save_unit keeps the sets so, in single-key steps: the id into its category's set first,
then the record, then (a unit moved) out of the old category's set. A database from before the
sets has no READY mark: the first reader builds them from every unit's record (build), then
sets the mark; writes made meanwhile add their ids themselves, so none is missed.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis

from . import rkeys
from .rkeys import UnitKeys
from .store import read_many

CHUNK = 1000  # units a read_many (and ids a SADD or SMISMEMBER)


def chunks(ids: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def build(r: redis.Redis) -> None:
    """Put every listed unit's id into the set of the category its record names, then mark the
    sets ready. Only adds: run twice, or beside registry writes, it leaves the sets a superset."""
    ids = sorted(r.smembers(rkeys.UNITS))
    per: dict[str, list[str]] = {}
    for part in chunks(ids):
        for uid, cid in zip(part, read_many(r, [("HGET", UnitKeys(u).info, "category") for u in part]),
                            strict=True):
            if cid:
                per.setdefault(cid, []).append(uid)
    with r.pipeline(transaction=False) as p:  # one key a command
        for cid, members in sorted(per.items()):
            for part in chunks(members):
                p.sadd(rkeys.category_units(cid), *part)
        p.execute()
    r.set(rkeys.CATEGORY_UNITS_READY, "1")


def queue(p: redis.client.Pipeline, cid: str) -> None:
    """Ask, on the caller's pipeline, what members() is given: READY, and the category's set."""
    p.exists(rkeys.CATEGORY_UNITS_READY)
    p.smembers(rkeys.category_units(cid))


def members_of(r: redis.Redis, cids: list[str], replies: list) -> list[str]:
    """members() of several categories together: replies are what queue() read for each, in
    turn (a READY flag and a set per category)."""
    if not all(replies[0::2]):  # the sets are not built yet: members() builds them first
        return sorted({u for cid in cids for u in members(r, cid)})
    return members(r, cids[0], 1, set().union(*replies[1::2]))


def members(r: redis.Redis, cid: str, ready: int | None = None, ids: set[str] | None = None) -> list[str]:
    """The ids, sorted, of the registry's units in the category's set: every unit of the
    category, and maybe some that left it (check their records). ready, ids: what queue()
    read, if the caller did; with the sets not ready, they are built first."""
    if ready is None or ids is None:
        with r.pipeline(transaction=False) as p:
            queue(p, cid)
            ready, ids = p.execute()
    if not ready:
        build(r)
        ids = r.smembers(rkeys.category_units(cid))
    ordered = sorted(ids)
    listed = [flag for reply in read_many(r, [("SMISMEMBER", rkeys.UNITS, *part) for part in chunks(ordered)])
              for flag in reply]
    return [uid for uid, flag in zip(ordered, listed, strict=True) if flag]
