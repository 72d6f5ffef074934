"""What an import would change: `make_plan(rows, current)` is a pure diff of the file's rows
against the registry as it is (new, changed with field: old → new, unchanged, conflicts);
`apply(r, plan)` writes it. The command line shows the plan before writing; a console can too.

A unit's `active` changes only where the file says so (its optional `active` column): a unit
the office deactivated stays inactive. A category whose name differs between rows of the file
is a conflict; one whose name differs from the stored name is a conflict unless the caller
asks to rename categories. An import never removes anything.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import redis

from . import registry, registrybulk, rkeys
from .hours import UNIT_HOURS, text_of
from .importer import Row
from .registry import Category, Unit

Status = Literal["new", "changed", "unchanged", "conflict"]


@dataclass
class Current:
    """The registry an import is compared with: categories, units, each unit's window names."""
    categories: dict[str, Category]
    units: dict[str, Unit]
    windows: dict[str, set[str]]
    hours: dict[str, str | None] = field(default_factory=dict)  # unit -> its default hours (compiled)


@dataclass
class Item:
    kind: Literal["category", "unit"]
    id: str
    name: str
    status: Status
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)  # field: (old, new)
    windows: list[str] = field(default_factory=list)  # windows to add
    category: str = ""
    active: bool = True
    problem: str = ""  # a conflict's reason
    hours: str | None = None  # the unit's default opening hours to write (compiled); None: leave them


@dataclass
class Plan:
    items: list[Item]

    def counts(self) -> Counter:
        return Counter((i.kind, i.status) for i in self.items)

    @property
    def conflicts(self) -> list[Item]:
        return [i for i in self.items if i.status == "conflict"]

    @property
    def new_windows(self) -> int:
        return sum(len(i.windows) for i in self.items)

    @property
    def writes(self) -> bool:
        return any(i.status in ("new", "changed") for i in self.items)


def fingerprint(plan: Plan) -> str:
    """A digest of everything the plan would do: a preview and a later plan of the same file
    are the same plan if and only if their fingerprints are equal."""
    parts = [[i.kind, i.id, i.name, i.status, sorted((k, repr(v)) for k, v in i.changes.items()),
              i.windows, i.category, i.active, i.problem, i.hours] for i in plan.items]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:32]


def read_current(r: redis.Redis) -> Current:
    units = {u.id: u for u in registry.list_units(r)}
    with r.pipeline(transaction=False) as p:
        for uid in units:
            p.hvals(rkeys.UnitKeys(uid).wname)
            p.hget(rkeys.UnitKeys(uid).hours, UNIT_HOURS)
        found = p.execute()
    names, hours = found[::2], found[1::2]
    return Current({c.id: c for c in registry.list_categories(r)}, units,
                   {uid: set(n) for uid, n in zip(units, names, strict=True)},
                   dict(zip(units, hours, strict=True)))


def _category(cid: str, rows: list[Row], stored: Category | None, rename: bool) -> Item:
    first: dict[str, int] = {}
    for row in rows:
        first.setdefault(row.category_name, row.line)
    name = rows[0].category_name
    if len(first) > 1:
        seen = "，".join(f"第 {line} 行“{n}”" for n, line in first.items())
        return Item("category", cid, name, "conflict",
                    problem=f"文件中名称不一致 / names differ within the file: {seen}")
    if stored is None:
        return Item("category", cid, name, "new")
    if stored.name == name:
        return Item("category", cid, name, "unchanged")
    change: dict[str, tuple[object, object]] = {"name": (stored.name, name)}
    if rename:
        return Item("category", cid, name, "changed", change)
    return Item("category", cid, name, "conflict", change,
                problem=f"与已存名称“{stored.name}”不同（第 {rows[0].line} 行“{name}”），"
                        "要改名请加 --rename-categories / differs from the stored name")


def _unit(row: Row, stored: Unit | None, windows: set[str], hours: str | None = None) -> Item:
    add = [w for w in row.windows if w not in windows]
    if stored is None:
        active = True if row.active is None else row.active
        return Item("unit", row.unit_id, row.unit_name, "new", windows=add,
                    category=row.category_id, active=active, hours=row.hours)
    changes: dict[str, tuple[object, object]] = {}
    if row.unit_name != stored.name:
        changes["name"] = (stored.name, row.unit_name)
    if row.category_id != stored.category:
        changes["category"] = (stored.category, row.category_id)
    active = stored.active if row.active is None else row.active
    if active != stored.active:
        changes["active"] = (stored.active, active)
    if add:
        changes["windows"] = ("", "+" + "|".join(add))
    if row.hours is not None and row.hours != hours:
        changes["hours"] = (text_of(hours) or "—", text_of(row.hours))
    return Item("unit", row.unit_id, row.unit_name, "changed" if changes else "unchanged", changes,
                add, row.category_id, active, hours=row.hours if "hours" in changes else None)


def make_plan(rows: list[Row], current: Current, *, rename_categories: bool = False) -> Plan:
    """The diff of the file's rows against the registry; nothing is read or written here."""
    by_category: dict[str, list[Row]] = {}
    for row in rows:
        by_category.setdefault(row.category_id, []).append(row)
    items = [_category(cid, crows, current.categories.get(cid), rename_categories)
             for cid, crows in by_category.items()]
    items += [_unit(row, current.units.get(row.unit_id), current.windows.get(row.unit_id, set()),
                    current.hours.get(row.unit_id)) for row in rows]
    return Plan(items)


def apply(r: redis.Redis, plan: Plan) -> Counter:
    """Write a plan without conflicts; fields the plan does not change stay as stored now.
    Categories first, then the units by chunks of registrybulk.CHUNK, each chunk's units
    whole and indexed before their new windows: a round trip per step and chunk."""
    if plan.conflicts:
        raise ValueError("a plan with conflicts is not written")
    writes = [i for i in plan.items if i.status in ("new", "changed")]
    cats = [i for i in writes if i.kind == "category"]
    stored = registrybulk.stored_categories(r, [i.id for i in cats if i.status == "changed"])
    registrybulk.save_categories(
        r, [Category(i.id, i.name, stored[i.id].active if i.id in stored else True) for i in cats],
        new={i.id for i in cats if i.status == "new"})
    units = [i for i in writes if i.kind == "unit"]
    for start in range(0, len(units), registrybulk.CHUNK):
        chunk = units[start:start + registrybulk.CHUNK]
        now = registrybulk.stored_units(r, [i.id for i in chunk if i.status == "changed"])
        registrybulk.save_units(r, [_planned(i, now.get(i.id)) for i in chunk],
                                new={i.id for i in chunk if i.status == "new"})
        registrybulk.create_windows(r, [(i.id, name) for i in chunk for name in i.windows])
        with r.pipeline(transaction=False) as p:  # the units' default opening hours, last
            for i in chunk:
                if i.hours is not None:
                    p.hset(rkeys.UnitKeys(i.id).hours, UNIT_HOURS, i.hours)
            p.execute()
    done: Counter = Counter((i.kind, i.status) for i in writes)
    done[("window", "new")] = plan.new_windows
    return done


def _planned(item: Item, stored: Unit | None) -> Unit:
    """A unit as the plan says: a new one whole, a changed one as stored with the planned
    fields changed (it is re-read: only those change)."""
    if stored is None:
        return Unit(item.id, item.name, item.category, item.active)
    for name, (_old, new) in item.changes.items():
        if name not in ("windows", "hours"):
            setattr(stored, name, new)
    return stored
