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


def documented(spec: dict, method: str, template: str, status: int) -> dict:
    """The media types the document gives the answer of this status ({} for none); fails
    when the operation does not name the status."""
    responses = spec["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {template}: {status} is not documented"
    response = responses[str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response.get("content", {})


def test_every_operation_names_its_error_statuses(client):
    """No catch-all "default" answer (which names none), and the errors that all operations of
    a kind give, each in the one error shape."""
    spec = client.get("/api/v1/openapi.json").json
    error = {"schema": {"$ref": "#/components/schemas/Error"}}
    for template, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's, not an operation
                continue
            assert "default" not in operation["responses"], (method, template)
            statuses = [429, 503] + [401, 403] * ("security" in operation) + [404] * ("{" in template) \
                + [413, 415] * ("requestBody" in operation)
            for status in statuses:
                assert documented(spec, method, template, status) == {"application/json": error}


@pytest.mark.parametrize(("role", "method", "url", "body", "status", "template", "media_type"), [
    (None, "get", "/api/v1/scores?period=p1", None, 401, "/api/v1/scores", "application/json"),
    ("manager", "get", "/api/v1/units/u2", None, 403, "/api/v1/units/{uid}", "application/json"),
    ("admin", "get", "/api/v1/scores?period=nope", None, 404, "/api/v1/scores", "application/json"),
    ("admin", "get", "/api/v1/scores/changes?period=nope", None, 404, "/api/v1/scores/changes",
     "application/json"),
    ("admin", "get", "/api/v1/review?unit=nope", None, 404, "/api/v1/review", "application/json"),
    ("admin", "post", "/api/v1/units", {"id": "u9", "name": "x", "category": "nope"}, 404, "/api/v1/units",
     "application/json"),
    ("admin", "post", "/api/v1/periods", {"id": "p1", "name": "x", "start": "2026-01-01",
                                          "end": "2026-01-02"}, 409, "/api/v1/periods", "application/json"),
    ("admin", "post", "/api/v1/categories", "c9", 415, "/api/v1/categories", "application/json"),
    ("admin", "get", "/api/v1/periods/p1/result", None, 409, "/api/v1/periods/{pid}/result",
     "application/json"),
    ("admin", "post", "/api/v1/periods/p1/close", None, 409, "/api/v1/periods/{pid}/close",
     "application/json"),
    (None, "post", "/api/v1/ratings", {"ticket": "forged", "level": 5}, 403, "/api/v1/ratings",
     "application/json"),
    (None, "get", "/api/v1/scan/{revoked}", None, 410, "/api/v1/scan/{token}", "application/json"),
    ("admin", "get", "/api/v1/scores?period=p1&format=csv", None, 200, "/api/v1/scores", "text/csv"),
    ("admin", "get", "/api/v1/periods/p1/report", None, 200, "/api/v1/periods/{pid}/report",
     "application/json"),
    ("admin", "get", "/api/v1/periods/p1/report?format=csv", None, 200, "/api/v1/periods/{pid}/report",
     "text/csv"),
    ("admin", "get", "/api/v1/periods/p1/report?format=html", None, 200, "/api/v1/periods/{pid}/report",
     "text/html"),
    ("admin", "get", "/api/v1/windows/{wid}/qr.png", None, 200, "/api/v1/windows/{wid}/qr.png", "image/png"),
    ("admin", "get", "/api/v1/windows/{wid}/qr.svg", None, 200, "/api/v1/windows/{wid}/qr.svg",
     "image/svg+xml"),
    ("admin", "get", "/api/v1/windows/{wid}/poster.pdf", None, 200, "/api/v1/windows/{wid}/poster.pdf",
     "application/pdf"),
])
def test_the_document_names_what_the_api_answers(h, role, method, url, body, status, template, media_type):
    """Each of these answers, made here, is in the document, with its media type (before, the
    document named none of these statuses but through a catch-all "default", nor any of these
    media types but JSON)."""
    h.period("p1")
    win, other = h.window("u1"), h.window("u2")
    revoked = h.token(other)
    h.client.post(f"/api/v1/windows/{other.id}/revoke", headers=h.admin)
    url = url.format(wid=win.id, revoked=revoked)
    headers = h.key(role, ("u1",) if role == "manager" else ()) if role else {}
    if isinstance(body, str):  # not JSON
        resp = h.client.open(url, method=method, headers=headers, data=body, content_type="text/plain")
    else:
        resp = h.client.open(url, method=method, headers=headers, json=body)
    assert (resp.status_code, resp.mimetype) == (status, media_type), resp.data[:300]
    assert media_type in documented(h.client.get("/api/v1/openapi.json").json, method, template, status)


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
    """Refused: at once. Silent (it takes the connection and never answers): after
    REDIS_TIMEOUT for each call, here 0.3 s (a scan makes two: its limits, the window)."""
    assert_fast_503(create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}))
    with SilentServer() as port:
        assert_fast_503(create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{port}/0",
                                    "REDIS_TIMEOUT": 0.3}))


def test_a_rating_with_redis_unreachable_is_503_not_500(config, app, h):
    win = h.window()
    ticket = h.scan(win)
    down = create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    resp = down.post("/api/v1/ratings", json={"ticket": ticket, "level": 5})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
