"""Kept categories that follow the change stream: what the feed's rows are read from
(views.scores.rows_of). No Flask here.

A period's Follow holds the counts of every active unit of some categories, read exactly
(every unit's version: scoring.period_counts) when the change stream ended at `position`, the
registry being at version `registry` and the servers `server`. Since then a unit's counts moved
only if the stream has a change of it after position: the relay copies every change of counts
there (feed.py), but for one whose mark was lost to a crash, which the sweep finds within
FEED_SWEEP_SECONDS (rows_of reads exactly again once `at` is that old). A page then costs the
units its changes moved (read again with period.lua) and a sort of each touched category's
scores, not a read of every unit.

Each category (Ranked) keeps its units' points and taps and their sums: a moved unit moves its
category's mean in O(1). Points are multiples of 2.5, so these sums are exact floats, the same
as scoring.category_means's in any order. A unit's rank is 1 + the number of the category's
ranked units whose score, rounded to 9 places, is higher: what scoring.ranked gives (1, 2, 2,
4), found by bisection in the sorted scores (only those within NEAR of its own rounded).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from .scoring import EMPTY_CATEGORY_MEAN, UnitCounts, points, shrink

NEAR = 3e-9  # three steps of the 9 places ranks are compared at: a wider gap rounds apart


@dataclass
class Ranked:
    """One category's active units' counts, with their points and taps and the sums of both."""

    counts: list[UnitCounts]
    at: dict[str, int]  # unit -> its place in counts
    pts: list[float]
    ns: list[int]
    total: float
    n: int
    order: dict[tuple[float, int], list[float]] = field(default_factory=dict)  # (C, min_n) -> sorted scores

    @classmethod
    def of(cls, counts: list[UnitCounts]) -> Ranked:
        pts = [points(c.counts) for c in counts]
        ns = [sum(c.counts) for c in counts]
        return cls(counts, {c.unit: i for i, c in enumerate(counts)}, pts, ns, sum(pts), sum(ns))

    def put(self, c: UnitCounts) -> None:
        """A unit's counts read again."""
        i = self.at[c.unit]
        p, k = points(c.counts), sum(c.counts)
        self.total += p - self.pts[i]
        self.n += k - self.ns[i]
        self.counts[i], self.pts[i], self.ns[i] = c, p, k
        self.order.clear()

    def mean(self) -> tuple[float, int]:
        """(pooled mean raw, counted taps), as scoring.category_means."""
        return (self.total / self.n if self.n else EMPTY_CATEGORY_MEAN, self.n)

    def rank(self, c: UnitCounts, prior_weight: float, min_n: int) -> int | None:
        """The unit's rank in the category (None: not ranked), as scoring.score_units's."""
        n = sum(c.counts)
        if not n or n < min_n:
            return None
        mean = self.mean()[0]
        order = self.order.get((prior_weight, min_n))
        if order is None:  # scoring.shrink inlined, the same operations: 30,000 units a page
            cm = prior_weight * mean
            order = [(cm + k * (p / k)) / (prior_weight + k)
                     for p, k in zip(self.pts, self.ns, strict=True) if k and k >= min_n]
            order.sort()
            self.order[(prior_weight, min_n)] = order
        mine = shrink(points(c.counts) / n, n, mean, prior_weight)
        # Scores more than NEAR above are higher at 9 places too; those within NEAR are
        # rounded and compared as scoring.ranked does (rounding each score took half the time).
        low, high = bisect_left(order, mine - NEAR), bisect_right(order, mine + NEAR)
        rounded = round(mine, 9)
        return len(order) - high + sum(round(s, 9) > rounded for s in order[low:high]) + 1


@dataclass
class Follow:
    """A period's kept categories, and how far they follow the change stream (module doc)."""

    position: str
    registry: str | None
    server: str
    at: float  # time.monotonic() of the exact read
    categories: dict[str, Ranked] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # unit -> its category here

    def add(self, by_category: dict[str, list[UnitCounts]]) -> None:
        for category, counts in by_category.items():
            self.categories[category] = Ranked.of(counts)
            self.where.update((c.unit, category) for c in counts)

    def moved(self, counts: list[UnitCounts]) -> bool:
        """Units' counts read again; False if one is no longer where it was kept (its record
        changed, its registry version not yet moved: the caller reads exactly)."""
        for c in counts:
            category = self.where[c.unit]
            if not c.active or c.category != category:
                return False
            ranked = self.categories[category]
            if int(c.version or 0) >= int(ranked.counts[ranked.at[c.unit]].version or 0):
                ranked.put(c)  # (two pages at once, in greenlets: the later read may come first)
        return True

    def unit(self, uid: str) -> tuple[UnitCounts, Ranked] | None:
        category = self.where.get(uid)
        if category is None:
            return None
        ranked = self.categories[category]
        return ranked.counts[ranked.at[uid]], ranked
