"""Categories, units and windows: plain functions over a Redis client (no Flask here).

No write is a transaction across hash slots (Redis Cluster refuses those): each write is a few
steps, each one key or one script on one unit's keys, in an order that a reader never sees half
done, and that a retry of the whole write completes (README "Registry writes")."""

from __future__ import annotations

from typing import Any

import redis

from . import rkeys
from .hours import compile_hours, decompile_hours
from .records import ID_RE, Category, RegistryError, Unit, Window
from .rkeys import UnitKeys
from .store import load_script

KEEP: Any = object()  # update_window: leave the opening hours as they are


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _after_step(step: str) -> None:
    """Called after each step of a registry write that takes more than one; a test replaces
    it to interrupt the write there (tests/test_registry_steps.py)."""


def _publish(r: redis.Redis, index: str, ident: str, record: str, fields: dict[str, str],
             version: str | None = None) -> None:
    """A category's or a unit's record, whole, then its id in the index: one key per step, so
    no step spans two hash slots; a reader that finds the id finds the record; a record not
    yet indexed reads as unknown, and a retry writes it again, the same, and indexes it.
    version: the unit's version key, moved after its record (in the same slot, in the same
    round trip): a reader that sees the new version sees the new record, and a retry of a
    write stopped between the two moves it then."""
    if version is None:
        r.hset(record, mapping=fields)
    else:
        with r.pipeline(transaction=False) as p:
            p.hset(record, mapping=fields)
            p.incr(version)
            p.execute()
    _after_step(f"record {record}")
    r.sadd(index, ident)


def _check_new(r: redis.Redis, index: str, kind: str, ident: str, create: bool) -> None:
    if bool(r.sismember(index, ident)) == create:  # creating one that is there, or the reverse
        raise RegistryError(kind, ident, "existing" if create else "unknown")


def _indexed(r: redis.Redis, index: str, ident: str, record: str) -> dict[str, str]:
    """The record, if its id is in the index (one round trip on one Redis)."""
    with r.pipeline(transaction=False) as p:
        p.sismember(index, ident)
        p.hgetall(record)
        indexed, data = p.execute()
    return data if indexed else {}


# Categories ------------------------------------------------------------------------------
def save_category(r: redis.Redis, cat: Category, *, create: bool) -> Category:
    _check_new(r, rkeys.CATEGORIES, "category", cat.id, create)
    _publish(r, rkeys.CATEGORIES, cat.id, rkeys.category(cat.id),
             {"name": cat.name, "active": _flag(cat.active), "poster_taps": cat.poster_taps})
    return cat


def get_category(r: redis.Redis, cid: str) -> Category:
    data = _indexed(r, rkeys.CATEGORIES, cid, rkeys.category(cid))
    if not data:
        raise RegistryError("category", cid)
    return _category(cid, data)


def _category(cid: str, data: dict[str, str]) -> Category:
    return Category(id=cid, name=data["name"], active=data.get("active") != "0",
                    poster_taps=data.get("poster_taps", "count"))


def list_categories(r: redis.Redis) -> list[Category]:
    ids = sorted(r.smembers(rkeys.CATEGORIES))
    with r.pipeline(transaction=False) as p:
        for cid in ids:
            p.hgetall(rkeys.category(cid))
        rows = p.execute()
    return [_category(c, d) for c, d in zip(ids, rows, strict=True) if d]


# Units -----------------------------------------------------------------------------------
def save_unit(r: redis.Redis, unit: Unit, *, create: bool) -> Unit:
    """Its id into its category's set first (ratingsvc.catunits), then its record and rs:units;
    a unit that moved leaves its old category's set last."""
    _check_new(r, rkeys.UNITS, "unit", unit.id, create)
    get_category(r, unit.category)
    was = r.hget(UnitKeys(unit.id).info, "category")
    r.sadd(rkeys.category_units(unit.category), unit.id)
    _after_step(f"category set {unit.category}")
    _publish(r, rkeys.UNITS, unit.id, UnitKeys(unit.id).info,
             {"name": unit.name, "category": unit.category, "active": _flag(unit.active)},
             UnitKeys(unit.id).version)
    if was not in (None, unit.category):
        _after_step(f"unit {unit.id} listed")
        r.srem(rkeys.category_units(was), unit.id)
    r.incr(rkeys.REGISTRY_VERSION)  # last: a reader that sees it sees every step before
    return unit


def _unit(uid: str, data: dict[str, str]) -> Unit:
    return Unit(id=uid, name=data["name"], category=data["category"], active=data["active"] == "1")


def get_unit(r: redis.Redis, uid: str) -> Unit:
    data = _indexed(r, rkeys.UNITS, uid, UnitKeys(uid).info) if ID_RE.match(uid) else None
    if not data:
        raise RegistryError("unit", uid)
    return _unit(uid, data)


def list_units(r: redis.Redis, category: str | None = None) -> list[Unit]:
    ids = sorted(r.smembers(rkeys.UNITS))
    with r.pipeline(transaction=False) as p:
        for uid in ids:
            p.hgetall(UnitKeys(uid).info)
        units = [_unit(uid, data) for uid, data in zip(ids, p.execute(), strict=True) if data]
    return [u for u in units if category is None or u.category == category]


# Windows ---------------------------------------------------------------------------------
def _write_window(r: redis.Redis, unit_id: str, wid: int, name: str, epoch: str,
                  hours: str) -> None:
    """window.lua: a window's name, epoch and hours in one step in its unit's slot."""
    keys = UnitKeys(unit_id)
    if load_script(r, "window.lua")(keys=[keys.wname, keys.ep, keys.hours],
                                    args=[str(wid), name, epoch, hours]) is None:
        raise RegistryError("window", wid)


def _hours(hours: dict | None | Any) -> str:
    return "" if hours is KEEP else "-" if hours is None else "=" + compile_hours(hours)


def create_window(r: redis.Redis, unit_id: str, name: str, hours: dict | None = None) -> Window:
    """A new id (INCR), the id -> unit lookup, then the window's fields in its unit's slot in
    one script: only then does the unit list it. An interruption leaves an id nobody was
    given (a gap in the ids) that reads as an unknown window; a retry makes a new one."""
    get_unit(r, unit_id)
    spec = _hours(KEEP if hours is None else hours)  # bad hours: nothing is written
    wid = int(r.incr(rkeys.WINDOW_SEQ))
    _after_step("window id")
    r.hset(rkeys.WINDOWS, str(wid), unit_id)
    _after_step("window lookup")
    _write_window(r, unit_id, wid, name, "new", spec)
    return Window(id=wid, unit=unit_id, name=name, epoch=1, hours=decompile_hours(spec[1:]))


def _window(wid: int, unit_id: str, name: str | None, ep: str | None,
            hours: str | None = None) -> Window:
    if name is None or ep is None:
        raise RegistryError("window", wid)
    return Window(id=wid, unit=unit_id, name=name, epoch=int(ep.lstrip("x")),
                  active=not ep.startswith("x"), hours=decompile_hours(hours))


def window_unit(r: redis.Redis, wid: int) -> str:
    unit_id = r.hget(rkeys.WINDOWS, str(wid))
    if unit_id is None:
        raise RegistryError("window", wid)
    return unit_id


def get_window(r: redis.Redis, wid: int) -> Window:
    unit_id = window_unit(r, wid)
    keys = UnitKeys(unit_id)
    with r.pipeline(transaction=False) as p:
        p.hget(keys.wname, str(wid))
        p.hget(keys.ep, str(wid))
        p.hget(keys.hours, str(wid))
        name, ep, hours = p.execute()
    return _window(wid, unit_id, name, ep, hours)


def window_with_unit(r: redis.Redis, wid: int) -> tuple[Window, Unit]:
    """The window and its unit, in two round trips."""
    window, unit, _ = window_scan(r, wid)
    return window, unit


def window_scan(r: redis.Redis, wid: int) -> tuple[Window, Unit, int | None]:
    """What a scan needs: the window, its unit and its hall (ratingsvc.visits; None: in no
    hall), in two round trips."""
    with r.pipeline(transaction=False) as p:
        p.hget(rkeys.WINDOWS, str(wid))
        p.hget(rkeys.HALL_WINDOWS, str(wid))
        unit_id, hall = p.execute()
    if unit_id is None:
        raise RegistryError("window", wid)
    keys = UnitKeys(unit_id)
    with r.pipeline(transaction=False) as p:
        p.hget(keys.wname, str(wid))
        p.hget(keys.ep, str(wid))
        p.hgetall(keys.info)
        name, ep, info = p.execute()
    if not info:
        raise RegistryError("unit", unit_id)
    return _window(wid, unit_id, name, ep), _unit(unit_id, info), None if hall is None else int(hall)


def list_windows(r: redis.Redis, unit_id: str) -> list[Window]:
    keys = UnitKeys(unit_id)
    with r.pipeline(transaction=False) as p:
        p.hgetall(keys.wname)
        p.hgetall(keys.ep)
        p.hgetall(keys.hours)
        names, eps, hours = p.execute()
    return sorted((_window(int(w), unit_id, n, eps.get(w), hours.get(w)) for w, n in names.items()),
                  key=lambda w: w.id)


def update_window(r: redis.Redis, wid: int, *, name: str | None = None,
                  active: bool | None = None, hours: dict | None = KEEP) -> Window:
    """Change a window in one step; hours=None removes its opening hours (always open)."""
    window = get_window(r, wid)
    epoch = "" if active is None else "on" if active else "off"
    _write_window(r, window.unit, wid, name or "", epoch, _hours(hours))
    return get_window(r, wid)


def revoke_window(r: redis.Redis, wid: int) -> Window:
    """Bump the epoch: every poster printed before stops working at once."""
    window = get_window(r, wid)
    _write_window(r, window.unit, wid, "", "bump", "")
    return get_window(r, wid)
