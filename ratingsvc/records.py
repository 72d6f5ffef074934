"""The registry's records (categories, units, windows) and its error; ratingsvc.registry
reads and writes them (and re-exports these names)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import errortext

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class RegistryError(LookupError):
    """An unknown or clashing id; ``kind`` names the object."""

    def __init__(self, kind: str, ident: object, problem: str = "unknown") -> None:
        chinese, english = errortext.lookup(kind, ident, problem)
        super().__init__(f"{chinese} ({english})")
        self.kind, self.ident, self.problem = kind, ident, problem


@dataclass
class Category:
    id: str
    name: str
    active: bool = True
    poster_taps: str = "count"  # count | hold: poster taps on a hall's windows (ratingsvc.visits)


@dataclass
class Unit:
    id: str
    name: str
    category: str
    active: bool = True


@dataclass
class Window:
    id: int
    unit: str
    name: str
    epoch: int
    active: bool = True
    hours: dict | None = None  # opening hours (ratingsvc.hours); None: always open
