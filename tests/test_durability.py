"""A crash of Redis loses no acknowledged tap (appendfsync always), and the app recovers."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

from ratingsvc import create_app, registry
from ratingsvc.embedded import RedisServer, free_port
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import Clock, Helper


def test_kill_9_of_redis_loses_no_acknowledged_tap(tmp_path, clock):
    port, data = free_port(), tmp_path / "redis"
    server = RedisServer(data, port=port, appendonly=True, appendfsync="always").start()
    app = create_app({"TESTING": True, "REDIS_URL": server.url, "CLOCK": clock, **GENEROUS,
                      **SIGNALS_OFF})
    h = Helper(app, app.extensions["ratingsvc.redis"], Clock(clock()))
    h.clock = clock
    win = h.window()
    token = h.token(win)
    acked, answers, stop = [], Counter(), threading.Event()

    def citizens():
        deadline = time.monotonic() + 20
        while not stop.is_set() and time.monotonic() < deadline:
            phone = app.test_client()
            scan = phone.get(f"/api/v1/scan/{token}")
            answers[scan.status_code] += 1
            if scan.status_code != 200:
                time.sleep(0.02)
                continue
            resp = phone.post("/api/v1/ratings", json={"ticket": scan.json["ticket"], "level": 5})
            answers[resp.status_code] += 1
            if resp.status_code == 201:
                acked.append(resp.json["rating_id"].split(".", 1)[1])

    writer = threading.Thread(target=citizens)
    writer.start()
    try:
        time.sleep(1.0)
        before = len(acked)
        os.kill(server.process.pid, signal.SIGKILL)  # no shutdown, no last fsync
        server.process.wait()
        time.sleep(0.5)  # the app answers 503 meanwhile
        server = RedisServer(data, port=port, appendonly=True, appendfsync="always").start()
        time.sleep(1.5)  # the same app, not restarted, serves again
    finally:
        stop.set()
        writer.join()
    r = app.extensions["ratingsvc.redis"]
    log = [eid for eid, f in r.xrange(registry.UnitKeys("u1").log) if f["k"] == "tap"]
    try:
        assert before > 20 and len(acked) > before  # taps before the crash, and after it
        missing = set(acked) - set(log)
        assert not missing, f"{len(missing)} acknowledged taps lost"
        assert len(log) == len(set(log))  # none twice
        assert int(r.hget(registry.UnitKeys("u1").tot, "5")) == len(log)
        assert answers[503] > 0 and answers[500] == 0
    finally:
        server.stop()
