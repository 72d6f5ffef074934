"""followed.Ranked gives the ranks and the mean that scoring.score_units and category_means
give, with ties, through changes of single units (pure: no Redis)."""

from __future__ import annotations

import random

import pytest

from ratingsvc import scoring
from ratingsvc.followed import Ranked


def units(rng: random.Random, n: int) -> list[scoring.UnitCounts]:
    return [scoring.UnitCounts(f"u{i:03d}", f"单位{i}", "c1", [rng.choice((0, 0, 1, 2, 3)) for _ in range(5)])
            for i in range(n)]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(("prior_weight", "min_n"), [(10.0, 1), (25.0, 5), (0.5, 0)])
def test_ranks_and_mean_are_score_units_through_changes(seed, prior_weight, min_n):
    rng = random.Random(seed)
    counts = units(rng, rng.randint(1, 60))
    ranked = Ranked.of(list(counts))
    for _ in range(6):
        expected = scoring.score_units(counts, prior_weight=prior_weight, min_n=min_n)
        assert ranked.mean() == scoring.category_means(counts)["c1"]
        assert [ranked.rank(c, prior_weight, min_n) for c in counts] == [s.rank for s in expected]
        i = rng.randrange(len(counts))
        counts[i] = scoring.UnitCounts(counts[i].unit, "x", "c1", [rng.choice((0, 1, 2)) for _ in range(5)])
        ranked.put(counts[i])


def test_ties_share_a_rank():
    same = [scoring.UnitCounts(f"u{i}", "", "c1", [0, 0, 0, 1, 1]) for i in range(3)]
    best = scoring.UnitCounts("u9", "", "c1", [0, 0, 0, 0, 5])
    ranked = Ranked.of([*same, best])
    assert [ranked.rank(c, 10.0, 1) for c in [best, *same]] == [1, 2, 2, 2]


@pytest.mark.parametrize("prior_weight", [10.0, 3.0, 1e9])
def test_scores_a_few_billionths_apart_rank_as_score_units_rounds_them(prior_weight):
    """With four billion taps a unit, one tap a level lower moves the score by about 6e-10: at
    the 9 places ranks compare, some such scores tie and some do not."""
    big = 4 * 10**9
    shapes = [[0, 0, 0, 0, big], [0, 0, 0, 1, big - 1], [0, 0, 1, 0, big - 1], [0, 0, 0, 2, big - 2],
              [0, 1, 0, 0, big - 1], [0, 0, 0, 3, big - 3], [1, 0, 0, 0, big - 1], [0, 0, 0, 4, big - 4],
              [0, 0, 0, 1, big - 1], [0, 0, 2, 0, big - 2]]
    counts = [scoring.UnitCounts(f"u{i}", "", "c1", shape) for i, shape in enumerate(shapes)]
    expected = [s.rank for s in scoring.score_units(counts, prior_weight=prior_weight, min_n=1)]
    assert len(set(expected)) < len(expected)  # some tie
    ranked = Ranked.of(counts)
    assert [ranked.rank(c, prior_weight, 1) for c in counts] == expected


def test_a_read_older_than_the_kept_counts_does_not_replace_them():
    """Two pages at once (greenlets): the one that read a unit first may put it last."""
    from ratingsvc.followed import Follow

    follow = Follow("0-0", "1", "server", 0.0)
    follow.add({"c1": [scoring.UnitCounts("u1", "", "c1", [0, 0, 0, 0, 1], version="3")]})
    newer = scoring.UnitCounts("u1", "", "c1", [0, 0, 0, 0, 3], version="5")
    older = scoring.UnitCounts("u1", "", "c1", [0, 0, 0, 0, 2], version="4")
    assert follow.moved([newer]) and follow.moved([older])
    assert follow.unit("u1")[0] is newer and follow.categories["c1"].n == 3
    assert not follow.moved([scoring.UnitCounts("u1", "", "c2", [0, 0, 0, 0, 4], version="6")])  # moved away
