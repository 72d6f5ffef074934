"""The change feed costs nothing that grows with the units while idle: the relay reads only the
logs of units marked as changed, in bounded steps, and a slow sweep finds a change whose mark
was lost."""

from __future__ import annotations

import pytest
import redis

from ratingsvc import feed, rkeys
from ratingsvc.rkeys import UnitKeys
from tests.conftest import START
from tests.helpers import tap_from
from tests.test_feed import fh, page  # noqa: F401 (a fixture)
from tests.test_registry_steps import Monitor

NOW_MS = int(START * 1000)


def day(ms: int) -> str:
    return "20260601"


def seed(r: redis.Redis, units: int, *, marked: bool) -> None:
    """Units each with one counted tap in its log, written straight into it (no script)."""
    with r.pipeline(transaction=False) as p:
        for i in range(units):
            uid = f"x{i:04d}"
            p.sadd(rkeys.UNITS, uid)
            p.xadd(UnitKeys(uid).log, {"k": "tap", "s": "counted", "t": NOW_MS - units + i, "d": "20260601"},
                   id=f"{NOW_MS - units + i}-0")
            if marked:
                p.sadd(feed.DIRTY, uid)
        p.execute()


def relay_all(r: redis.Redis, now: float = START) -> list[int]:
    """Relays until nothing is marked and no sweep runs; what each copied."""
    copied = []
    while True:
        copied.append(feed.relay(r, day, now=now))
        if not r.exists(feed.DIRTY) and r.hget(feed.SWEEP, "cursor") == "0":
            return copied


def relayed(r: redis.Redis) -> list[str]:
    return [f["e"] for _, f in r.xrange(feed.CHANGES)]


@pytest.mark.single_redis  # MONITOR sees one server
def test_an_idle_relay_sends_the_same_few_commands_for_10_units_as_for_1000(r):
    sent = {}
    for units in (10, 1000):
        r.flushdb()
        seed(r, units, marked=True)
        assert sum(relay_all(r)) == units
        with Monitor(r) as seen:
            assert feed.relay(r, day, now=START + 1) == 0
        sent[units] = [args[0].upper() for client, args in seen.commands
                       if client != "lua" and args[0].upper() not in ("HELLO", "CLIENT")]  # a new connection
    assert sent[10] == sent[1000] == ["SPOP", "HMGET"]


def test_a_change_whose_mark_was_lost_is_found_by_the_sweep(fh, clock):  # noqa: F811
    tap_from(fh, fh.wins["u1"])
    assert [c["unit"] for c in page(fh)["changes"]] == ["u1"]  # the first relay swept too
    tap_from(fh, fh.wins["u2"])
    assert fh.r.srem(feed.DIRTY, "u2") == 1  # the app stopped between the script and the mark
    clock.advance(feed.SWEEP_SECONDS - 10)
    assert [c["unit"] for c in page(fh)["changes"]] == ["u1"]  # no sweep yet: not found
    clock.advance(10)
    assert [c["unit"] for c in page(fh)["changes"]] == ["u1", "u2"]


def test_a_sweep_goes_through_the_units_in_chunks_and_resumes(r, monkeypatch):
    monkeypatch.setattr(feed, "SWEEP_CHUNK", 20)
    seed(r, 300, marked=False)  # more than Redis keeps in a compact set: SSCAN goes by COUNT
    copied = relay_all(r)
    assert sum(copied) == 300 and len(relayed(r)) == 300
    assert len(copied) >= 300 // 40 and max(copied) < 100  # many bounded steps
    r.xadd(UnitKeys("x0007").log, {"k": "tap", "s": "counted", "t": NOW_MS, "d": "20260601"})
    assert relay_all(r, START + feed.SWEEP_SECONDS - 1) == [0]  # the last sweep began at START
    assert relay_all(r, START - 1) == [0]  # nor on a server whose clock is a little behind
    assert sum(relay_all(r, START + feed.SWEEP_SECONDS)) == 1


@pytest.mark.parametrize("units_per_step", [3, 2])
def test_a_backlog_is_relayed_in_bounded_steps_each_change_once_in_order(r, monkeypatch, units_per_step):
    """STEP 6 of 3 units: 2 entries of each a step, only those up to the earliest unit's last
    go, so the feed stays in time order. Fewer units a step than are marked: the others' come
    in a later step, each unit's in order."""
    monkeypatch.setattr(feed, "UNITS_PER_STEP", units_per_step)
    monkeypatch.setattr(feed, "STEP", 6)
    with r.pipeline(transaction=False) as p:
        for i in range(30):  # 3 units, interleaved in time
            uid = f"x{i % 3}"
            p.sadd(rkeys.UNITS, uid)
            p.sadd(feed.DIRTY, uid)
            p.xadd(UnitKeys(uid).log, {"k": "tap", "s": "counted", "t": NOW_MS + i, "d": "20260601"},
                   id=f"{NOW_MS + i}-0")
        p.execute()
    r.hset(feed.SWEEP, mapping={"cursor": "0", "at": repr(START)})  # a sweep just ended
    copied = relay_all(r)
    assert sum(copied) == 30 and max(copied) <= 6 and len(copied) >= 5
    entries = relayed(r)
    assert sorted(entries) == [f"{NOW_MS + i}-0" for i in range(30)]  # each once
    for unit in range(3):
        mine = [e for e in entries if int(e[:-2]) % 3 == (NOW_MS + unit) % 3]
        assert mine == sorted(mine)
    if units_per_step == 3:
        assert entries == sorted(entries)


def test_a_relay_that_fails_after_taking_the_marks_puts_them_back(r, monkeypatch):
    seed(r, 3, marked=True)
    r.hset(feed.SWEEP, mapping={"cursor": "0", "at": repr(START)})

    def lost(*_):
        raise redis.ConnectionError("lost")

    monkeypatch.setattr(feed, "read_many", lost)
    with pytest.raises(redis.ConnectionError):
        feed.relay(r, day, now=START)
    assert r.smembers(feed.DIRTY) == {"x0000", "x0001", "x0002"}
    monkeypatch.undo()
    assert feed.relay(r, day, now=START) == 3
