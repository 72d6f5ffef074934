"""The HTTP benchmark (`make bench`): the app under gunicorn against the ceiling of its parts.

    .venv/bin/python bench/web.py [--duration 10] [--units 10000] [--connections 16]

Starts its own redis-server (append-only file, appendfsync always, on a unix socket, as `make
run`; no automatic rewrite of the file in the middle of runs that are compared),
loads --units units with one window each and a period, then loads 127.0.0.1 with wrk
(Debian's package), one run after another, each --duration seconds:
  - ceiling: a bare Flask JSON POST (bench/ceiling.py) under the same gunicorn settings
    (gunicorn.conf.py), and the same plus one Redis script call;
  - POST /api/v1/ratings with fresh tickets (all counted; checked against Redis); the same
    with --streams (50) change streams following the feed on the streams' server (gevent
    workers), then again without, for the ratio; duplicates; fresh tickets paced at half the
    counted rate, for its p99;
  - GET /api/v1/scores for every unit, one connection;
  - fresh tickets with TAP_DURABILITY=server on appendfsync everysec: what the durable
    default costs;
  - redis-benchmark on the same Redis: SET, GET and a one-key script, its own ceiling.
The app runs as in production (ENV=production, a random secret, the default rules and
limits) behind a proxy hop: each request carries its own X-Forwarded-For, as nginx would
send for as many phones, so the per-IP limits see many clients. Only the API key limit is
raised, for the score table's run. Prints a table, writes bench/results/<date>.json and
bench/results/<date>.png. Ratios, not absolute numbers, compare across machines.
BENCH_TMP=<dir> keeps its working files there (gunicorn's logs, the request bodies).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT))

from ratingsvc import apikeys, create_app, periods, registry  # noqa: E402
from ratingsvc.embedded import RedisServer, free_port  # noqa: E402
from ratingsvc.rkeys import UnitKeys  # noqa: E402
from ratingsvc.serve import wait_for_port  # noqa: E402
from ratingsvc.settings import SETTINGS  # noqa: E402

sys.path.insert(0, str(BENCH))
from loop import seed_units  # noqa: E402
from streams import LiveStreams  # noqa: E402

LEVELS = [5, 5, 5, 5, 4, 4, 3, 2, 1]  # a plausible mix; the level does not change the path
PERIOD = periods.Period("bench", "bench", date(2026, 1, 1), date(2026, 12, 31))


class Stack:
    """gunicorn processes started with gunicorn.conf.py, their output in a log file."""

    def __init__(self, tmp: Path, workers: int) -> None:
        self.tmp, self.workers = tmp, workers

    def start(self, name: str, target: str, env: dict[str, str], pythonpath: str,
              workers: int | None = None, nice: int = 0) -> tuple:
        """Start gunicorn (at this niceness) and wait until GET /healthz answers 200."""
        port = free_port()
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers",
             str(workers or self.workers), "--bind", f"127.0.0.1:{port}", "--pythonpath", pythonpath, target],
            cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=lambda: os.nice(nice),
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(self.tmp / f"{name}-metrics"), **env})
        deadline = time.monotonic() + 30
        while wait_for_port("127.0.0.1", port, process) and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        time.sleep(0.5)  # the other workers, too
                        return process, port, log
            except OSError:
                time.sleep(0.2)
        self.stop(process, log)
        raise SystemExit(f"{name} did not start: see {log.name}")

    @staticmethod
    def stop(process, log) -> None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 MicroMessenger/8.0.50"


def wrk(url: str, *, duration: int, connections: int, bodies: Path | None = None, delay_ms: int = 0,
        headers: tuple[str, ...] = ()) -> dict:
    """One wrk run (one thread; the server needs the cores); its figures as a dict."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "5s",
           "-s", str(BENCH / "wrk" / "load.lua"), url, "--", str(bodies or "-"), "1", str(delay_ms),
           f"User-Agent: {PHONE}", *headers]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    out = done.stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result = json.loads(line[len("WRK_JSON "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def prime(url: str, bodies: Path) -> None:
    """POST each body once, in order, and insist that each is recorded (counted, or held by a
    signal after many runs on few windows: sent again, either is a duplicate)."""
    for i, body in enumerate(bodies.read_text().splitlines()):
        headers = {"Content-Type": "application/json", "User-Agent": PHONE,
                   "X-Forwarded-For": f"10.200.0.{i % 250}"}
        request = urllib.request.Request(url, data=body.encode(), method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=5) as answer:
            if answer.status not in (201, 202):
                raise SystemExit(f"priming the duplicates: {answer.status} {answer.read()[:200]!r}")


def redis_benchmark(socket_path: Path, n: int) -> dict[str, dict]:
    """redis-benchmark's own ceiling on the same server: SET, GET and a one-key script."""
    script = "return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)"
    runs = {"SET": ["-t", "set"], "GET": ["-t", "get"],
            "EVAL (one-key script)": ["EVAL", script, "1", "bench:{rb}:h", "5"]}
    out = {}
    for name, args in runs.items():
        out_csv = subprocess.run(["redis-benchmark", "-s", str(socket_path), "-n", str(n), "-c", "16",
                                  "--csv", *args], capture_output=True, text=True, check=True).stdout
        row = list(csv.reader(out_csv.strip().splitlines()))[-1]
        out[name] = {"rps": float(row[1]), "p50_us": float(row[4]) * 1000, "p99_us": float(row[6]) * 1000}
    return out


def bodies_file(path: Path, tickets: list[str], rng: random.Random) -> Path:
    path.write_text("".join(json.dumps({"ticket": t, "level": rng.choice(LEVELS)}) + "\n" for t in tickets))
    return path


def counted_total(r: redis.Redis, units: list[str]) -> int:
    with r.pipeline(transaction=False) as p:
        for uid in units:
            p.hmget(UnitKeys(uid).tot, "1", "2", "3", "4", "5")
        return sum(int(c or 0) for row in p.execute() for c in row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--units", type=int, default=10000, help="units, one window each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--streams", type=int, default=50, help="change streams open in the streams runs")
    parser.add_argument("--rounds", type=int, default=4,
                        help="runs of each kind compared, in the order ABBA... (with and without streams; "
                             "durability)")
    parser.add_argument("--workers", type=int, default=2 * multiprocessing.cpu_count(),
                        help="gunicorn workers for both (gunicorn.conf.py's default)")
    parser.add_argument("--redis-requests", type=int, default=200_000, help="per redis-benchmark run")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the app's workers during the fresh-ticket run: "
                             "<out>/<date>-profile.txt (collapsed stacks) and a summary")
    args = parser.parse_args()
    for tool, package in (("wrk", "wrk"), ("redis-benchmark", "redis-tools")):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install {package}")

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(os.environ.get("BENCH_TMP", tmpdir))
        server = RedisServer(tmp / "redis", appendonly=True, appendfsync="always").start()
        # No automatic rewrite of the append-only file in the middle of runs compared
        redis.Redis(unix_socket_path=str(server.socket)).config_set("auto-aof-rewrite-percentage", 0)
        try:
            results = run(args, tmp, server)
        finally:
            server.stop()
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / date.today().isoformat()
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    chart(results, stem.with_suffix(".png"))
    print(f"\nwritten: {stem}.json and {stem}.png")


def run(args, tmp: Path, server: RedisServer) -> dict:
    r = redis.Redis(unix_socket_path=str(server.socket), decode_responses=True)
    secret = secrets.token_urlsafe(32)
    qr_keys = f"1:{secrets.token_urlsafe(24)}"
    config = {"REDIS_URL": server.url, "SECRET_KEY": secret, "QR_KEYS": qr_keys}
    print(f"loading {args.units:,} units with a window each ...", flush=True)
    units = seed_units(r, args.units)
    windows = [registry.create_window(r, uid, "1号窗口") for uid in units]
    periods.create_period(r, PERIOD)
    scorer, _ = apikeys.create_key(r, name="bench scorer", role="scorer", units=[], now=time.time())
    signing = create_app(config).extensions["ratingsvc.signing"]
    rng = random.Random(7)

    def tickets(n: int) -> list[str]:
        chosen = (windows[rng.randrange(len(windows))] for _ in range(n))
        return [signing.ticket(w.id, w.unit, w.epoch, signing.new_device()) for w in chosen]

    stack = Stack(tmp, args.workers)
    run_for = {"duration": args.duration, "connections": args.connections}
    rows: dict[str, dict] = {}

    process, port, log = stack.start("ceiling", "ceiling:app", {"BENCH_REDIS_URL": server.url}, str(BENCH))
    try:
        plain = bodies_file(tmp / "plain.jsonl", ["x"] * 100, rng)
        print("ceiling: bare Flask JSON POST ...", flush=True)
        rows["ceiling: bare Flask JSON POST"] = wrk(f"http://127.0.0.1:{port}/echo", bodies=plain, **run_for)
        print("ceiling: + one Redis script call ...", flush=True)
        rows["bare POST + one Redis script call"] = wrk(f"http://127.0.0.1:{port}/echo-redis",
                                                         bodies=plain, **run_for)
    finally:
        stack.stop(process, log)
    ceiling = rows["ceiling: bare Flask JSON POST"]["rps"]

    app_env = {"RATINGSVC_ENV": "production", "RATINGSVC_SECRET_KEY": secret,
               "RATINGSVC_QR_KEYS": qr_keys, "RATINGSVC_PUBLIC_URL": "https://pj.example.gov.cn",
               "RATINGSVC_EVALUATION_OFFICE": "蔡甸区纠风办",
               "RATINGSVC_REDIS_URL": server.url, "RATINGSVC_PROXY_HOPS": "1",
               "RATINGSVC_LIMIT_API_KEY": "100000/minute",
               "RATINGSVC_RULE_DEFAULT_HOURS": ""}  # its windows have no hours: taps at any hour count
    n = int(ceiling * args.duration * 1.2) + 1000  # fresh tickets a run: more than it can use

    def fresh(label: str, url: str, ready=None) -> dict:
        """One wrk run of tickets never used before (ready() just before it); checks what
        Redis counted."""
        print(f"minting {n:,} tickets ...", flush=True)
        bodies = bodies_file(tmp / "fresh.jsonl", tickets(n), rng)
        time.sleep(1)  # a tap sooner than RULE_MIN_TAP_MS after its scan looks automated
        if ready:
            ready()
        before = counted_total(r, units)
        print(f"{label} ...", flush=True)
        row = wrk(f"{url}/api/v1/ratings", bodies=bodies, **run_for)
        row["counted_in_redis"] = counted_total(r, units) - before
        if row["requests"] > n:
            raise SystemExit("the fresh tickets ran out: raise the margin")
        return row

    process, port, log = stack.start("app", "wsgi:app", app_env, str(PROJECT))
    try:
        url = f"http://127.0.0.1:{port}"
        # Taps without and with change streams open, --rounds times each, in the order ABBA
        # ABBA... (a drift over the runs falls on both alike): one run of each is too noisy
        # here to tell 10% apart.
        live = LiveStreams(stack, app_env, scorer, PERIOD.id, args.streams, args.duration + 5)
        without, with_streams = [], []

        def plain(i: int) -> None:
            spy = profiler(process.pid, args) if args.profile and i == 0 else None
            without.append(fresh(f"{FRESH} ({i + 1})", url))
            if spy is not None:
                spy.wait(30)
                summarize_profile(args.out / f"{date.today().isoformat()}-profile.txt")

        def streamed(i: int) -> None:
            with_streams.append(fresh(f"{WITH_STREAMS} ({i + 1})", url, live.open))
            live.close()

        try:
            abba(args.rounds, plain, streamed)
        finally:
            live.stop()
        rows[FRESH], rows[WITH_STREAMS] = median_row(without), median_row(with_streams)
        rows[WITH_STREAMS]["streams"] = live.summary()
        counted = rows[FRESH]

        # What the durable default costs: the same taps acknowledged from Redis's memory, its
        # append-only file fsynced once a second (the old default) instead of before each
        # answer. A second app, alternating with this one, --rounds times each.
        lazy_env = {**app_env, "RATINGSVC_TAP_DURABILITY": "server"}
        lazy, lazy_port, lazy_log = stack.start("app-server", "wsgi:app", lazy_env, str(PROJECT))
        durable, not_durable = [], []

        def lazily(i: int) -> None:
            r.config_set("appendfsync", "everysec")
            not_durable.append(fresh(f"{NOT_DURABLE} ({i + 1})", f"http://127.0.0.1:{lazy_port}"))
            r.config_set("appendfsync", "always")

        try:
            abba(args.rounds, lambda i: durable.append(fresh(f"{DURABLE} ({i + 1})", url)), lazily)
        finally:
            stack.stop(lazy, lazy_log)
            r.config_set("appendfsync", "always")
        rows[NOT_DURABLE], rows[DURABLE] = median_row(not_durable), median_row(durable)

        # Enough raters that none taps more than LIMIT_RATER (20 an hour on a unit) in the run:
        # past that, a rater's taps are refused (429), not reported as duplicates.
        raters = int(counted["rps"] * args.duration / 15) + 100
        print(f"counting {raters:,} taps once, to send again ...", flush=True)
        dupes = bodies_file(tmp / "dupes.jsonl", tickets(raters), rng)
        time.sleep(1)
        prime(f"{url}/api/v1/ratings", dupes)  # each counted once here; wrk sends them again
        print("POST /api/v1/ratings, duplicates ...", flush=True)
        rows["POST /api/v1/ratings: duplicates"] = wrk(f"{url}/api/v1/ratings", bodies=dupes, **run_for)

        half = counted["rps"] / 2
        delay = max(1, round(args.connections * 1000 / half) - 2)
        paced = bodies_file(tmp / "paced.jsonl", tickets(int(half * args.duration * 1.5) + 1000), rng)
        time.sleep(1)
        print(f"POST /api/v1/ratings, fresh, paced at about {half:,.0f}/s ...", flush=True)
        rows["POST /api/v1/ratings: fresh, half rate"] = wrk(f"{url}/api/v1/ratings", bodies=paced,
                                                             delay_ms=delay, **run_for)

        print(f"GET /api/v1/scores, {args.units:,} units ...", flush=True)
        first = time.perf_counter()  # one worker's first table: every unit computed
        request = urllib.request.Request(f"{url}/api/v1/scores?period={PERIOD.id}",
                                         headers={"Authorization": f"Bearer {scorer}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        cold_ms = (time.perf_counter() - first) * 1000
        rows[f"GET /api/v1/scores ({args.units:,} units)"] = wrk(
            f"{url}/api/v1/scores?period={PERIOD.id}", duration=args.duration, connections=1,
            headers=(f"Authorization: Bearer {scorer}",))
        rows[f"GET /api/v1/scores ({args.units:,} units)"]["first_ms"] = cold_ms
    finally:
        stack.stop(process, log)

    print("redis-benchmark ...", flush=True)
    for name, figures in redis_benchmark(server.socket, args.redis_requests).items():
        rows[f"redis-benchmark: {name}"] = figures

    for name, row in rows.items():
        if not name.startswith("redis-benchmark"):
            row["share_of_ceiling"] = row["rps"] / ceiling
    rows[WITH_STREAMS]["ratio_to_no_streams"] = rows[WITH_STREAMS]["rps"] / rows[FRESH]["rps"]
    rows[DURABLE]["ratio_to_not_durable"] = rows[DURABLE]["rps"] / rows[NOT_DURABLE]["rps"]
    report(rows)
    return {"machine": {"cores": multiprocessing.cpu_count(), "workers": args.workers,
                        "connections": args.connections, "duration_s": args.duration,
                        "units": args.units, "python": sys.version.split()[0]},
            "runs": rows}


FRESH = "POST /api/v1/ratings: fresh (counted)"
WITH_STREAMS = "POST /api/v1/ratings: fresh, change streams open"
NOT_DURABLE = "POST /api/v1/ratings: fresh, TAP_DURABILITY=server (appendfsync everysec)"
DURABLE = "POST /api/v1/ratings: fresh, alternating with the run above (the default)"


def abba(rounds: int, a, b) -> None:
    """a(i) and b(i) for i in range(rounds), in the order A B B A A B B A ..."""
    for i in range(rounds):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        first(i)
        second(i)


def median_row(runs: list[dict]) -> dict:
    """Several wrk runs of one kind as one row: medians of the rates and latencies, the sums
    of the answers and counts, and each run's rate."""
    def mid(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    statuses: dict[str, int] = {}
    for run in runs:
        for status, count in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {"rps": mid("rps"), "p50_us": mid("p50_us"), "p99_us": mid("p99_us"), "statuses": statuses,
            "counted_in_redis": sum(run["counted_in_redis"] for run in runs),
            "runs_rps": [round(run["rps"]) for run in runs]}


def profiler(pid: int, args) -> subprocess.Popen:
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{date.today().isoformat()}-profile.txt"
    return subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                             "--subprocesses", "--rate", "250", "--duration", str(max(1, args.duration - 1)),
                             "--format", "raw", "--output", str(out), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


PARTS = [  # (what, pattern in a frame's file): a sample goes to the innermost frame that matches
    ("the recording script's round trip (redis-py, waiting on Redis)", re.compile(r"redis/|recording\.py")),
    ("ticket signature (itsdangerous)", re.compile(r"itsdangerous/|signing\.py")),
    ("flask-limiter", re.compile(r"flask_limiter/|limits/|limiting\.py")),
    ("flask-smorest, webargs, marshmallow", re.compile(r"flask_smorest/|webargs/|marshmallow/")),
    ("metrics (prometheus_client)", re.compile(r"prometheus_client/|metrics\.py")),
    ("JSON logs", re.compile(r"logging/|logs\.py")),
    ("the rest of the view and the rules", re.compile(r"ratingsvc/")),
    ("Flask and werkzeug", re.compile(r"flask/|werkzeug/")),
    ("gunicorn: accept, parse, send, close", re.compile(r"gunicorn/")),
]


def summarize_profile(path: Path) -> None:
    """Where the workers' time went: each py-spy sample goes to the innermost frame that
    belongs to one of PARTS."""
    shares: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")[::-1]  # innermost first
        part = next((name for frame in frames for name, pattern in PARTS if pattern.search(frame)),
                    "other")
        shares[part] = shares.get(part, 0) + int(count)
        total += int(count)
    print(f"\nwhere the workers' time went during the fresh-ticket run ({total:,} samples; {path}):")
    for part, n in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {n / total:6.1%}  {part}")


def report(rows: dict[str, dict]) -> None:
    width = max(map(len, rows))
    print(f"\n{'run'.ljust(width)}  {'req/s':>9}  {'p50 ms':>7}  {'p99 ms':>7}  {'ceiling':>7}  statuses")
    for name, row in rows.items():
        share = f"{row['share_of_ceiling']:.0%}" if "share_of_ceiling" in row else ""
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(row.get("statuses", {}).items()))
        print(f"{name.ljust(width)}  {row['rps']:>9,.0f}  {row['p50_us'] / 1000:>7.1f}  "
              f"{row['p99_us'] / 1000:>7.1f}  {share:>7}  {statuses}")
    table = next(row for name, row in rows.items() if name.startswith("GET /api/v1/scores"))
    print(f"score table: a worker's first {table['first_ms']:,.0f} ms (every unit computed), then "
          f"p50 {table['p50_us'] / 1000:,.0f} ms (units whose totals did not move come from its "
          f"cache; goal: under 250 ms)")
    fresh = rows[FRESH]
    print(f"\ncounted ratings: {fresh['rps'] / rows['ceiling: bare Flask JSON POST']['rps']:.0%} of the "
          f"bare POST ceiling (goal: at least 60%); {fresh['counted_in_redis']:,} counted in Redis for "
          f"{fresh['statuses'].get('201', 0):,} answers 201")
    streamed = rows[WITH_STREAMS]
    s = streamed["streams"]
    print(f"with {s['opened'] // len(streamed['runs_rps'])} change streams open: "
          f"{streamed['ratio_to_no_streams']:.0%} of the taps a "
          f"second without (medians of {len(streamed['runs_rps'])} runs each, in the order ABBA: "
          f"{rows[FRESH]['runs_rps']} without, {streamed['runs_rps']} with; goal: at least 90%)")
    print(f"  streams: {s['ok']} of {s['opened']} answered 200, {s['open_when_taps_ended']} still open "
          f"when the taps ended; they lived {s['lived_s']['min']}-{s['lived_s']['max']} s (SSE_MAX_SECONDS "
          f"{s['sse_max_seconds']}); {s['events']['min']:,}-{s['events']['max']:,} changes each; "
          f"{s['worker_timeouts']} worker timeouts")
    polls = s["slow_polls_s"]
    if polls:
        share = SETTINGS["SSE_CPU_SHARE"][0]  # the app's default: the bench does not set it
        print(f"  the streams server's polls of the feed took {min(polls):.2f}-{max(polls):.2f} s, so "
              f"under this load the streams lagged up to about {max(polls) / share:.0f} s "
              f"(SSE_CPU_SHARE {share:.0%})")
    durable = rows[DURABLE]
    print(f"durability: TAP_DURABILITY=always (appendfsync always, the default) takes "
          f"{durable['ratio_to_not_durable']:.0%} of the taps a second of server (everysec): medians of "
          f"{durable['runs_rps']} and {rows[NOT_DURABLE]['runs_rps']}, in the order ABBA")


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {k: v for k, v in results["runs"].items() if not k.startswith("redis-benchmark")}
    names = list(rows)[::-1]
    fig, (rate, lat) = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    rate.barh(names, [rows[k]["rps"] for k in names], color="#4c72b0")
    for i, k in enumerate(names):
        rate.text(rows[k]["rps"], i, f" {rows[k]['rps']:,.0f} ({rows[k]['share_of_ceiling']:.0%})",
                  va="center", fontsize=8)
    rate.set_xlabel("requests per second (share of the bare POST ceiling)")
    rate.set_xlim(0, max(rows[k]["rps"] for k in names) * 1.35)
    lat.barh([i + 0.2 for i in range(len(names))], [rows[k]["p50_us"] / 1000 for k in names],
             height=0.4, label="p50", color="#55a868")
    lat.barh([i - 0.2 for i in range(len(names))], [rows[k]["p99_us"] / 1000 for k in names],
             height=0.4, label="p99", color="#c44e52")
    lat.set_xscale("log")
    lat.set_xlabel("latency, ms (log scale)")
    lat.legend(loc="lower right")
    m = results["machine"]
    fig.suptitle(f"ratingsvc under wrk on 127.0.0.1, {m['cores']} cores, {m['workers']} sync workers, "
                 f"{m['connections']} connections, {results['when'][:10]}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
