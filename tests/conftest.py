"""Fixtures: a real redis-server started by the suite, an app on a clock the test controls."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from ratingsvc import create_app
from ratingsvc.cli import main
from ratingsvc.embedded import RedisServer, RedisServerError, find_binary, free_port
from tests.console_helpers import Console, Quiet
from tests.helpers import Clock, Helper, need_binary
from tests.topology import ClusterSet, SentinelSet

START = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
PUBLIC_URL = "https://pj.caidian.gov.cn"
# Tests of other things tap many times from one address at once; the tests of limits and
# rules set their own.
GENEROUS = {f"LIMIT_{name}": "100000/minute" for name in
            ("DEFAULT_IP", "SCAN_IP", "SCAN_WINDOW", "SCAN_RATER", "RATING_IP", "API_KEY", "RATER",
             "WINDOW")}
SIGNALS_OFF: dict[str, int | str] = {f"RULE_{name}": 0 for name in
                                     ("IP_WINDOW_MAX", "BURST_MIN", "RATER_WINDOWS_MAX", "LATE_TICKET",
                                      "MIN_TAP_MS")}
SIGNALS_OFF["RULE_DEFAULT_HOURS"] = ""  # tests tap at any hour of the clock they keep


#: RATINGSVC_TEST_TOPOLOGY=cluster: the app's Redis is a cluster (make test's second pass)
ON_CLUSTER = os.environ.get("RATINGSVC_TEST_TOPOLOGY") == "cluster"


def pytest_collection_modifyitems(config, items):
    if ON_CLUSTER:
        skip = pytest.mark.skip(reason="about the suite's one redis-server, not a cluster")
        for item in items:
            if "single_redis" in item.keywords:
                item.add_marker(skip)


def pytest_report_header(config):
    binary = find_binary()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    return [f"redis-server: {binary} ({' '.join(version[2:3])})"
            + (", as a 3-master cluster" if ON_CLUSTER else ""),
            f"CI={os.environ.get('CI', '')!r}: tests needing a missing binary "
            + ("fail" if os.environ.get("CI") == "true" else "are skipped")]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    if ON_CLUSTER:  # make test's second pass: a Redis Cluster of 3 masters (tests/clusterset.py)
        redis_binary()
        cluster = ClusterSet(tmp_path_factory.mktemp("suite-cluster"), masters=3, replicas=0).start()
        for node in cluster.masters:
            with node.client() as c:
                c.config_set("appendfsync", "always")  # as in production (TAP_DURABILITY=always)
        yield cluster
        cluster.stop()
        return
    # As in production: the append-only file, fsynced before each answer (TAP_DURABILITY=always).
    server = RedisServer(tmp_path_factory.mktemp("redis"), port=free_port(), appendonly=True,
                         appendfsync="always")
    server.start()
    yield server
    server.stop()


def redis_binary() -> str:
    try:
        return find_binary()
    except RedisServerError:
        return need_binary(None, "no redis-server for a Sentinel set or a Cluster")


@pytest.fixture(scope="session")
def sentinel_set(tmp_path_factory):
    """A master, a replica and 3 sentinels watching rs-master (tests/topology.py)."""
    redis_binary()
    topology = SentinelSet(tmp_path_factory.mktemp("sentinel")).start()
    yield topology
    topology.stop()


@pytest.fixture(scope="session")
def cluster_set(tmp_path_factory):
    """A Redis Cluster of 3 masters with a replica each (tests/topology.py)."""
    redis_binary()
    topology = ClusterSet(tmp_path_factory.mktemp("cluster")).start()
    yield topology
    topology.stop()


@pytest.fixture
def clock():
    return Clock(START)


@pytest.fixture
def config(redis_server, clock):
    return {"TESTING": True, "REDIS_URL": redis_server.url, "CLOCK": clock,
            "PUBLIC_URL": PUBLIC_URL, **GENEROUS, **SIGNALS_OFF}


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    app.extensions["ratingsvc.redis"].flushdb()


@pytest.fixture
def r(app):
    return app.extensions["ratingsvc.redis"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app, redis_server):
    """Runs the `ratingsvc` command against the suite's Redis: runner.invoke(args=[...])."""
    cli = CliRunner(env={"RATINGSVC_REDIS_URL": redis_server.url})
    return SimpleNamespace(
        invoke=lambda args, env=None: cli.invoke(main, args, env=env, catch_exceptions=False))


@pytest.fixture
def h(app, r, clock):
    return Helper(app, r, clock)


@pytest.fixture
def rules(config, r, clock):
    """rules(**settings) -> a Helper on an app with those settings (the rest as in conftest)."""
    def make(**settings):
        return Helper(create_app({**config, **settings}), r, clock)
    return make


@pytest.fixture
def live(app):
    """The app on a live local server (threads), for a real browser: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def console(app, r, clock):
    """console.account(role, units) and console.login(...): see tests/console_helpers.py."""
    return Console(app, r, clock)


@pytest.fixture(scope="session")
def browser():
    path = need_binary(shutil.which("chromium") or "/usr/bin/chromium",
                       "chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def hall(h):
    """Hall with windows A and B of unit u1 (category c1); window C of u2 is in no hall."""
    h.period("p1", "2026-06-01", "2026-06-30")
    h.a, h.b, h.c = h.window("u1", "A"), h.window("u1", "B"), h.window("u2", "C")
    resp = h.client.post("/api/v1/halls", headers=h.admin,
                         json={"name": "市民之家", "windows": [h.a.id, h.b.id], "valid_minutes": 60})
    assert resp.status_code == 201, resp.json
    h.hall, h.hall_key = resp.json["hall"], resp.json["key"]
    h.hall_auth = {"Authorization": f"Bearer {h.hall_key}"}
    assert "rsh_" not in h.client.get("/api/v1/halls", headers=h.admin).get_data(as_text=True)
    return h
