"""`ratingsvc units import FILE.csv`: categories, units and windows from one CSV file.

Columns: category_id, category_name, unit_id, unit_name, windows (window names joined by "|").
Every row is checked before anything is written. Importing again updates names and adds
windows that are new; it never removes anything.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from typing import IO

import redis

from . import registry
from .registry import ID_RE, Category, Unit

COLUMNS = ["category_id", "category_name", "unit_id", "unit_name", "windows"]


class CsvError(ValueError):
    """The file is not valid; nothing was written."""


@dataclass
class Row:
    line: int
    category: Category
    unit: Unit
    windows: list[str]


def read_rows(stream: IO[str]) -> list[Row]:
    reader = csv.DictReader(stream)
    if reader.fieldnames != COLUMNS:
        raise CsvError(f"the header must be: {','.join(COLUMNS)}")
    rows, problems = [], []
    for line, rec in enumerate(reader, start=2):
        values = {k: (rec.get(k) or "").strip() for k in COLUMNS}
        windows = [w.strip() for w in values["windows"].split("|") if w.strip()]
        bad = [k for k in ("category_id", "unit_id") if not ID_RE.match(values[k])]
        bad += [k for k in ("category_name", "unit_name") if not 0 < len(values[k]) <= 100]
        if not windows or any(len(w) > 100 for w in windows):
            bad.append("windows")
        if bad:
            problems.append(f"line {line}: bad {', '.join(bad)}")
            continue
        rows.append(Row(line, Category(values["category_id"], values["category_name"]),
                        Unit(values["unit_id"], values["unit_name"], values["category_id"]),
                        windows))
    dupes = [u for u, n in Counter(r.unit.id for r in rows).items() if n > 1]
    if dupes:
        problems.append(f"units listed twice: {', '.join(dupes[:10])}")
    if problems:
        raise CsvError("; ".join(problems[:20]))
    return rows


def import_rows(r: redis.Redis, rows: list[Row]) -> Counter:
    done: Counter = Counter()
    known_cats = {c.id for c in registry.list_categories(r)}
    known_units = set(r.smembers(registry.rkeys.UNITS))
    for row in rows:
        new_cat = row.category.id not in known_cats
        registry.save_category(r, row.category, create=new_cat)
        if new_cat:
            known_cats.add(row.category.id)
            done["categories created"] += 1
        new = row.unit.id not in known_units
        registry.save_unit(r, row.unit, create=new)
        done["units created" if new else "units updated"] += 1
        existing = {w.name for w in registry.list_windows(r, row.unit.id)}
        for name in row.windows:
            if name not in existing:
                registry.create_window(r, row.unit.id, name)
                existing.add(name)
                done["windows created"] += 1
    return done
