"""The score formula, as plain functions."""

from __future__ import annotations

import pytest

from ratingsvc.scoring import UnitCounts, raw_mean, score_units, wilson


def uc(unit, counts, category="c"):
    return UnitCounts(unit, unit, category, counts)


@pytest.mark.parametrize(("counts", "raw"), [
    ([0, 0, 0, 0, 7], 10.0), ([3, 0, 0, 0, 0], 0.0), ([1, 1, 1, 1, 1], 5.0),
    ([0, 0, 0, 2, 2], 8.75), ([0, 0, 0, 0, 0], None)])
def test_raw_mean_is_mean_index_over_ten(counts, raw):
    assert raw_mean(counts) == raw


def test_shrunk_score_pulls_small_samples_to_the_category_mean():
    units = [uc("big", [0, 0, 0, 100, 0]), uc("tiny", [0, 0, 0, 0, 1]), uc("none", [0] * 5)]
    s = {x.unit: x for x in score_units(units, prior_weight=20, min_n=30)}
    m = (100 * 7.5 + 10) / 101
    assert s["none"].score is None and s["none"].raw is None and s["none"].ci95 is None
    assert s["tiny"].score == pytest.approx((20 * m + 10) / 21)
    assert s["big"].score == pytest.approx((20 * m + 100 * 7.5) / 120)
    assert s["tiny"].raw == 10.0 and s["tiny"].score < 8.0  # one 5-star tap does not top the list


def test_half_way_when_n_equals_the_prior_weight():
    units = [uc("a", [20, 0, 0, 0, 0]), uc("b", [0, 0, 0, 0, 20])]
    s = {x.unit: x for x in score_units(units, prior_weight=20, min_n=1)}
    assert s["a"].score == pytest.approx(2.5) and s["b"].score == pytest.approx(7.5)


def test_category_means_are_separate():
    units = [uc("a", [0, 0, 0, 0, 10], "x"), uc("b", [10, 0, 0, 0, 0], "y"), uc("c", [1, 0, 0, 0, 0], "y")]
    s = {x.unit: x for x in score_units(units, prior_weight=20, min_n=1)}
    assert s["c"].score == pytest.approx(0.0)


def test_good_rate_status_and_ranks_with_ties_within_category():
    units = [uc("a", [0, 0, 0, 0, 40]), uc("b", [0, 0, 0, 40, 0]), uc("c", [0, 0, 0, 40, 0]),
             uc("d", [20, 20, 0, 0, 0]), uc("e", [0, 0, 1, 0, 0]), uc("z", [0, 0, 0, 0, 40], "other")]
    s = {x.unit: x for x in score_units(units, prior_weight=20, min_n=30)}
    assert [s[u].rank for u in "abcde"] == [1, 2, 2, 4, None]
    assert s["z"].rank == 1
    assert s["e"].status == "insufficient" and s["a"].status == "ok"
    assert s["d"].good_rate == 0.0 and s["b"].good_rate == 1.0 and s["e"].good_rate == 1.0
    assert s["a"].counts == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 40}


@pytest.mark.parametrize(("raw", "n"), [(0.0, 1), (10.0, 1), (5.0, 3), (7.5, 30), (9.9, 1000)])
def test_wilson_interval_contains_raw_within_bounds_and_narrows(raw, n):
    lo, hi = wilson(raw, n)
    assert 0.0 <= lo <= raw <= hi <= 10.0 and hi - lo > 0
    lo2, hi2 = wilson(raw, n * 10)
    assert hi2 - lo2 < hi - lo


def test_wilson_without_ratings_is_the_whole_scale():
    assert wilson(None, 0) == (0.0, 10.0)


@pytest.mark.parametrize("min_n", [0, 1, 30])
def test_a_unit_without_ratings_has_no_score_and_is_never_ranked(min_n):
    """Not the category mean with a 0-10 interval, as if it had been rated: no score at all."""
    units = [uc("rated", [0, 0, 0, 0, 40]), uc("none", [0] * 5)]
    s = {x.unit: x for x in score_units(units, prior_weight=20, min_n=min_n)}
    assert (s["none"].score, s["none"].ci95, s["none"].raw, s["none"].good_rate) == (None, None, None, None)
    assert s["none"].status == "no_ratings" and s["none"].rank is None and s["rated"].rank == 1
