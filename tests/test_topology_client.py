"""One client from REDIS_URL (issue 14): the URL forms, a lazy start, and the replica durability."""

from __future__ import annotations

import pytest
import redis

from ratingsvc import create_app, topology
from ratingsvc.configcheck import ConfigError
from ratingsvc.embedded import RedisServer, free_port
from ratingsvc.limitstore import storage_uri
from ratingsvc.rkeys import UnitKeys
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import Clock, Helper, wait_for


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6380/0", "rediss://:pw@example.org:6380/1", "unix:///run/r.sock?db=0",
    "redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/rs-master/0",
    "redis+sentinel://:secret@10.0.0.1:26379/rs-master?sentinel_password=s2",
    "redis+cluster://127.0.0.1:7000,127.0.0.1:7001/", "redis+cluster://:pw@10.0.0.1:7000"])
def test_the_url_forms_are_taken(url):
    topology.check(url)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379", "127.0.0.1:6379", "redis+sentinel://127.0.0.1:26379/",
    "redis+cluster://127.0.0.1/", "redis+cluster://127.0.0.1:70a0"])
def test_bad_urls_are_refused_at_start_with_a_reason(config, url):
    with pytest.raises(ConfigError, match="REDIS_URL"):
        create_app({**config, "REDIS_URL": url})


def test_the_rate_limits_use_the_same_topology():
    assert storage_uri("redis+sentinel://:pw@h1:26379,h2:26379/rs-master/2?sentinel_password=x") \
        == "redis+sentinel://:pw@h1:26379,h2:26379/rs-master"
    assert storage_uri("redis+cluster://h1:7000,h2:7000/") == "ratingsvc+redis+cluster://h1:7000,h2:7000/"
    assert storage_uri("unix:///run/r.sock?db=0") == "redis+unix:///run/r.sock?db=0"


@pytest.mark.parametrize("url", ["redis+cluster://127.0.0.1:{port}/",
                                 "redis+sentinel://127.0.0.1:{port}/rs-master/0"])
def test_a_topology_down_at_start_is_a_503_not_a_failed_start(config, url):
    app = create_app({**config, "REDIS_URL": url.format(port=free_port())})  # nothing listens
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["redis"] == "Redis is unreachable"
    scores = client.get("/api/v1/scores?period=2026")
    assert scores.status_code in (401, 503)  # no key; never 500
    assert client.get("/healthz").status_code == 200


def test_replica_durability_answers_503_without_a_replica_and_201_with_one(tmp_path, clock):
    master = RedisServer(tmp_path / "m", port=free_port(), appendonly=True).start()
    replica = None
    try:
        app = create_app({"TESTING": True, "REDIS_URL": master.url, "CLOCK": clock, **GENEROUS,
                          **SIGNALS_OFF, "TAP_DURABILITY": "replica", "WAIT_TIMEOUT_MS": 200})
        h = Helper(app, app.extensions["ratingsvc.redis"], Clock(clock()))
        h.clock = clock
        win = h.window()
        ready = h.client.get("/readyz")
        assert ready.status_code == 503 and "needs 1 replica(s) online" in ready.json["durability"]
        refused = h.tap(win, 5)
        assert refused.status_code == 503 and refused.json["error"]["code"] == "not_durable"
        replica = RedisServer(tmp_path / "r", port=free_port(), appendonly=True).start()
        redis.Redis(port=replica.port).replicaof("127.0.0.1", master.port)
        wait_for(lambda: h.r.info("replication").get("slave0", {}).get("state") == "online", 10)
        h2 = Helper(app, h.r, h.clock)
        counted = h2.tap(win, 5)
        assert counted.status_code == 201, counted.json
        assert int(h.r.info("commandstats")["cmdstat_wait"]["calls"]) >= 1
        unit, stream_id = counted.json["rating_id"].rsplit(".", 1)
        mirror = redis.Redis(port=replica.port, decode_responses=True)
        assert mirror.xrange(UnitKeys(unit).log, stream_id, stream_id)  # on the replica already
        assert h.client.get("/readyz").status_code == 200
    finally:
        master.stop()
        if replica:
            replica.stop()
