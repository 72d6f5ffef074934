"""The 10-point mobile score: a pure formula, and the counts it is computed from.

Levels map to an index 1->0, 2->25, 3->50, 4->75, 5->100; raw = mean index / 10 on 0-10.
Units are ranked on the shrunk score, the Bayesian average toward their category's mean:
    score = (C*m + n*raw) / (C + n)
where m is the pooled mean raw of every counted tap in the category (5.0 if it has none).
The 95% interval is the Wilson score interval of the mean satisfaction raw/10 on [0, 1]:
conservative, because a [0, 1] variable's variance is at most p(1-p), and never of zero width.
A unit without a counted tap has no score and no interval (None, status "no_ratings"): it is
never ranked, and never shown with the category mean as if it had been rated.
"""

from __future__ import annotations

import math
import operator
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import redis

from .store import per_unit, servers

if TYPE_CHECKING:
    from .followed import Follow
from .timeutil import day_after, day_key

POINTS = {1: 0.0, 2: 2.5, 3: 5.0, 4: 7.5, 5: 10.0}  # index / 10
Z95 = 1.959963984540054
EMPTY_CATEGORY_MEAN = 5.0


@dataclass(slots=True)
class UnitCounts:
    unit: str
    name: str
    category: str
    counts: list[int]  # counted taps per level 1..5
    active: bool = True
    pending: int = 0  # held, awaiting review: not in counts
    rejected: int = 0  # held, then rejected on review: not in counts
    # the unit's version (rkeys.UnitKeys.version) and case version these were read at; a
    # UnitCounts may be a CountsCache's own: read it, never change it
    version: str = field(default="", compare=False)
    case_version: str | None = field(default=None, compare=False)
    volume: int = 0  # services done (imported volumes, ratingsvc.volumes)
    channels: list[int] | None = None  # the other channels' counts (channels.split; None: all 0)


@dataclass(slots=True)
class UnitScore:
    unit: str
    name: str
    category: str
    counts: dict[str, int]
    n: int
    raw: float | None
    score: float | None  # None: no ratings
    ci95: tuple[float, float] | None  # None: no ratings
    good_rate: float | None
    status: str  # ok | insufficient | no_ratings
    pending: int = 0
    rejected: int = 0
    rank: int | None = None
    volume: int = 0
    channels: list[int] | None = None  # as UnitCounts.channels


#: a row's status as people read it (the console, the public page, the .xlsx downloads)
STATUS_NAMES = {"ok": "参与排名", "insufficient": "评价数不足", "no_ratings": "暂无评价"}
WEIGHTS = tuple(POINTS[lvl] for lvl in range(1, 6))
LEVEL_KEYS = ("1", "2", "3", "4", "5")


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
    """Scores and in-category ranks (1, 2, 2, 4 on ties); units below min_n, and units without
    ratings, are not ranked.
    means: category_means(units), if the caller has them already."""
    means = category_means(units) if means is None else means
    scores = []
    by_category: dict[str, list[tuple[float, UnitScore]]] = defaultdict(list)
    for u in units:
        counts = u.counts
        n = sum(counts)
        if not n:
            scores.append(UnitScore(
                unit=u.unit, name=u.name, category=u.category,
                counts=dict(zip(LEVEL_KEYS, counts, strict=True)), n=0, raw=None, score=None,
                ci95=None, good_rate=None, status="no_ratings", pending=u.pending, rejected=u.rejected,
                volume=u.volume, channels=u.channels))
            continue
        raw = points(counts) / n
        shrunk = shrink(raw, n, means[u.category][0], prior_weight)
        s = UnitScore(
            unit=u.unit, name=u.name, category=u.category,
            counts=dict(zip(LEVEL_KEYS, counts, strict=True)), n=n, raw=raw, score=shrunk,
            ci95=wilson(raw, n), good_rate=sum(counts[2:]) / n,
            status="ok" if n >= min_n else "insufficient", pending=u.pending, rejected=u.rejected,
            volume=u.volume, channels=u.channels)
        scores.append(s)
        if n >= min_n:
            by_category[u.category].append((shrunk, s))
    for pairs in by_category.values():
        for s, rank in ranked(pairs):
            s.rank = rank
    return scores


def shrink(raw: float, n: int, mean: float, prior_weight: float) -> float:
    """The shrunk score of n counted taps of mean raw, in a category of this mean."""
    return (prior_weight * mean + n * raw) / (prior_weight + n)


T = TypeVar("T")


def ranked(pairs: list[tuple[float, T]]) -> Iterator[tuple[T, int]]:
    """(item, rank) of (score, item) pairs, best first: 1, 2, 2, 4 on scores equal to 9
    decimals. Sorts pairs."""
    pairs.sort(key=operator.itemgetter(0), reverse=True)  # stable: ties keep their order
    before, rank = None, 0
    for i, (score, item) in enumerate(pairs, 1):
        rounded = round(score, 9)
        rank = rank if rounded == before else i
        before = rounded
        yield item, rank


@dataclass
class CountsCache:
    """Period counts per unit as last computed in this process, each with the unit's version
    that it was read at (UnitCounts.version): only units whose version moved are read again.

    That is exact because every step that changes a unit's record, counts, snapshots or cases
    moves its version, in the same script or right after the record in its slot (counters.lua,
    cases.lua, registry._publish). Tied to the server's run_id: a restarted server (which may
    have replayed its append-only file short of what was seen here, its versions with it)
    starts the cache afresh.
    tables: what views/scores keeps of each category's scored rows, with the counts they were
    scored from; follow: what the feed's rows are read from (ratingsvc.followed); both tied to
    the same run_id.
    """

    LIMIT = 200_000  # entries kept before starting afresh (units x periods asked for)
    server: str = ""
    entries: dict[tuple[str, str, str], UnitCounts] = field(default_factory=dict)
    tables: dict[tuple, tuple] = field(default_factory=dict)
    follow: dict[tuple[str, str], Follow] = field(default_factory=dict)  # (first, after) -> ...


def period_counts(r: redis.Redis, unit_ids: list[str], start: date, end: date,
                  cache: CountsCache | None = None) -> list[UnitCounts]:
    """Counted taps per level for start..end (inclusive days), with each unit's record.

    Without a cache: period.lua over the units (store.per_unit: a call per 500 units, one
    write per node). With one: first every unit's version (state.lua, and INFO, in one
    write), then period.lua for the units whose version is not that of their kept counts;
    with nothing kept yet, period.lua for every unit at once (and INFO).
    """
    first, after = day_key(start), day_after(end)
    if cache is None:
        _, rows = per_unit(r, "period.lua", unit_ids, (first, after))
        return [_from_script(uid, row) for uid, row in zip(unit_ids, rows, strict=True)]
    if not cache.entries:  # nothing kept (a new worker): every unit is computed, at once
        (info,), rows = per_unit(r, "period.lua", unit_ids, (first, after), before=(("INFO", "server"),))
        cache.server, cache.tables, cache.follow = servers(info), {}, {}
        return [_kept(cache, first, after, uid, row) for uid, row in zip(unit_ids, rows, strict=True)]
    (info,), versions = per_unit(r, "state.lua", unit_ids, before=(("INFO", "server"),))
    server = servers(info)
    if server != cache.server or len(cache.entries) > cache.LIMIT:
        cache.server, cache.entries, cache.tables, cache.follow = server, {}, {}, {}
    entries = cache.entries
    kept = (entries.get((first, after, uid)) for uid in unit_ids)
    return _filled(r, cache, first, after, unit_ids, [
        (hit if hit is not None and hit.version == version else None)
        for hit, version in zip(kept, versions, strict=True)])


def _filled(r: redis.Redis, cache: CountsCache, first: str, after: str, unit_ids: list[str],
            out: list[UnitCounts | None]) -> list[UnitCounts]:
    """out with each None (not kept, or kept counts that no longer hold) read by period.lua."""
    misses = [i for i, hit in enumerate(out) if hit is None]
    _, rows = per_unit(r, "period.lua", [unit_ids[i] for i in misses], (first, after))
    for i, row in zip(misses, rows, strict=True):
        out[i] = _kept(cache, first, after, unit_ids[i], row)
    return out  # type: ignore[return-value]  # every None was filled


def _kept(cache: CountsCache, first: str, after: str, uid: str, row: list) -> UnitCounts:
    """A unit's counts from period.lua's row, kept in the cache (with the version it carries)."""
    counts = _from_script(uid, row)
    cache.entries[(first, after, uid)] = counts
    return counts


def _from_script(uid: str, row: list) -> UnitCounts:
    name, category, active, *counts, pending, rejected, version, case_version, volume, channels = row
    return UnitCounts(uid, name or "", category or "", counts, active == "1", pending, rejected,
                      version, case_version or None, volume, channels or None)
