"""Where a tap's time goes, in-process: the app's WSGI callable against bench/ceiling.py's.

    .venv/bin/python bench/tapcost.py [--taps 3000]

No HTTP and no gunicorn: each request is a WSGI call in this process, so the figures are the
app's own work per request. Starts its own redis-server (no append-only file), loads 2,000
units with a window each, and sends fresh taps (distinct raters and addresses, a phone's
User-Agent, the default rules) through the whole app: ProxyFix, Flask, the hooks,
flask-smorest. Times, per request: the whole call; the view's own work; in it, the recording
script's round trip and the ticket's signature check; and, from INFO commandstats, the
script's time inside Redis. The ceiling is the bare Flask JSON POST of bench/ceiling.py.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from web import PHONE  # noqa: E402

from ratingsvc import create_app, recording, registry  # noqa: E402
from ratingsvc.embedded import RedisServer  # noqa: E402
from ratingsvc.views import citizen  # noqa: E402

UNITS = 2000


class Timed:
    """Wraps a function and adds up the time spent in it."""

    def __init__(self, fn) -> None:
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def environ(path: str, body: bytes, ip: str) -> dict:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_USER_AGENT": PHONE, "REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": ip,
            "wsgi.errors": sys.stderr}


def per_request_us(app, path: str, bodies: list[bytes]) -> tuple[float, dict[str, int]]:
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter()
    for i, body in enumerate(bodies):
        b"".join(app(environ(path, body, f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"),
                     start_response))
    return (time.perf_counter() - start) / len(bodies) * 1e6, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--taps", type=int, default=3000)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the JSON log lines would go to this terminal
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), appendonly=False).start()
        try:
            run(server, args.taps)
        finally:
            server.stop()


def run(server: RedisServer, taps: int) -> None:
    r = redis.Redis(unix_socket_path=str(server.socket), decode_responses=True)
    registry.save_category(r, registry.Category("c1", "c1"), create=True)
    windows = []
    for i in range(UNITS):
        registry.save_unit(r, registry.Unit(f"u{i}", f"u{i}", "c1"), create=True)
        windows.append(registry.create_window(r, f"u{i}", "w"))
    # The Python side is timed here: its Redis keeps no append-only file, so taps are taken
    # from Redis's memory (TAP_DURABILITY=server).
    app = create_app({"REDIS_URL": server.url, "LIMIT_RATING_IP": "100000/minute",
                      "TAP_DURABILITY": "server", "RULE_DEFAULT_HOURS": ""})
    signing = app.extensions["ratingsvc.signing"]
    rng = random.Random(7)
    chosen = [rng.choice(windows) for _ in range(taps)]
    bodies = [json.dumps({"ticket": signing.ticket(w.id, w.unit, w.epoch, signing.new_device()),
                          "level": 5}).encode() for w in chosen]
    time.sleep(1)  # past RULE_MIN_TAP_MS after the "scans"

    from ceiling import app as ceiling

    bare, _ = per_request_us(ceiling, "/echo", bodies)

    view = citizen.rate
    while hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    timed_view, timed_record = Timed(view), Timed(recording.record)
    timed_ticket = Timed(signing.read_ticket)
    citizen.recording.record, signing.read_ticket = timed_record, timed_ticket  # type: ignore[method-assign]
    wrapper = citizen.rate  # the decorators' wrappers call the view through a closure cell
    while wrapper is not view:
        for cell in wrapper.__closure__ or ():
            if cell.cell_contents is view:
                cell.cell_contents = timed_view
        wrapper = wrapper.__wrapped__
    r.config_resetstat()
    total, statuses = per_request_us(app, "/api/v1/ratings", bodies)
    script_us = r.info("commandstats")["cmdstat_evalsha"]["usec_per_call"]
    n = len(bodies)
    rows = [
        ("ceiling: bare Flask JSON POST (bench/ceiling.py)", bare),
        ("a tap: the whole WSGI call", total),
        ("  around the view: ProxyFix, Flask, hooks, flask-smorest", total - timed_view.seconds / n * 1e6),
        ("  the view's own work", timed_view.seconds / n * 1e6),
        ("    the recording script's round trip", timed_record.seconds / n * 1e6),
        ("      of it, the script inside Redis (INFO commandstats)", script_us),
        ("    the ticket's signature check", timed_ticket.seconds / n * 1e6),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{taps:,} fresh taps, answers: {statuses}")
    for name, us in rows:
        print(f"{name.ljust(width)}  {us:7.0f} µs")


if __name__ == "__main__":
    main()
