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
