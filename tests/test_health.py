"""Liveness and readiness."""

from __future__ import annotations

import time

import pytest

from ratingsvc import create_app
from ratingsvc.embedded import free_port
from ratingsvc.settings import ConfigError


def test_healthz_and_readyz_with_redis_up(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.json == {"status": "ok", "redis": "ok", "durability": "server"}
    assert "Retry-After" not in ready.headers


def test_readyz_is_503_when_the_server_cannot_keep_taps_as_durably_as_asked(config, r):
    """The suite's server runs without an append-only file."""
    for durability in ("always", "waitaof"):
        c = create_app({**config, "TAP_DURABILITY": durability}).test_client()
        resp = c.get("/readyz")
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
        assert "TAP_DURABILITY=" + durability in resp.json["durability"]


def test_an_unknown_durability_is_refused_at_start(config):
    with pytest.raises(ConfigError, match="TAP_DURABILITY"):
        create_app({**config, "TAP_DURABILITY": "sometimes"})


def test_readyz_says_503_fast_when_redis_is_down_and_healthz_stays_up(config):
    c = create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    start = time.monotonic()
    resp = c.get("/readyz")
    assert time.monotonic() - start < 1.0
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert c.get("/healthz").status_code == 200
