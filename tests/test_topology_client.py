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
        for _ in range(3):  # a WAIT of 200 ms can time out on a busy machine: a client retries
            counted = Helper(app, h.r, h.clock).tap(win, 5)  # (here from a new phone)
            if counted.status_code != 503:
                break
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


@pytest.mark.single_redis  # (starts its own cluster: cluster_set)
def test_reads_of_many_units_follow_a_slot_moved_under_them(cluster_set):
    """period_counts reads units 500 a call, each call's units on one node, as the client last
    saw the map. A slot resharded to another master meanwhile: the call is refused (MOVED, or
    a key no longer on the node), and the units are grouped anew on the new map, once."""
    from datetime import date

    from redis.crc import key_slot

    from ratingsvc import scoring

    r = topology.connect(cluster_set.url, timeout=5)
    ids = [f"mv{i:03d}" for i in range(60)]
    for i, uid in enumerate(ids):
        k = UnitKeys(uid)
        r.hset(k.info, mapping={"name": f"单位{i}", "category": "c1", "active": "1"})
        r.hset(k.tot, mapping={str(lvl): i + lvl for lvl in range(1, 6)})
        r.zadd(k.days, {"20260510": 20260510})  # a day in the period, its snapshot all 0
    start, end = date(2026, 5, 1), date(2026, 9, 30)
    cache = scoring.CountsCache()
    before = scoring.period_counts(r, ids, start, end, cache)
    assert [c.counts for c in before] == [[i + lvl for lvl in range(1, 6)] for i in range(60)]
    client = topology.real_client(r)
    moved = [uid for uid in ids[1:] if client.get_node_from_key(UnitKeys(uid).info).port
             == client.get_node_from_key(UnitKeys(ids[0]).info).port][:2]  # not the first of a call
    slots = {key_slot(UnitKeys(uid).info.encode()) for uid in [ids[0], *moved]}
    source = cluster_set.master_of(UnitKeys(ids[0]).info)
    target = next(m for m in cluster_set.live_masters() if m is not source)  # (failovers swap roles)
    try:
        for slot in slots:
            cluster_set.move_slot(slot, target)
        assert client.get_node_from_key(UnitKeys(ids[0]).info).port == source.port  # the map is old
        r.hset(UnitKeys(moved[0]).tot, "5", 1000)  # a change in a moved unit: computed on its new node
        r.incr(UnitKeys(moved[0]).version)  # (as counters.lua moves it with every count)
        after = scoring.period_counts(r, ids, start, end, cache)
        fresh = scoring.period_counts(r, ids, start, end)
        assert after == fresh and after[ids.index(moved[0])].counts[4] == 1000
        assert client.get_node_from_key(UnitKeys(ids[0]).info).port == target.port  # read anew
    finally:
        for slot in slots:
            cluster_set.move_slot(slot, source)
        for uid in ids:
            r.delete(UnitKeys(uid).info, UnitKeys(uid).tot, UnitKeys(uid).days, UnitKeys(uid).version)
