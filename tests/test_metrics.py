"""/metrics in Prometheus format, added up across gunicorn workers; routes, never tokens."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from ratingsvc import registry
from ratingsvc.embedded import free_port
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import PHONE, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent


def counted(text: str) -> float:
    match = re.search(r'^ratingsvc_taps_total\{status="counted"\} ([0-9.]+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_in_one_process(h, client):
    before = counted(client.get("/metrics").get_data(as_text=True))
    h.tap(h.window(), 5)
    text = client.get("/metrics").get_data(as_text=True)
    assert counted(text) == before + 1
    assert 'ratingsvc_request_seconds_count{method="POST",route="/api/v1/ratings"}' in text


@pytest.fixture
def gunicorn(redis_server, tmp_path):
    port = free_port()
    env = {**os.environ, "RATINGSVC_REDIS_URL": redis_server.url, "RATINGSVC_PROXY_HOPS": "0",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "RATINGSVC_BIND": f"127.0.0.1:{port}",
           "RATINGSVC_WORKERS": "2",
           **{f"RATINGSVC_{k}": str(v) for k, v in {**GENEROUS, **SIGNALS_OFF}.items()}}
    errors = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115  (its logs: a pipe would fill)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(f"{base}/healthz", timeout=1).status == 200)
        yield base, proc
    finally:
        stop(proc)
        errors.close()


def test_metrics_add_up_across_workers_and_survive_a_killed_one(gunicorn, h):
    base, proc = gunicorn
    win = h.window()
    token = h.token(win)
    for _ in range(20):
        phone = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        phone.addheaders = [("User-Agent", PHONE)]
        ticket = json.load(phone.open(f"{base}/api/v1/scan/{token}"))["ticket"]
        req = urllib.request.Request(f"{base}/api/v1/ratings", data=json.dumps(
            {"ticket": ticket, "level": 5}).encode(), headers={"Content-Type": "application/json"})
        assert phone.open(req).status == 201
    scrapes = [urllib.request.urlopen(f"{base}/metrics").read().decode() for _ in range(6)]
    assert [counted(s) for s in scrapes] == [20.0] * 6  # whichever worker answers
    assert 'route="/api/v1/scan/<token>"' in scrapes[0] and token not in scrapes[0]
    workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                              text=True).stdout.split()]
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)  # the master replaces it; its counts stay
    time.sleep(1.5)
    assert counted(urllib.request.urlopen(f"{base}/metrics").read().decode()) == 20.0


def test_a_worker_killed_under_load_is_replaced_and_no_acknowledged_tap_is_lost(gunicorn, h):
    base, proc = gunicorn
    win = h.window()
    token = h.token(win)
    acked, failed, stop = [], [], threading.Event()

    def citizens():
        while not stop.is_set():
            phone = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(
                http.cookiejar.CookieJar()))
            phone.addheaders = [("User-Agent", PHONE)]
            try:
                ticket = json.load(phone.open(f"{base}/api/v1/scan/{token}", timeout=5))["ticket"]
                req = urllib.request.Request(f"{base}/api/v1/ratings", data=json.dumps(
                    {"ticket": ticket, "level": 4}).encode(), headers={"Content-Type": "application/json"})
                with phone.open(req, timeout=5) as resp:
                    if resp.status == 201:
                        acked.append(json.load(resp)["rating_id"].split(".", 1)[1])
            except (OSError, http.client.HTTPException, ValueError):
                failed.append(1)  # the killed worker held this connection: cut off, not acknowledged

    threads = [threading.Thread(target=citizens) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)],
                                                  capture_output=True, text=True).stdout.split()]
        os.kill(workers[0], signal.SIGKILL)
        time.sleep(2.0)
        after = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)],
                                                capture_output=True, text=True).stdout.split()]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert len(after) == 2 and workers[0] not in after  # the master replaced it
    log = [eid for eid, f in h.r.xrange(registry.UnitKeys("u1").log) if f["s"] == "counted"]
    assert len(acked) > 20 and set(acked) <= set(log) and len(log) == len(set(log))
    assert int(h.r.hget(registry.UnitKeys("u1").tot, "4")) == len(log)
