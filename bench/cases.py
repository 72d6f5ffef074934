"""Benchmark what cases add, against the same work without them, measured in the same run.

    .venv/bin/python bench/cases.py [--taps 5000] [--units 3000] [--cases 30000]

Starts its own redis-server (append-only file, everysec, as `make run`), then measures:
  - a tap that opens a case (a counted 差评) vs the same tap with cases off (one script call
    each, the deadlines worked out per tap as the app does);
  - a case step (verify, then explain) vs the tap itself;
  - the case rates of a period for N units holding M cases and M/20 appeals (rates.load and
    by_unit, as the score table and the console read them), read afresh and from the cache
    (nothing changed), vs the counts of the same units (scoring.period_counts, uncached, what
    the score table already reads); with the garbage collector paused, as the table runs.
Prints a table and writes bench/results/cases-<date>.json. Ratios, not absolute numbers, are
what compare across machines.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).parent))
from loop import RULES, best_rate, median_ms, seed_units  # noqa: E402

from ratingsvc import recording, registry, scoring  # noqa: E402
from ratingsvc.cases import rates  # noqa: E402
from ratingsvc.cases import store as case_store  # noqa: E402
from ratingsvc.cases.policy import Policy  # noqa: E402
from ratingsvc.embedded import RedisServer  # noqa: E402
from ratingsvc.periods import Period  # noqa: E402
from ratingsvc.recording import Tap  # noqa: E402
from ratingsvc.rkeys import UnitKeys  # noqa: E402
from ratingsvc.store import no_gc  # noqa: E402

NOW_MS = 1_780_279_200_000  # 2026-06-01 10:00 in Shanghai
POLICY = Policy()


def run(r: redis.Redis, taps: int, units: int, cases: int) -> dict:
    registry.save_category(r, registry.Category("b", "b"), create=True)
    registry.save_unit(r, registry.Unit("bench", "bench", "b"), create=True)
    win = registry.create_window(r, "bench", "w")
    counter = iter(range(10**9))
    opened: list[str] = []

    def tap(n: int, with_cases: bool) -> None:
        for _ in range(n):
            i = next(counter)
            now = NOW_MS + i * 180_000
            t = Tap("bench", win.id, 1, 1, f"rater{i}", now, f"t{i}", ip=f"ip{i}")
            out = recording.record(r, t, RULES, tz="Asia/Shanghai",
                                   case=POLICY.open_args(now) if with_cases else None)
            if out.status != "counted":
                raise AssertionError("the benchmark meant a counted tap")
            if with_cases:
                opened.append(out.rating_id or "")

    off = best_rate(lambda n: tap(n, False), taps)
    on = best_rate(lambda n: tap(n, True), taps)
    steps = iter(opened)

    def step(n: int) -> None:
        for _ in range(n):
            sid = next(steps).rsplit(".", 1)[1]
            case_store.step(r, POLICY, "bench", sid, "verify", by="bench", now_ms=NOW_MS, text={})
            case_store.step(r, POLICY, "bench", sid, "explain", by="bench", now_ms=NOW_MS,
                            text={"reply": "经核实，已向群众说明"})

    step_rate = best_rate(step, min(taps // 2, len(opened) // 3))  # two steps a call

    ids = seed_units(r, units)
    rng = random.Random(11)
    since = NOW_MS - 20 * 86_400_000
    with r.pipeline(transaction=False) as p:
        for i in range(cases):
            uid, t = rng.choice(ids), since + rng.randrange(40 * 86_400_000)
            sid = f"{t}-{i}"
            k = UnitKeys(uid)
            c = {"w": 1, "l": 1, "t": t, "d": datetime.fromtimestamp(t / 1000).strftime("%Y%m%d"),
                 "o": t, "s": rng.choice(["new", "verified", "explained", "closed"]), "vd": t + 86_400_000,
                 "rd": t + 20 * 86_400_000, "h": [{"a": "open", "t": t, "by": ""}]}
            if c["s"] in ("explained", "closed"):
                c.update(vt=t + 3_600_000, rt=t + 86_400_000, fd=t + 8 * 86_400_000, fu=rng.choice([1, 2, 3]))
            p.hset(k.cases, sid, json.dumps(c))
            p.zadd(k.all_cases, {sid: t})
            p.incr(k.case_version)  # as the scripts do
            if i % 20 == 0:
                p.hset(k.appeals, sid, json.dumps({"s": "pending", "w": 1, "l": 1, "t": t, "d": c["d"],
                                                   "ft": t, "by": "b", "reason": "r"}))
        p.execute()
    period = Period("p", "p", date(2026, 5, 1), date(2026, 9, 30))

    def counts() -> None:
        scoring.period_counts(r, ids, period.start, period.end)

    def case_rates(cache: rates.CasesCache | None = None) -> None:
        found, appealed = rates.load(r, ids, period, "Asia/Shanghai", cache)
        rates.by_unit(found, appealed, NOW_MS, "20260501", "20260930", ids)

    cache = rates.CasesCache()
    with no_gc():  # as the score table runs
        base_ms, rates_ms = median_ms(counts), median_ms(case_rates)
        case_rates(cache)
        warm_ms = median_ms(lambda: case_rates(cache))
    out = {
        "tap_without_cases_per_s": round(off), "tap_opening_a_case_per_s": round(on),
        "tap_ratio": round(on / off, 3), "case_steps_per_s": round(2 * step_rate),
        "units": units, "cases": cases, "period_counts_ms": round(base_ms, 1),
        "case_rates_ms": round(rates_ms, 1), "rates_to_counts": round(rates_ms / base_ms, 2),
        "case_rates_cached_ms": round(warm_ms, 1), "cached_to_counts": round(warm_ms / base_ms, 2)}
    print(f"a counted 差评: {on:,.0f}/s opening its case, {off:,.0f}/s with cases off ({on / off:.2f}x)")
    print(f"case steps: {2 * step_rate:,.0f}/s (verify, explain)")
    print(f"{units:,} units, {cases:,} cases: rates {rates_ms:.1f} ms read afresh "
          f"({rates_ms / base_ms:.2f}x), "
          f"{warm_ms:.1f} ms from the cache ({warm_ms / base_ms:.2f}x); their counts {base_ms:.1f} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=5000)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--cases", type=int, default=30000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), appendonly=True, appendfsync="everysec").start()
        try:
            r = redis.Redis(unix_socket_path=str(server.socket), decode_responses=True)
            results = run(r, args.taps, args.units, args.cases)
        finally:
            server.stop()
    out = Path(__file__).parent / "results" / f"cases-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
