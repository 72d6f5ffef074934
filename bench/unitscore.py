"""One unit's score in a province (issue 14): 30,000 units in 30 categories.

    .venv/bin/python bench/unitscore.py [--units 30000] [--categories 30] [--rounds 30]

In-process (each request a WSGI call through the whole app), against its own redis-server on a
unix socket. Loads the units as bench/console.py does (records and counts written straight, so
the database has no index of units per category, as one from before it), then GETs
/api/v1/units/<unit>/score: the first request (which builds the index, if the code has one),
one of each other category (its counts not cached yet), then --rounds of units of every
category (cached): their p50 and p95 in ms; the whole table's p50 beside them. Prints the
figures; writes nothing.
"""

from __future__ import annotations

import argparse
import logging
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from ratingsvc import apikeys, create_app, periods, registry  # noqa: E402
from ratingsvc.embedded import RedisServer  # noqa: E402
from ratingsvc.rkeys import UnitKeys  # noqa: E402
from ratingsvc.timeutil import day_key  # noqa: E402


def seed(r: redis.Redis, units: int, categories: int, today: date) -> list[str]:
    rng = random.Random(14)
    for c in range(categories):
        registry.save_category(r, registry.Category(f"c{c:02d}", f"类别{c}"), create=True)
    ids = [f"u{i:05d}" for i in range(units)]
    days = [today - timedelta(days=d) for d in range(30, 0, -5)]
    with r.pipeline(transaction=False) as p:
        for i, uid in enumerate(ids):
            k = UnitKeys(uid)
            p.hset(k.info, mapping={"name": f"第{i}办事处", "category": f"c{i % categories:02d}",
                                    "active": "1"})
            p.sadd(registry.rkeys.UNITS, uid)
            before = dict.fromkeys(range(1, 6), 0)
            for d in days:
                key = day_key(d)
                counts = {lvl: rng.randint(0, 8) for lvl in range(1, 6)}
                p.hset(k.day(key), mapping={str(lvl): v for lvl, v in counts.items()})
                p.zadd(k.days, {key: int(key)})
                p.hset(k.snap, mapping={f"{key}:{lvl}": before[lvl] for lvl in range(1, 6)})
                for lvl, v in counts.items():
                    before[lvl] += v
            p.hset(k.tot, mapping={str(lvl): v for lvl, v in before.items()})
            if i % 1000 == 999:
                p.execute()
        p.execute()
    around = periods.Period("p", "本年度", today - timedelta(days=90), today + timedelta(days=90))
    periods.create_period(r, around)
    return ids


def timed(get, path: str, headers: dict) -> float:
    started = time.perf_counter()
    resp = get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert resp.status_code == 200, resp.data[:300]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=30_000)
    parser.add_argument("--categories", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), appendonly=False).start()
        try:
            app = create_app({"REDIS_URL": server.url, "SECRET_KEY": secrets.token_urlsafe(32),
                              "QR_KEYS": f"1:{secrets.token_urlsafe(32)}", "PUBLIC_URL": "https://pj.example.gov.cn",
                              "LIMIT_DEFAULT_IP": "1000000/minute", "LIMIT_API_KEY": "1000000/minute"})
            logging.disable(logging.WARNING)  # the access log of every request
            r = redis.Redis.from_url(server.url, decode_responses=True)
            started = time.perf_counter()
            ids = seed(r, args.units, args.categories, date.today())
            print(f"loaded {args.units} units in {args.categories} categories in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            key, _ = apikeys.create_key(r, name="bench", role="admin", now=time.time())
            headers = {"Authorization": f"Bearer {key}"}
            get = app.test_client().get
            first = timed(get, f"/api/v1/units/{ids[0]}/score?period=p", headers)
            # a unit of each other category, its first time (the counts not cached yet), then
            # units of every category again (cached, as a busy server has them)
            cold = [timed(get, f"/api/v1/units/{ids[i]}/score?period=p", headers)
                    for i in range(1, args.categories)]
            warm = [timed(get, f"/api/v1/units/{ids[(7 * i) % len(ids)]}/score?period=p", headers)
                    for i in range(args.rounds)]
            table = [timed(get, "/api/v1/scores?period=p", headers) for _ in range(5)]
            print(f"one unit's score: the first request {first:.0f} ms")
            for name, ms in (("a category's first", cold), ("again", warm)):
                print(f"  {name}: p50 {statistics.median(ms):.1f} ms, "
                      f"p95 {sorted(ms)[int(0.95 * (len(ms) - 1))]:.1f} ms ({len(ms)} requests)")
            print(f"whole table: p50 {statistics.median(table):.0f} ms (5 requests)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
