"""What one relay of the change feed costs when nothing happened, with many units.

    .venv/bin/python bench/feed_idle.py [--units 30000] [--polls 50]

Starts its own redis-server (append-only file on, everysec). Each unit gets one counted tap
in its log, written straight into the stream (pipelined); relays then run until the feed has
them all and any sweep of the units has ended, and the idle relays that follow are timed.
Also timed: a relay during a sweep (FEED_SWEEP_SECONDS passed), if the relay sweeps.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import redis

from ratingsvc import feed, rkeys
from ratingsvc.embedded import RedisServer
from ratingsvc.rkeys import UnitKeys

NOW = 1_780_300_000.0  # 2026-06-01


def seed(r: redis.Redis, units: int) -> None:
    ids = [f"u{i:05d}" for i in range(units)]
    with r.pipeline(transaction=False) as p:
        for i, uid in enumerate(ids):
            p.sadd(rkeys.UNITS, uid)
            p.xadd(UnitKeys(uid).log, {"k": "tap", "t": int(NOW * 1000) - units + i, "w": 1, "l": 4,
                                       "s": "counted", "r": "x", "ip": "-", "d": "20260601", "n": f"n{i}",
                                       "of": "", "why": ""})
            if "mark" in dir(feed):
                p.sadd(feed.DIRTY, uid)  # type: ignore[attr-defined]
            if i % 5000 == 4999:
                p.execute()
        p.execute()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=30_000)
    parser.add_argument("--polls", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), appendonly=True, appendfsync="everysec")
        server.start()
        try:
            r = redis.Redis.from_url(server.url, decode_responses=True)
            seed(r, args.units)
            day = lambda ms: "20260601"  # noqa: E731
            copied, calls, t = 0, 0, time.perf_counter()
            while True:
                n = feed.relay(r, day, now=NOW)
                copied, calls = copied + n, calls + 1
                sweeping = r.hget(getattr(feed, "SWEEP", "-"), "cursor") not in (None, "0")
                if n == 0 and not sweeping:
                    break
            print(f"catching up: {copied} changes in {calls} relays, {time.perf_counter() - t:.2f} s")
            idle = [timed(lambda: feed.relay(r, day, now=NOW)) for _ in range(args.polls)]
            print(f"idle relay, {args.units} units: median {statistics.median(idle) * 1000:.2f} ms, "
                  f"max {max(idle) * 1000:.2f} ms ({args.polls} relays)")
            if hasattr(feed, "SWEEP"):
                sweep = feed.SETTINGS["FEED_SWEEP_SECONDS"][0]
                at, steps = NOW + sweep + 1, []
                while True:
                    steps.append(timed(lambda: feed.relay(r, day, now=at)))
                    if r.hget(feed.SWEEP, "cursor") in (None, "0"):
                        break
                print(f"a sweep: {len(steps)} relays, median {statistics.median(steps) * 1000:.2f} ms, "
                      f"max {max(steps) * 1000:.2f} ms, total {sum(steps):.2f} s")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
