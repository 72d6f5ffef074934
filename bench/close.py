"""Close a period of one million taps, then verify its export.

    .venv/bin/python bench/close.py [--taps 1000000] [--units 330]

Starts its own redis-server (append-only file on, everysec). The taps are written straight
into the units' log streams in the recording script's own format (pipelined), which is much
faster than sending each through the script; the close and the verify are what is timed.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date
from pathlib import Path

import redis

from ratingsvc import closing, registry
from ratingsvc.embedded import RedisServer
from ratingsvc.periods import Period
from ratingsvc.rkeys import UnitKeys

STATUS = ["counted"] * 90 + ["duplicate"] * 8 + ["held"] * 2


def seed(r: redis.Redis, taps: int, units: int) -> None:
    registry.save_category(r, registry.Category("c", "c"), create=True)
    rng = random.Random(1)
    ids = [f"u{i:04d}" for i in range(units)]
    for uid in ids:
        registry.save_unit(r, registry.Unit(uid, uid, "c"), create=True)
    start = 1_777_600_000_000  # 2026-05-01
    with r.pipeline(transaction=False) as p:
        for i in range(taps):
            uid = ids[i % units]
            t = start + i * 13_000  # a tap every 13 s across the district: 150 days
            day = time.strftime("%Y%m%d", time.gmtime(t / 1000 + 8 * 3600))
            p.xadd(UnitKeys(uid).log, {"k": "tap", "t": t, "w": i % 7 + 1, "l": rng.randint(1, 5),
                                       "s": rng.choice(STATUS), "r": f"{rng.getrandbits(128):032x}",
                                       "ip": "-", "d": day, "n": f"n{i}", "of": "", "why": ""})
            if i % 20_000 == 19_999:
                p.execute()
        p.execute()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=330)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp) / "redis", appendonly=True).start()
        try:
            r = redis.Redis(unix_socket_path=str(server.socket), decode_responses=True)
            t0 = time.perf_counter()
            seed(r, args.taps, args.units)
            print(f"seeded {args.taps:,} taps in {args.units} units: {time.perf_counter() - t0:.1f} s")
            period = Period("p", "2026", date(2026, 5, 1), date(2026, 9, 30))
            export = Path(tmp) / "p.jsonl"
            t0 = time.perf_counter()
            result = closing.close(r, period, str(export), prior_weight=20, min_n=30, now=time.time(),
                                    tz="Asia/Shanghai")
            closed = time.perf_counter() - t0
            size = export.stat().st_size
            print(f"closed: {result['taps']:,} lines, {size / 1e6:.0f} MB, in {closed:.1f} s")
            t0 = time.perf_counter()
            with open(export, encoding="utf-8") as lines:
                problems = closing.verify(lines, result)
            print(f"verified in {time.perf_counter() - t0:.1f} s: "
                  f"{'OK' if not problems else problems[:3]}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
