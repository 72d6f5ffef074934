"""The API contract: OpenAPI from the schemas, one error shape, 503 when Redis is away."""

from __future__ import annotations

import socket
import time

import pytest

from ratingsvc import create_app
from ratingsvc.embedded import free_port


def test_openapi_is_generated_from_the_schemas(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.json
    assert spec["openapi"].startswith("3.")
    for path in ["/api/v1/scan/{token}", "/api/v1/ratings", "/api/v1/ratings/{rating_id}/details",
                 "/api/v1/units", "/api/v1/windows/{wid}/qr.png", "/api/v1/windows/{wid}/revoke",
                 "/api/v1/scores", "/api/v1/units/{uid}/score", "/api/v1/periods"]:
        assert path in spec["paths"], path
    rating = spec["components"]["schemas"]["Rating"]
    assert rating["required"] == ["level", "ticket"]
    assert rating["properties"]["level"]["minimum"] == 1 and rating["properties"]["level"]["maximum"] == 5
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert spec["paths"]["/api/v1/scores"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/v1/ratings"]["post"]
    assert "Error" in spec["components"]["schemas"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/api/v1/nowhere", 404), ("delete", "/api/v1/ratings", 405),
    ("get", "/api/v1/windows/not-a-number", 404), ("get", "/nowhere", 404)])
def test_framework_errors_have_the_one_shape(client, method, path, status):
    resp = getattr(client, method)(path)
    assert resp.status_code == status
    assert set(resp.json) == {"error"} and set(resp.json["error"]) >= {"code", "message"}


class SilentServer:
    """A TCP port that accepts connections and never answers."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def assert_fast_503(app):
    client = app.test_client()
    token = app.extensions["ratingsvc.signing"].qr_token(1, 1)
    for path, headers in [(f"/api/v1/scan/{token}", {}), (f"/r/{token}", {}),
                          ("/api/v1/units", {"Authorization": "Bearer rsk_x"})]:
        start = time.monotonic()
        resp = client.get(path, headers=headers)
        assert time.monotonic() - start < 1.0, path
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "1", path
        if path.startswith("/r/"):
            assert "服务繁忙" in resp.text
        else:
            assert resp.json["error"]["code"] == "unavailable"
    start = time.monotonic()
    resp = client.post("/api/v1/ratings", json={"ticket": "x", "level": 5})
    assert resp.status_code == 403 and time.monotonic() - start < 1.0  # refused before Redis


def test_redis_unreachable_gives_503_within_a_second(config):
    assert_fast_503(create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}))
    with SilentServer() as port:
        assert_fast_503(create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}))


def test_a_rating_with_redis_unreachable_is_503_not_500(config, app, h):
    win = h.window()
    ticket = h.scan(win)
    down = create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    resp = down.post("/api/v1/ratings", json={"ticket": ticket, "level": 5})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
