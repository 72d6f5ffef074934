"""A province on one Redis and on a local 3-master Redis Cluster, in the same run.

    .venv/bin/python bench/province.py [--units 30000] [--windows 10] [--taps 3000]

For each topology, with its own servers (append-only file, everysec):
  - the import of UNITS units with WINDOWS windows each (`ratingsvc units import`, a CSV);
  - counts seeded for every unit (two days of snapshots and totals, as bench/loop.py);
  - the full score table (GET /api/v1/scores) cold (a new app) and warm (p50 of 5);
  - one unit's score (GET /api/v1/units/<id>/score), p50 of 20 units;
  - the change feed: a page of 50 changes, p50 of 20 (the same page: its categories kept);
    a page of 50 new changes in units all over the province, once (their categories scored
    anew); and an idle poll (nothing new, no sweep under way), p50 of 20;
  - TAPS counted taps through recording.record, one after another (taps/s);
  - the memory Redis uses (all masters), and on one Redis, the append-only file's load time
    after a rewrite (a restart, until it answers).
Prints a table and writes bench/results/province-<date>.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from loop import RULES as LOOP_RULES  # noqa: E402

from ratingsvc import create_app, feed, recording, registry, topology  # noqa: E402
from ratingsvc.embedded import RedisServer, free_port  # noqa: E402
from ratingsvc.recording import Tap  # noqa: E402
from ratingsvc.rkeys import UnitKeys  # noqa: E402
from ratingsvc.timeutil import local_day  # noqa: E402

RULES = replace(LOOP_RULES, ip_window_max=0, burst_min=0, rater_windows_max=0)  # signals off
NOW = 1_780_279_200  # 2026-06-01 10:00 in Shanghai
BIN = Path(sys.executable).parent


def write_csv(path: Path, units: int, windows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["category_id", "category_name", "unit_id", "unit_name", "windows"])
        for i in range(units):
            w.writerow([f"c{i % 30:02d}", f"类别{i % 30}", f"u-{i:05d}", f"单位{i}",
                        "|".join(f"{j + 1}号窗口" for j in range(windows))])


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def p50(fn, n: int) -> float:
    return statistics.median(timed(fn) for _ in range(n))


def seed_counts(r: redis.Redis, ids: list[str]) -> None:
    """Two days of counts per unit, written per chunk through a pipeline (per node on a cluster)."""
    for start in range(0, len(ids), 2000):
        with r.pipeline(transaction=False) as p:
            for i, uid in enumerate(ids[start:start + 2000]):
                k = UnitKeys(uid)
                for day in ("20260510", "20260720"):
                    p.zadd(k.days, {day: int(day)})
                    p.hset(k.snap, mapping={f"{day}:{lvl}": (i * lvl) % 50 for lvl in range(1, 6)})
                p.hset(k.tot, mapping={str(lvl): 50 + (i * lvl) % 350 for lvl in range(1, 6)})
            p.execute()


def used_memory(r: redis.Redis) -> int:
    return sum(int(node.info("memory")["used_memory"]) for node in topology.primaries(r))


def measure(url: str, csv_path: Path, units: int, taps: int) -> dict:
    env = {**os.environ, "RATINGSVC_REDIS_URL": url}
    start = time.perf_counter()
    subprocess.run([str(BIN / "ratingsvc"), "units", "import", str(csv_path)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    imported = time.perf_counter() - start
    config = {"REDIS_URL": url, "TAP_DURABILITY": "server", "REDIS_TIMEOUT": 5.0,
              "CLOCK": lambda: NOW, "LIMIT_API_KEY": "1000000/minute", "PROXY_HOPS": 0}
    app = create_app(config)
    r = app.extensions["ratingsvc.redis"]
    ids = sorted(r.smembers(registry.rkeys.UNITS))
    seed_counts(r, ids)
    memory_before = used_memory(r)
    client = app.test_client()
    from ratingsvc import apikeys

    key, _ = apikeys.create_key(r, name="bench", role="admin", units=[], now=NOW)
    auth = {"Authorization": f"Bearer {key}"}
    client.post("/api/v1/periods", headers=auth, json={"id": "p1", "name": "p1", "start": "2026-05-01",
                                                        "end": "2026-09-30"})

    def table(c=client) -> None:
        resp = c.get("/api/v1/scores?period=p1", headers=auth)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]

    cold = timed(lambda: table(create_app(config).test_client()))
    warm = p50(table, 5)
    sample = ids[:: max(1, len(ids) // 20)][:20]
    it = iter(sample * 10)

    def one() -> None:
        resp = client.get(f"/api/v1/units/{next(it)}/score?period=p1", headers=auth)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]

    one_unit = p50(one, 20)
    win = registry.list_windows(r, ids[0])[0]
    n = iter(range(10**9))

    def tap(count: int, spread: bool = False) -> None:
        """count taps: spread over units (a window of each), or all at the first unit's window."""
        for _ in range(count):
            i = next(n)
            unit = ids[(i * 7919) % len(ids)]
            w = registry.list_windows(r, unit)[0] if spread else win
            out = recording.record(r, Tap(w.unit, w.id, 1, 5, f"rater{i}", NOW * 1000 + i, f"t{i}",
                                       ip=f"ip{i}"),
                                   RULES, tz="Asia/Shanghai")
            assert out.status == "counted", out

    tap(60, spread=True)  # 60 changes spread over units, for the feed
    start = time.perf_counter()
    tap(taps)
    tap_rate = taps / (time.perf_counter() - start)
    day = lambda ms: local_day(ms / 1000, "Asia/Shanghai")  # noqa: E731
    feed.relay(r, day, now=NOW)

    def page() -> None:
        resp = client.get("/api/v1/scores/changes?period=p1&after=0&limit=50", headers=auth)
        assert resp.status_code == 200 and len(resp.json["changes"]) == 50, resp.get_data(as_text=True)[:300]

    feed_page = p50(page, 20)  # the same page again: its categories' rows kept
    while feed.relay(r, day, now=NOW):  # every tap so far relayed (a relay takes 500 a unit)
        pass
    end = r.xrevrange(feed.CHANGES, count=1)[0][0]  # the feed's end: what follows is new
    tap(50, spread=True)  # 50 new changes, in units all over the province
    while feed.relay(r, day, now=NOW):
        pass

    def fresh() -> None:  # their page: the categories they touched scored anew
        resp = client.get(f"/api/v1/scores/changes?period=p1&after={end}&limit=50", headers=auth)
        assert resp.status_code == 200 and len(resp.json["changes"]) == 50, resp.get_data(as_text=True)[:300]

    fresh_page = timed(fresh)
    while r.hget(feed.SWEEP, "cursor") not in (None, "0"):  # a sweep of every unit under way: done first
        feed.relay(r, day, now=NOW)
    idle = p50(lambda: feed.relay(r, day, now=NOW), 20)
    return {"units": len(ids), "import_s": round(imported, 2), "table_cold_ms": round(cold, 1),
            "table_warm_ms": round(warm, 1), "unit_score_ms": round(one_unit, 2),
            "feed_page_ms": round(feed_page, 2), "feed_page_new_ms": round(fresh_page, 2),
            "idle_poll_ms": round(idle, 2),
            "taps_per_s": round(tap_rate), "used_memory_mb": round(memory_before / 2**20, 1)}


def aof_load_seconds(server: RedisServer) -> float:
    r = redis.Redis(unix_socket_path=str(server.socket))
    r.bgrewriteaof()
    while r.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.05)
    server.stop()
    start = time.perf_counter()
    server.start()  # returns once it answers PING, i.e. has loaded its data
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=30000)
    parser.add_argument("--windows", type=int, default=10)
    parser.add_argument("--taps", type=int, default=3000)
    args = parser.parse_args()
    results: dict = {"units": args.units, "windows": args.units * args.windows}
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "units.csv"
        write_csv(csv_path, args.units, args.windows)
        server = RedisServer(Path(tmp) / "one", port=free_port(), appendonly=True).start()
        try:
            results["one Redis"] = measure(server.url, csv_path, args.units, args.taps)
            results["one Redis"]["aof_load_s"] = round(aof_load_seconds(server), 2)
        finally:
            server.stop()
        from tests.topology import ClusterSet  # the suite's cluster maker (no redis-cli needed)

        cluster = ClusterSet(Path(tmp) / "cluster", masters=3, replicas=0)
        cluster.start()
        try:
            results["3-master cluster"] = measure(cluster.url, csv_path, args.units, args.taps)
        finally:
            cluster.stop()
    one, three = results["one Redis"], results["3-master cluster"]
    results["cluster taps / one Redis taps"] = round(three["taps_per_s"] / one["taps_per_s"], 2)
    print(f"{'':24}{'one Redis':>14}{'3-master cluster':>18}")
    for field in one:
        print(f"{field:24}{one[field]!s:>14}{three.get(field, '-')!s:>18}")
    print(f"cluster taps / one Redis taps: {results['cluster taps / one Redis taps']}")
    out = ROOT / "bench" / "results" / f"province-{date.today().isoformat()}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
