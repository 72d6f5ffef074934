"""Benchmark the rating loop's Redis side against bare Redis, measured in the same run.

    .venv/bin/python bench/loop.py [--taps 20000] [--units 10000]

Starts its own redis-server (append-only file, everysec, as `make run`), then measures:
  - one tap: recording.record() vs a bare EVALSHA of a one-key script (same client, sequential);
  - the score table for N units: period_counts + score_units vs a pipelined HGETALL of N hashes.
Prints a table and writes bench/results/loop-<date>.json. Ratios, not absolute numbers, are
what compare across machines.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import redis

from ratingsvc import recording, registry, scoring
from ratingsvc.embedded import RedisServer
from ratingsvc.recording import Tap
from ratingsvc.rkeys import UnitKeys
from ratingsvc.rules import Rules
from ratingsvc.settings import defaults

RUNS = 3
NOW_MS = 1_780_279_200_000  # 2026-06-01 10:00 in Shanghai
# The production rules, with hard limits that a benchmark of one rater and window would hit.
RULES = Rules.from_config({**defaults(), "LIMIT_RATER": "1000000/hour", "LIMIT_WINDOW": "1000000/minute"})


def best_rate(fn, n: int) -> float:
    """Median of RUNS runs of fn(n), in operations per second."""
    rates = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(n)
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def median_ms(fn) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def seed_units(r: redis.Redis, n: int) -> list[str]:
    registry.save_category(r, registry.Category("c1", "c1"), create=True)
    ids = [f"u{i:05d}" for i in range(n)]
    rng = random.Random(7)
    with r.pipeline(transaction=False) as p:
        for uid in ids:
            k = UnitKeys(uid)
            p.hset(k.info, mapping={"name": uid, "category": "c1", "active": "1"})
            p.sadd(registry.rkeys.UNITS, uid)
            for day in ("20260510", "20260720"):  # two days with taps, as snapshots see them
                p.zadd(k.days, {day: int(day)})
                p.hset(k.snap, mapping={f"{day}:{lvl}": rng.randint(0, 50) for lvl in range(1, 6)})
            p.hset(k.tot, mapping={str(lvl): rng.randint(50, 400) for lvl in range(1, 6)})
        p.execute()
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=20000)
    parser.add_argument("--units", type=int, default=10000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), appendonly=True, appendfsync="everysec").start()
        try:
            r = redis.Redis(unix_socket_path=str(server.socket), decode_responses=True)
            results = run(r, args.taps, args.units)
        finally:
            server.stop()
    out = Path(__file__).parent / "results" / f"loop-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")


def run(r: redis.Redis, taps: int, units: int) -> dict:
    registry.save_category(r, registry.Category("b", "b"), create=True)
    registry.save_unit(r, registry.Unit("bench", "bench", "b"), create=True)
    win = registry.create_window(r, "bench", "w")
    held_win = registry.create_window(r, "bench", "burst")
    bare = r.register_script("redis.call('HINCRBY', KEYS[1], ARGV[1], 1) return 1")
    counter = iter(range(10**9))

    def bare_calls(n: int) -> None:
        for _ in range(n):
            bare(keys=["rs:{u.bench}:bare"], args=["5"])

    def taps_counted(n: int) -> None:
        """New raters three minutes apart from their own addresses: below every signal."""
        for _ in range(n):
            i = next(counter)
            tap = Tap("bench", win.id, 1, 5, f"rater{i}", NOW_MS + i * 180_000, f"t{i}", ip=f"ip{i}")
            if recording.record(r, tap, RULES, tz="Asia/Shanghai").status != "counted":
                raise AssertionError("the benchmark meant a counted tap")

    def taps_held(n: int) -> None:
        """New raters in a burst on one window: held."""
        for _ in range(n):
            i = next(counter)
            tap = Tap("bench", held_win.id, 1, 5, f"r{i}", NOW_MS, f"h{i}", ip="one")
            recording.record(r, tap, RULES, tz="Asia/Shanghai")

    def taps_duplicate(n: int) -> None:
        for _ in range(n):
            recording.record(r, Tap("bench", win.id, 1, 5, "rater0", NOW_MS, "t0"), RULES,
                             tz="Asia/Shanghai")

    ceiling = best_rate(bare_calls, taps)
    counted = best_rate(taps_counted, taps)
    held = best_rate(taps_held, taps)
    duplicate = best_rate(taps_duplicate, taps)

    ids = seed_units(r, units)
    start, end = date(2026, 5, 1), date(2026, 9, 30)

    def bare_hgetall() -> None:
        with r.pipeline(transaction=False) as p:
            for uid in ids:
                p.hgetall(UnitKeys(uid).tot)
            p.execute()

    def score_table() -> None:
        counts = scoring.period_counts(r, sorted(r.smembers(registry.rkeys.UNITS)), start, end)
        scoring.score_units(counts, prior_weight=20, min_n=30)

    table_bare, table = median_ms(bare_hgetall), median_ms(score_table)
    rows = [
        ("bare EVALSHA, one key (ceiling)", f"{ceiling:,.0f}/s", "1.00"),
        ("record(): counted taps", f"{counted:,.0f}/s", f"{counted / ceiling:.2f}"),
        ("record(): held taps", f"{held:,.0f}/s", f"{held / ceiling:.2f}"),
        ("record(): duplicate taps", f"{duplicate:,.0f}/s", f"{duplicate / ceiling:.2f}"),
        (f"bare pipelined HGETALL x {units:,} (ceiling)", f"{table_bare:,.0f} ms", "1.00"),
        (f"score table, {units:,} units", f"{table:,.0f} ms", f"{table / table_bare:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'result':>12}  vs ceiling")
    for name, value, ratio in rows:
        print(f"{name.ljust(width)}  {value:>12}  {ratio:>10}")
    return {"taps": taps, "units": units, "evalsha_per_s": ceiling, "counted_per_s": counted,
            "held_per_s": held, "duplicate_per_s": duplicate, "hgetall_table_ms": table_bare,
            "score_table_ms": table}


if __name__ == "__main__":
    main()
