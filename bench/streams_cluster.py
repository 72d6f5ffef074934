"""Change streams on a Redis Cluster (`make bench-streams-cluster`): do 50 open streams cost
taps their throughput when the app runs on a local 3-master cluster?

    .venv/bin/python bench/streams_cluster.py [--duration 10] [--units 2000] [--streams 50] [--rounds 4]

The same runs as bench/web.py's pair, on a cluster instead of one Redis: fresh taps
(POST /api/v1/ratings with tickets never used, each checked counted in Redis) under gunicorn's
sync workers, with wrk, --rounds times without and with --streams change streams following
the feed from the streams' server (gevent workers, Nice=10), in the order ABBA. Taps are
acknowledged from each master's memory (TAP_DURABILITY=server: the cluster's nodes have no
replicas here). Prints the medians and the ratio, writes bench/results/streams-cluster-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import secrets
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import web  # bench/web.py: its gunicorn stack, wrk runs and rows
from streams import LiveStreams

from ratingsvc import apikeys, create_app, periods, registry, topology


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--units", type=int, default=2000, help="units, one window each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2 * multiprocessing.cpu_count())
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    from tests.clusterset import ClusterSet  # the suite's cluster maker (web put the project on the path)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        cluster = ClusterSet(tmp / "cluster", masters=3, replicas=0).start()
        try:
            rows = run(args, tmp, cluster.url)
        finally:
            cluster.stop()
    out = web.BENCH / "results" / f"streams-cluster-{date.today().isoformat()}.json"
    out.write_text(json.dumps({"machine": {"cores": multiprocessing.cpu_count(), "workers": args.workers,
                                           "connections": args.connections, "duration_s": args.duration,
                                           "units": args.units, "streams": args.streams},
                               "runs": rows}, indent=2) + "\n")
    print(f"written: {out.relative_to(web.PROJECT)}")


def run(args, tmp: Path, url: str) -> dict:
    r = topology.connect(url, timeout=5)
    secret, qr_keys = secrets.token_urlsafe(32), f"1:{secrets.token_urlsafe(24)}"
    print(f"loading {args.units:,} units with a window each on the cluster ...", flush=True)
    units = web.seed_units(r, args.units)
    windows = [registry.create_window(r, uid, "1号窗口") for uid in units]
    periods.create_period(r, web.PERIOD)
    scorer, _ = apikeys.create_key(r, name="bench scorer", role="scorer", units=[], now=time.time())
    app = create_app({"REDIS_URL": url, "SECRET_KEY": secret, "QR_KEYS": qr_keys})
    signing = app.extensions["ratingsvc.signing"]
    rng = random.Random(7)
    app_env = {"RATINGSVC_ENV": "production", "RATINGSVC_SECRET_KEY": secret, "RATINGSVC_QR_KEYS": qr_keys,
               "RATINGSVC_PUBLIC_URL": "https://pj.example.gov.cn",
               "RATINGSVC_EVALUATION_OFFICE": "蔡甸区纠风办",
               "RATINGSVC_REDIS_URL": url, "RATINGSVC_PROXY_HOPS": "1", "RATINGSVC_TAP_DURABILITY": "server",
               "RATINGSVC_LIMIT_API_KEY": "100000/minute",
               "RATINGSVC_RULE_DEFAULT_HOURS": ""}  # its windows have no hours: taps at any hour count
    stack = web.Stack(tmp, args.workers)
    process, port, log = stack.start("app", "wsgi:app", app_env, str(web.PROJECT))
    n = 0

    def fresh(label: str, ready=None) -> dict:
        nonlocal n
        n = n or 3000 * args.duration  # tickets a run: more than this machine takes
        chosen = (windows[rng.randrange(len(windows))] for _ in range(n))
        tickets = [signing.ticket(w.id, w.unit, w.epoch, signing.new_device()) for w in chosen]
        bodies = web.bodies_file(tmp / "fresh.jsonl", tickets, rng)
        time.sleep(1)  # a tap sooner than RULE_MIN_TAP_MS after its scan looks automated
        if ready:
            ready()
        before = web.counted_total(r, units)
        print(f"{label} ...", flush=True)
        row = web.wrk(f"http://127.0.0.1:{port}/api/v1/ratings", bodies=bodies, duration=args.duration,
                      connections=args.connections)
        row["counted_in_redis"] = web.counted_total(r, units) - before
        if row["requests"] > n:
            raise SystemExit("the fresh tickets ran out: raise the margin")
        return row

    try:
        live = LiveStreams(stack, app_env, scorer, web.PERIOD.id, args.streams, args.duration + 5)
        without, with_streams = [], []

        def streamed(i: int) -> None:
            with_streams.append(fresh(f"{web.WITH_STREAMS} ({i + 1})", live.open))
            live.close()

        try:
            web.abba(args.rounds, lambda i: without.append(fresh(f"{web.FRESH} ({i + 1})")), streamed)
        finally:
            live.stop()
    finally:
        stack.stop(process, log)
    rows = {web.FRESH: web.median_row(without), web.WITH_STREAMS: web.median_row(with_streams)}
    rows[web.WITH_STREAMS]["streams"] = live.summary()
    rows[web.WITH_STREAMS]["ratio_to_no_streams"] = rows[web.WITH_STREAMS]["rps"] / rows[web.FRESH]["rps"]
    for name, row in rows.items():
        print(f"{name}: {row['rps']:,.0f}/s (runs {row['runs_rps']}), answers {row['statuses']}, "
              f"counted {row['counted_in_redis']:,}")
    print(f"with streams / without: {rows[web.WITH_STREAMS]['ratio_to_no_streams']:.2f}")
    return rows


if __name__ == "__main__":
    main()
