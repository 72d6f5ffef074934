"""Liveness and readiness."""

from __future__ import annotations

import time

from ratingsvc import create_app
from ratingsvc.embedded import free_port


def test_healthz_and_readyz_with_redis_up(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok", "redis": "ok"}


def test_readyz_says_503_fast_when_redis_is_down_and_healthz_stays_up(config):
    c = create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    start = time.monotonic()
    resp = c.get("/readyz")
    assert time.monotonic() - start < 1.0
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert c.get("/healthz").status_code == 200
