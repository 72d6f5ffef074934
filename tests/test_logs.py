"""JSON request logs with a request id; no tokens, no raw addresses."""

from __future__ import annotations

import json
import logging

from ratingsvc.logs import JsonFormatter


def test_each_request_logs_its_route_and_id_without_tokens_or_addresses(h, caplog):
    win = h.window()
    token = h.token(win)
    with caplog.at_level(logging.INFO, logger="ratingsvc.access"):
        resp = h.client.get(f"/api/v1/scan/{token}", headers={"X-Request-Id": "req-12345678"})
        other = h.client.get("/healthz", headers={"X-Request-Id": "bad id!"})
    assert resp.headers["X-Request-Id"] == "req-12345678"
    assert len(other.headers["X-Request-Id"]) == 16  # a bad one is replaced
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "ratingsvc.access"]
    first = json.loads(lines[0])
    assert first["rid"] == "req-12345678" and first["route"] == "/api/v1/scan/<token>"
    assert first["status"] == 200 and first["msg"] == "request" and len(first["ip"]) == 16
    assert token not in "".join(lines) and "127.0.0.1" not in "".join(lines)


def test_a_500_is_logged_with_its_type_traceback_and_request_id(app, caplog):
    """It was one line, "unhandled error", with none of the three."""

    @app.route("/boom")
    def boom():
        raise KeyError("the bug")

    with caplog.at_level(logging.ERROR, logger="ratingsvc.errors"):
        resp = app.test_client().get("/boom", headers={"X-Request-Id": "req-87654321"})
    assert resp.status_code == 500 and resp.json["error"]["code"] == "internal"
    [record] = [r for r in caplog.records if r.name == "ratingsvc.errors"]
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "unhandled error" and line["exc"] == "KeyError"
    assert line["rid"] == "req-87654321" and line["route"] == "/boom"
    assert "Traceback" in line["traceback"] and "the bug" in line["traceback"]
