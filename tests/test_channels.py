"""Channels in the counting script: a token counts once whoever sends it, on any day; the
poster's rules stay; every count moves with its tap's channel (review, level change)."""

from __future__ import annotations

from datetime import date

from ratingsvc import channels, recording, review, scoring
from ratingsvc.recording import Tap
from ratingsvc.rkeys import UnitKeys
from tests.test_recording import at, record, tap


def token_tap(window, nonce, *, rater="r1", day="20260601", level=5, channel="t", t=0, issued="20260601"):
    return Tap(unit=window.unit, window=window.id, epoch=window.epoch, level=level, rater=rater,
               now_ms=at(day) + t, nonce=nonce, channel=channel, ticket_day=issued)


def june(r, unit="u1"):
    [counts] = scoring.period_counts(r, [unit], date(2026, 6, 1), date(2026, 6, 30))
    return counts


def test_a_token_counts_once_whoever_sends_it_and_whatever_day(r, h):
    win = h.window("u1")
    assert record(r, token_tap(win, "v:1.7", rater="a")).status == "counted"
    assert record(r, token_tap(win, "v:1.7", rater="b")).status == "duplicate"  # another phone
    # after midnight, the token's day of issue still knows it
    later = token_tap(win, "v:1.7", rater="c", day="20260602", issued="20260601")
    assert record(r, later).status == "duplicate"
    # one phone, two services at the same window the same day: two ratings (一次一评)
    assert record(r, token_tap(win, "v:1.8", rater="a")).status == "counted"
    # a poster tap by that phone the same day repeats it; another phone's poster tap counts
    assert record(r, tap(win, rater="a")).status == "duplicate"
    assert record(r, tap(win, rater="z")).status == "counted"
    log = r.xrange(UnitKeys("u1").log)
    assert [e[1]["ch"] for e in log] == ["t", "t", "t", "t", "p", "p"]


def test_the_breakdown_by_channel_sums_to_the_counts(r, h):
    win = h.window("u1")
    record(r, tap(win, rater="p1", level=5))
    record(r, tap(win, rater="p2", level=4))
    record(r, token_tap(win, "v:1.1", level=5))
    record(r, token_tap(win, "v:1.2", level=2))
    record(r, token_tap(win, "k:1", level=1, channel="k"))
    # an SMS link tap held by a rule the app found: pending in its channel
    held = Tap(unit="u1", window=win.id, epoch=win.epoch, level=3, rater="s1", now_ms=at("20260602"),
               nonce="m:1.1", channel="m", ticket_day="20260602", reasons=("ua",))
    outcome = record(r, held)
    assert outcome.status == "held"
    counts = june(r)
    assert counts.counts == [1, 1, 0, 1, 2] and counts.pending == 1
    split = channels.split(counts.counts, counts.pending, counts.channels)
    assert split == {"poster": ([0, 0, 0, 1, 1], 0), "visit": ([0, 1, 0, 0, 1], 0),
                     "kiosk": ([1, 0, 0, 0, 0], 0), "sms": ([0, 0, 0, 0, 0], 1)}
    # the window's day hash has the same per channel
    day = r.hgetall(UnitKeys("u1").day("20260601"))
    assert day[f"w{win.id}:t:5"] == "1" and day[f"w{win.id}:k:1"] == "1" and day["t:2"] == "1"

    # released on review: the SMS tap is counted, in its channel, from the day of the decision
    stream_id = outcome.rating_id.split(".", 1)[1]
    status, _ = review.decide(r, "u1", stream_id, action="release", key_id="k", key_name="test",
                              why="", now_ms=at("20260603"), tz="Asia/Shanghai")
    assert status == "done"
    counts = june(r)
    assert counts.pending == 0
    assert channels.split(counts.counts, counts.pending, counts.channels)["sms"] == ([0, 0, 1, 0, 0], 0)
    # a period before the decision still has it pending
    [before] = scoring.period_counts(r, ["u1"], date(2026, 6, 1), date(2026, 6, 2))
    assert channels.split(before.counts, before.pending, before.channels)["sms"] == ([0, 0, 0, 0, 0], 1)


def test_a_level_change_moves_the_count_within_its_channel(r, h):
    win = h.window("u1")
    outcome = record(r, token_tap(win, "v:1.1", rater="a", level=2))
    stream_id = outcome.rating_id.split(".", 1)[1]
    changed = recording.change_level(r, "u1", stream_id, rater="a", level=4, now_ms=at("20260601") + 5000,
                                     window_ms=60_000)
    assert changed.status == "changed"
    counts = june(r)
    assert channels.split(counts.counts, counts.pending, counts.channels)["visit"] == ([0, 0, 0, 1, 0], 0)
    assert channels.split(counts.counts, counts.pending, counts.channels)["poster"] == ([0] * 5, 0)


def test_the_statistics_by_the_national_definitions():
    # 8 counted: 6 of levels 3-5, 2 of levels 1-2; 20 services done
    assert channels.stats([1, 1, 2, 2, 2], 20) == {
        "volume": 20, "rated": 8, "good_rate": 0.75, "bad_rate": 0.25, "participation": 0.4,
        "unrated": 0.6}
    # no services imported: the volume rates are null; no taps: the level rates are null
    assert channels.stats([0, 0, 0, 0, 3], 0)["participation"] is None
    assert channels.stats([0] * 5, 10) == {"volume": 10, "rated": 0, "good_rate": None, "bad_rate": None,
                                           "participation": 0.0, "unrated": 1.0}
    # more ratings than services (posters rated from anywhere): 未评率 is 0, never negative
    assert channels.stats([0, 0, 0, 0, 12], 10)["unrated"] == 0.0
