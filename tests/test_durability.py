"""A crash of Redis loses no acknowledged tap (appendfsync always, or WAITAOF), and the app
recovers."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ratingsvc import create_app, registry
from ratingsvc.embedded import RedisServer, free_port
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import Clock, Helper, TapStream, limited_disk, waitaof_server

SETUPS = {  # TAP_DURABILITY -> the server's appendfsync
    "always": "always",
    "waitaof": "everysec",  # each tap waits for its own fsync instead
}


def assert_kept(r, acked: list[str]) -> None:
    """Every acknowledged tap (rating ids) in the unit's log, none twice, the counts as the log."""
    log = [eid for eid, f in r.xrange(registry.UnitKeys("u1").log) if f["k"] == "tap"]
    missing = {rating_id.split(".", 1)[1] for rating_id in acked} - set(log)
    assert not missing, f"{len(missing)} acknowledged taps lost"
    assert len(log) == len(set(log))  # none twice
    assert int(r.hget(registry.UnitKeys("u1").tot, "5")) == len(log)


@pytest.mark.parametrize("durability", SETUPS)
def test_kill_9_of_redis_loses_no_acknowledged_tap(tmp_path, clock, durability):
    binary = waitaof_server() if durability == "waitaof" else None
    port, data = free_port(), tmp_path / "redis"

    def start():
        return RedisServer(data, port=port, appendonly=True, appendfsync=SETUPS[durability],
                           binary=binary).start()

    server = start()
    app = create_app({"TESTING": True, "REDIS_URL": server.url, "CLOCK": clock, **GENEROUS,
                      **SIGNALS_OFF, "TAP_DURABILITY": durability})
    assert app.test_client().get("/readyz").status_code == 200
    h = Helper(app, app.extensions["ratingsvc.redis"], Clock(clock()))
    h.clock = clock
    token = h.token(h.window())
    # Four at once: with WAITAOF under everysec a tap waits for the next fsync (up to 1 s),
    # which the taps that arrive meanwhile share.
    with TapStream(app, [token], 20) as citizens:
        time.sleep(1.0)
        before = len(citizens.acked)
        os.kill(server.process.pid, signal.SIGKILL)  # no shutdown, no last fsync
        server.process.wait()
        time.sleep(0.5)  # the app answers 503 meanwhile
        server = start()
        time.sleep(1.5)  # the same app, not restarted, serves again
    r = app.extensions["ratingsvc.redis"]
    try:
        assert before > 8 and len(citizens.acked) > before  # taps before the crash, and after it
        assert_kept(r, citizens.acked)
        assert citizens.answers[503] > 0 and citizens.answers[500] == 0
        if durability == "waitaof":  # every tap the app sent after the restart waited
            assert int(r.info("commandstats")["cmdstat_waitaof"]["calls"]) > 0
    finally:
        server.stop()


def test_waitaof_unconfirmed_answers_503_and_the_tap_is_not_acknowledged(tmp_path, clock):
    """The server cannot confirm (no append-only file): 503 with Retry-After, never 201."""
    server = RedisServer(tmp_path, port=free_port(), appendonly=False, binary=waitaof_server()).start()
    try:
        app = create_app({"TESTING": True, "REDIS_URL": server.url, "CLOCK": clock, **GENEROUS,
                          **SIGNALS_OFF, "TAP_DURABILITY": "waitaof"})
        h = Helper(app, app.extensions["ratingsvc.redis"], clock)
        win = h.window()
        ready = h.client.get("/readyz")
        assert ready.status_code == 503 and "appendonly" in ready.json["durability"]
        answer = h.tap(win, headers={"Idempotency-Key": "k1"})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
        assert answer.json["error"]["code"] == "not_durable"
    finally:
        server.stop()


def test_a_full_disk_then_kill_9_loses_no_acknowledged_tap_under_the_default_durability(tmp_path, clock):
    """Under the old default (server, everysec) one acknowledged tap went missing in each of
    3 runs: Redis answered taps whose write to the full disk had failed, then was killed.
    The default now: TAP_DURABILITY=always on appendfsync always, where a failed write stops
    Redis before it answers."""
    port, data = free_port(), tmp_path / "redis"
    disk = limited_disk(300_000)
    server = RedisServer(data, port=port, appendonly=True, appendfsync="always", preexec=disk.apply).start()
    app = create_app({"TESTING": True, "REDIS_URL": server.url, "CLOCK": clock, **GENEROUS, **SIGNALS_OFF})
    assert app.config["TAP_DURABILITY"] == "always" and app.test_client().get("/readyz").status_code == 200
    h = Helper(app, app.extensions["ratingsvc.redis"], clock)
    token = h.token(h.window())
    with TapStream(app, [token], 30) as citizens:
        deadline = time.monotonic() + 25
        while citizens.answers[503] < 20 and time.monotonic() < deadline:  # the disk is full
            time.sleep(0.1)
        assert citizens.answers[503] >= 20, citizens.answers
        if server.process.poll() is None:
            os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
    server = RedisServer(data, port=port, appendonly=True, appendfsync="always").start()  # room again
    try:
        assert len(citizens.acked) > 20 and citizens.answers[500] == 0, citizens.answers
        assert_kept(app.extensions["ratingsvc.redis"], citizens.acked)
    finally:
        server.stop()
