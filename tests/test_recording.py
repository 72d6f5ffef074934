"""The recording script on a real Redis: once per rater, window and day; atomic; one slot."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from redis.crc import key_slot

from ratingsvc import feed, recording, registry, scoring
from ratingsvc.recording import Tap
from ratingsvc.rkeys import UnitKeys
from ratingsvc.rules import Rules
from ratingsvc.settings import defaults
from tests.conftest import GENEROUS, SIGNALS_OFF, START

RULES = Rules.from_config({**defaults(), **GENEROUS, **SIGNALS_OFF})
DAY_MS = 86_400_000


def record(r, tap, **kw):
    return recording.record(r, tap, RULES, tz="Asia/Shanghai", **kw)


@pytest.fixture
def win(h):
    return h.window("u1")


def at(day: str) -> int:
    """Milliseconds at 10:00 Shanghai time on day YYYYMMDD."""
    return int(START * 1000) + (date.fromisoformat(f"{day[:4]}-{day[4:6]}-{day[6:]}")
                                - date(2026, 6, 1)).days * DAY_MS


TICKETS = itertools.count()


def tap(window, *, rater="r1", day="20260601", level=5, epoch=None, nonce=None, t=0):
    """A tap with a fresh ticket, unless nonce names one."""
    return Tap(unit=window.unit, window=window.id, epoch=epoch or window.epoch, level=level,
               rater=rater, now_ms=at(day) + t, nonce=nonce or f"ticket-{next(TICKETS)}")


def test_counted_once_per_rater_window_and_day(r, h, win):
    other = h.window("u1", "2号窗口")
    results = [record(r, t).status for t in [
        tap(win), tap(win), tap(win, level=1), tap(win, rater="r2"), tap(other),
        tap(win, day="20260602")]]
    assert results == ["counted", "duplicate", "duplicate", "counted", "counted", "counted"]
    tot = h.counts()
    assert tot["5"] == "4" and "1" not in tot
    assert tot[f"w{win.id}:5"] == "3" and tot[f"w{other.id}:5"] == "1"
    day = r.hgetall(UnitKeys("u1").day("20260601"))
    assert day["5"] == "3" and day["dup"] == "2"
    log = r.xrange(UnitKeys("u1").log)
    assert [e[1]["s"] for e in log] == results  # every tap is logged, counted or not


def test_concurrent_taps_of_one_rater_count_once(r, h, win):
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda i: record(r, tap(win, nonce=f"n{i}")).status,
                                 range(64)))
    assert statuses.count("counted") == 1 and statuses.count("duplicate") == 63
    assert h.counts()["5"] == "1"


def test_idempotency_key_replays_the_first_answer(r, h, win):
    first = record(r, tap(win, nonce="T"), idempotency_key="k1")
    again = record(r, tap(win, nonce="T"), idempotency_key="k1")
    assert first.status == "counted" and not first.replayed
    assert (again.status, again.rating_id, again.replayed) == ("counted", first.rating_id, True)
    assert record(r, tap(win, nonce="T", level=2), idempotency_key="k1").status == "mismatch"
    assert len(r.xrange(UnitKeys("u1").log)) == 1 and h.counts()["5"] == "1"


def test_expired_ticket_is_refused_unless_its_first_answer_is_kept(r, h, win):
    assert record(r, tap(win), expired=True).status == "expired"
    first = record(r, tap(win, nonce="T"), idempotency_key="k2")
    late = record(r, tap(win, nonce="T"), idempotency_key="k2", expired=True)
    assert (late.status, late.rating_id) == ("counted", first.rating_id)
    assert record(r, tap(win), idempotency_key="k3", expired=True).status == "expired"


def test_revoked_or_inactive_windows_and_units_count_nothing(r, h, win):
    registry.revoke_window(r, win.id)
    assert record(r, tap(win, epoch=1)).status == "revoked"
    assert record(r, tap(win, epoch=2)).status == "counted"
    registry.update_window(r, win.id, active=False)
    assert record(r, tap(win, epoch=2, rater="r2")).status == "revoked"
    registry.update_window(r, win.id, active=True)
    unit = registry.get_unit(r, "u1")
    unit.active = False
    registry.save_unit(r, unit, create=False)
    assert record(r, tap(win, epoch=2, rater="r3")).status == "revoked"
    assert h.counts()["5"] == "1"


def test_every_key_a_tap_writes_is_in_the_units_slot(r, h, win):
    before = set(r.scan_iter())  # of every node of a cluster
    record(r, tap(win), idempotency_key="k")
    record(r, tap(win, rater="r2"))
    new = set(r.scan_iter()) - before
    assert feed.DIRTY in new  # and the change feed's mark, in its own slot, after the script
    new.discard(feed.DIRTY)
    assert len(new) >= 6  # dedupe, totals, day, days, snapshot, log, idempotency
    assert {key_slot(k.encode()) for k in new} == {key_slot(UnitKeys("u1").tot.encode())}
    assert all("{u.u1}" in k for k in new)


def period_counts(r, start, end, unit="u1"):
    return scoring.period_counts(r, [unit], date.fromisoformat(start), date.fromisoformat(end))[0].counts


def test_period_counts_take_only_the_periods_days(r, h, win):
    for i, (day, level) in enumerate([("20260430", 1), ("20260501", 2), ("20260715", 3),
                                      ("20260715", 3), ("20260930", 4), ("20261001", 5)]):
        record(r, tap(win, rater=f"r{i}", day=day, level=level))
    assert period_counts(r, "2026-05-01", "2026-09-30") == [0, 1, 2, 1, 0]
    assert period_counts(r, "2026-01-01", "2026-12-31") == [1, 1, 2, 1, 1]
    assert period_counts(r, "2026-07-15", "2026-07-15") == [0, 0, 2, 0, 0]
    assert period_counts(r, "2026-07-16", "2026-09-29") == [0, 0, 0, 0, 0]
    assert period_counts(r, "2027-01-01", "2027-12-31") == [0, 0, 0, 0, 0]
    assert period_counts(r, "2026-10-01", "2030-01-01") == [0, 0, 0, 0, 1]


def test_a_late_tap_from_a_skewed_clock_lands_on_its_own_day(r, h, win):
    record(r, tap(win, rater="a", day="20260602", level=5))
    record(r, tap(win, rater="b", day="20260601", level=1))  # a worker still on the 1st
    record(r, tap(win, rater="c", day="20260603", level=3))
    assert period_counts(r, "2026-06-01", "2026-06-01") == [1, 0, 0, 0, 0]
    assert period_counts(r, "2026-06-02", "2026-06-02") == [0, 0, 0, 0, 1]
    assert period_counts(r, "2026-06-02", "2026-06-03") == [0, 0, 1, 0, 1]


def test_details_only_by_the_same_rater_once_and_while_fresh(r, h, win):
    out = record(r, tap(win, level=1))
    unit, sid = recording.parse_rating_id(out.rating_id)
    now = at("20260601")

    def add(rater="r1", at=now + 60_000, comment="态度差"):
        return recording.add_details(r, unit, sid, rater=rater, now_ms=at, max_age_ms=1_800_000,
                                     tags=["public"], comment=comment)

    assert add(rater="someone else") == "forbidden"
    assert add(at=now + 1_800_001) == "closed"
    assert add() == "saved"
    assert add() == "replayed" and add(at=now + 3_600_000) == "replayed"  # a retry, even late
    assert add(comment="很慢") == "exists"
    assert add(rater="someone else") == "forbidden"
    entry = r.xrange(UnitKeys("u1").log)[-1][1]
    assert (entry["k"], entry["of"], entry["tags"], entry["c"]) == ("details", sid, "public", "态度差")
    assert recording.add_details(r, unit, "1-0", rater="r1", now_ms=now, max_age_ms=1, tags=[],
                                 comment="x") == "unknown"


@pytest.mark.parametrize("bad", ["", "u1", "u1.", "u1.12", "u1.a-b", ".1-0", "{x}.1-0"])
def test_rating_id_parsing_refuses_junk(bad):
    assert recording.parse_rating_id(bad) is None
