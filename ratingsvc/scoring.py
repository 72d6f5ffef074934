"""The 10-point mobile score: a pure formula, and the counts it is computed from.

Levels map to an index 1->0, 2->25, 3->50, 4->75, 5->100; raw = mean index / 10 on 0-10.
Units are ranked on the shrunk score, the Bayesian average toward their category's mean:
    score = (C*m + n*raw) / (C + n)
where m is the pooled mean raw of every counted tap in the category (5.0 if it has none).
The 95% interval is the Wilson score interval of the mean satisfaction raw/10 on [0, 1]:
conservative, because a [0, 1] variable's variance is at most p(1-p), and never of zero width.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import redis
from redis.exceptions import NoScriptError

from .rkeys import UnitKeys
from .store import load_script
from .timeutil import day_after, day_key

POINTS = {1: 0.0, 2: 2.5, 3: 5.0, 4: 7.5, 5: 10.0}  # index / 10
Z95 = 1.959963984540054
EMPTY_CATEGORY_MEAN = 5.0
CHUNK = 1000  # script calls per pipelined round trip


@dataclass
class UnitCounts:
    unit: str
    name: str
    category: str
    counts: list[int]  # counted taps per level 1..5
    active: bool = True
    held: int = 0  # held for review and not released: not in counts


@dataclass
class UnitScore:
    unit: str
    name: str
    category: str
    counts: dict[str, int]
    n: int
    raw: float | None
    score: float
    ci95: tuple[float, float]
    good_rate: float | None
    status: str  # ok | insufficient
    held: int = 0
    rank: int | None = None


WEIGHTS = tuple(POINTS[lvl] for lvl in range(1, 6))


def points(counts: list[int]) -> float:
    """The sum of the counted taps' points (index / 10)."""
    return sum(map(operator.mul, WEIGHTS, counts))


def raw_mean(counts: list[int]) -> float | None:
    n = sum(counts)
    return points(counts) / n if n else None


def wilson(raw: float | None, n: int) -> tuple[float, float]:
    if not n or raw is None:
        return (0.0, 10.0)
    p, z2 = raw / 10, Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (max(0.0, centre - half) * 10, min(1.0, centre + half) * 10)


def category_means(units: list[UnitCounts]) -> dict[str, tuple[float, int]]:
    """category -> (pooled mean raw, counted taps)."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for u in units:
        t = totals[u.category]
        t[0] += points(u.counts)
        t[1] += sum(u.counts)
    return {c: ((s / n if n else EMPTY_CATEGORY_MEAN), int(n)) for c, (s, n) in totals.items()}


def score_units(units: list[UnitCounts], *, prior_weight: float, min_n: int,
                means: dict[str, tuple[float, int]] | None = None) -> list[UnitScore]:
    """Scores and in-category ranks (1, 2, 2, 4 on ties); units below min_n are not ranked.
    means: category_means(units), if the caller has them already."""
    means = category_means(units) if means is None else means
    scores = []
    for u in units:
        n = sum(u.counts)
        raw = points(u.counts) / n if n else None
        m = means[u.category][0]
        shrunk = (prior_weight * m + n * (raw or 0.0)) / (prior_weight + n) if prior_weight + n else m
        good = sum(u.counts[2:]) / n if n else None
        scores.append(UnitScore(
            unit=u.unit, name=u.name, category=u.category,
            counts={str(lvl): c for lvl, c in enumerate(u.counts, 1)}, n=n, raw=raw, score=shrunk,
            ci95=wilson(raw, n), good_rate=good, status="ok" if n >= min_n else "insufficient",
            held=u.held))
    by_category: dict[str, list[UnitScore]] = defaultdict(list)
    for s in scores:
        if s.status == "ok":
            by_category[s.category].append(s)
    for ranked in by_category.values():
        ranked.sort(key=lambda s: -s.score)
        for i, s in enumerate(ranked):
            tied = i and round(s.score, 9) == round(ranked[i - 1].score, 9)
            s.rank = ranked[i - 1].rank if tied else i + 1
    return scores


def period_counts(r: redis.Redis, unit_ids: list[str], start: date, end: date) -> list[UnitCounts]:
    """Counted taps per level for start..end (inclusive days), with each unit's record.

    One EVALSHA per unit, pipelined CHUNK at a time: ceil(units / CHUNK) round trips (plus one
    SCRIPT LOAD and a resend of a chunk if the server has lost the script; it only reads).
    """
    script = load_script(r, "period.lua")
    first, after = day_key(start), day_after(end)
    out: list[UnitCounts] = []
    for i in range(0, len(unit_ids), CHUNK):
        chunk = unit_ids[i:i + CHUNK]
        for uid, row in zip(chunk, _evalsha_chunk(r, script, chunk, first, after), strict=True):
            name, category, active, *counts, held = row
            out.append(UnitCounts(uid, name, category, [int(c) for c in counts], active == "1",
                                  int(held)))
    return out


def _evalsha_chunk(r: redis.Redis, script, chunk: list[str], first: str, after: str) -> list:
    for _ in range(2):
        with r.pipeline(transaction=False) as p:
            for uid in chunk:
                k = UnitKeys(uid)
                p.evalsha(script.sha, 4, k.info, k.tot, k.days, k.snap, first, after)
            rows = p.execute(raise_on_error=False)
        if not any(isinstance(row, NoScriptError) for row in rows):
            errors = [row for row in rows if isinstance(row, Exception)]
            if errors:
                raise errors[0]
            return rows
        r.script_load(script.script)
    raise NoScriptError("period.lua could not be loaded")
