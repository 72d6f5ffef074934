"""Redis memory per million taps, before and after pruning a closed period (README "Retention").

    .venv/bin/python bench/retain.py [--taps 100000] [--units 100] [--days 30]

Starts its own redis-server (no append-only file). Sends the taps through the recording
script (recording.record: counters, day hashes, hourly, dedupe, snapshots, log) over --days
days of a period, one in ten with a reason (details.lua), relays them to the change feed as a
follower would, closes the period (export, result) and prunes it (retention.prune). Prints
INFO used_memory above the empty server's at each step, and that per million taps: the
figures scale linearly with the taps (per-tap keys and stream entries), so 100,000 taps are
extrapolated to a million. The keys that carry a TTL (rate buckets, limits, the days' dedupe
hashes: at most 3 days) are deleted after the taps, as their TTLs would: what is left is what
grew for good until now.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ratingsvc import closing, feed, periods, recording, registry, retention  # noqa: E402
from ratingsvc.embedded import RedisServer  # noqa: E402
from ratingsvc.rules import Rules  # noqa: E402
from ratingsvc.settings import SETTINGS, defaults  # noqa: E402
from ratingsvc.timeutil import local_day  # noqa: E402

TZ = "Asia/Shanghai"
START = date(2026, 5, 1)
RULES = Rules.from_config({  # the signals off: every tap counted
    **defaults(), "LIMIT_RATER": "1000000000/minute", "LIMIT_WINDOW": "1000000000/minute",
    **{name: 0 for name in SETTINGS if name.startswith("RULE_") and name not in (
        "RULE_AUTOMATION_UA", "RULE_DEFAULT_HOURS", "RULE_BURST_FACTOR")},
    "RULE_DEFAULT_HOURS": "", "RULE_AUTOMATION_UA": "^$"})


def used(r: redis.Redis) -> int:
    return int(r.info("memory")["used_memory"])


def seed(r: redis.Redis, taps: int, units: int, days: int) -> None:
    registry.save_category(r, registry.Category("c", "c"), create=True)
    windows = []
    for i in range(units):
        registry.save_unit(r, registry.Unit(f"u{i:04d}", f"单位{i}", "c"), create=True)
        windows.append(registry.create_window(r, f"u{i:04d}", "1号窗口"))
    rng = random.Random(1)
    first = datetime.combine(START, datetime.min.time(), ZoneInfo(TZ)).timestamp() * 1000 + 9 * 3600_000
    for i in range(taps):
        w = windows[i % units]
        day, nth = divmod(i * days, taps)  # the taps of a day spread over its 8 office hours
        t = int(first + day * 86_400_000 + nth * 8 * 3600_000 // taps)
        rater = f"{rng.getrandbits(128):032x}"
        out = recording.record(r, recording.Tap(w.unit, w.id, w.epoch, rng.choice([1, 3, 4, 5, 5, 5]), rater,
                                                t, f"n{i}", ip=f"{rng.getrandbits(64):016x}"), RULES, tz=TZ)
        if i % 10 == 0 and out.rating_id:
            recording.add_details(r, w.unit, out.rating_id.rpartition(".")[2], rater=rater, now_ms=t + 5000,
                                  max_age_ms=600_000, tags=["lawful"], comment="办事很快，态度很好")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    scale = 1_000_000 / args.taps
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis", appendonly=False).start()
        try:
            r = redis.Redis(unix_socket_path=str(server.socket), decode_responses=True)
            empty = used(r)

            def show(step: str) -> None:
                grown = used(r) - empty
                chg = r.memory_usage(feed.CHANGES, samples=0) or 0
                print(f"{step:<34} {grown / 1e6:8.1f} MB  {grown * scale / 1e6:8.1f} MB per million taps"
                      f"  (change feed {chg * scale / 1e6:.1f} MB of it)")

            t0 = time.perf_counter()
            seed(r, args.taps, args.units, args.days)
            print(f"seeded {args.taps:,} taps in {args.units} units over {args.days} days: "
                  f"{time.perf_counter() - t0:.0f} s")
            show("after the taps")
            for key in r.scan_iter(count=1000):  # rates, limits, dedupe: gone within 3 days anyway
                if r.ttl(key) > 0:
                    r.delete(key)
            show("their short-lived keys expired")
            end = START + timedelta(days=args.days - 1)
            period = periods.create_period(r, periods.Period("p", "p", START, end))
            now = datetime.combine(end + timedelta(days=2), datetime.min.time(), ZoneInfo(TZ)).timestamp()
            retention.catch_up_feed(r, TZ, now)
            show("relayed to the change feed")
            export = Path(tmp) / "p.jsonl"
            closing.close(r, period, str(export), prior_weight=20, min_n=30, now=now, tz=TZ)
            show("closed")
            t0 = time.perf_counter()
            done = retention.prune(r, "p", str(export), now=now, tz=TZ, retain_days=0)
            print(f"pruned in {time.perf_counter() - t0:.1f} s: {done}")
            show("pruned")
            r.delete(feed.CHANGES)  # as FEED_RETENTION_SECONDS does a week later
            show("pruned, the feed's week over")
            print(f"export: {export.stat().st_size * scale / 1e6:.0f} MB per million taps on disk; "
                  f"day of the last tap {local_day(now - 2 * 86400, TZ)}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
