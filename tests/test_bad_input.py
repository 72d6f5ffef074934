"""Bad input is a clear 4xx in the one error shape, never a 500, and writes nothing."""

from __future__ import annotations

import pytest

from ratingsvc import registry
from ratingsvc.rkeys import UnitKeys
from tests.helpers import tap_from

BIG = str(2**64)  # one above the largest part of a Redis stream id


@pytest.fixture
def win(h):
    return h.window("u1", "1号窗口")


def assert_error(resp, status, code="invalid_request"):
    assert resp.status_code == status, resp.data[:300]
    assert resp.json["error"]["code"] == code and resp.json["error"]["message"]


@pytest.mark.parametrize("body", [
    "[" * 1000 + "]" * 1000,
    "[" * 60_000,
    '{"ticket": "t", "level": ' + "9" * 5000 + "}",
    '{"ticket": "t", "level": ' + "[" * 5000 + "]" * 5000 + "}",
], ids=["nested 1,000 deep", "nested 60,000 deep, unclosed", "5,000 digits", "nested in a field"])
def test_json_python_cannot_use_is_400(h, win, body):
    resp = h.client.post("/api/v1/ratings", data=body, content_type="application/json")
    assert_error(resp, 400)


def test_a_lone_surrogate_in_a_comment_is_400_and_nothing_is_saved(h, win):
    rid = h.tap(win, 1).json["rating_id"]
    body = '{"tags": ["duty"], "comment": "\\ud800 态度差"}'
    resp = h.client.post(f"/api/v1/ratings/{rid}/details", data=body, content_type="application/json")
    assert_error(resp, 400)
    assert h.r.hlen(UnitKeys("u1").det) == 0
    ok = h.client.post(f"/api/v1/ratings/{rid}/details", json={"tags": ["duty"], "comment": "态度差"})
    assert ok.status_code == 201  # the same reason without it is taken


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/v1/categories", '{"id": "c9", "name": "\\udfff"}'),
    ("post", "/api/v1/units", '{"id": "u9", "name": "x\\ud83d", "category": "c1"}'),
    ("patch", "/api/v1/units/u1", '{"name": "\\ud800"}'),
    ("post", "/api/v1/units/u1/windows", '{"name": "\\udc00"}'),
    ("post", "/api/v1/periods",
     '{"id": "p9", "name": "\\ud800", "start": "2026-01-01", "end": "2026-02-01"}'),
    ("post", "/api/v1/categories", '{"\\ud800": 1}'),
])
def test_a_lone_surrogate_in_an_admin_name_is_400_and_nothing_is_saved(h, win, method, path, body):
    before = {k: h.r.dump(k) for k in h.r.keys("*")}
    resp = getattr(h.client, method)(path, data=body, content_type="application/json", headers=h.admin)
    assert_error(resp, 400)
    assert {k: h.r.dump(k) for k in h.r.keys("*") if not k.startswith(("rs:apikeys", "LIMITS"))} == {
        k: v for k, v in before.items() if not k.startswith(("rs:apikeys", "LIMITS"))}


def test_a_lone_surrogate_in_a_review_why_is_400(rules):
    h = rules(RULE_MIN_TAP_MS=800)
    win = h.window()
    held = tap_from(h, win, wait=0.1).json["rating_id"]
    resp = h.client.post(f"/api/v1/review/{held}", data='{"action": "release", "why": "\\ud800"}',
                         content_type="application/json", headers=h.admin)
    assert_error(resp, 400)
    assert h.client.get("/api/v1/review/decisions", headers=h.admin).json == []


@pytest.mark.parametrize("cursor", [f"{BIG}-0", f"0-{BIG}", "9" * 30 + "-1", "١٢-٣", "1-", "-1", " 1-1"])
def test_a_cursor_redis_would_refuse_is_400(h, cursor):
    h.period("p1")
    scorer = h.key("scorer")
    assert_error(h.client.get(f"/api/v1/scores/changes?period=p1&after={cursor}", headers=scorer), 400)
    stream = h.client.get("/api/v1/scores/changes?period=p1", headers={
        **scorer, "Accept": "text/event-stream", "Last-Event-ID": cursor})
    assert_error(stream, 400)  # not a stream that breaks, which an EventSource would retry for ever


def test_the_largest_stream_id_redis_takes_is_a_cursor(h):
    h.period("p1")
    resp = h.client.get(f"/api/v1/scores/changes?period=p1&after={2**64 - 1}-{2**64 - 1}",
                        headers=h.key("scorer"))
    assert resp.status_code == 200 and resp.json["changes"] == []


@pytest.mark.parametrize("stream_id", [f"{BIG}-0", f"1-{BIG}", "١-١"])
def test_a_rating_id_redis_would_refuse_is_404(h, win, stream_id):
    resp = h.client.post(f"/api/v1/ratings/u1.{stream_id}/details", json={"comment": "x"})
    assert_error(resp, 404, "unknown_rating")
    resp = h.client.post(f"/api/v1/review/u1.{stream_id}", json={"action": "reject", "why": "x"},
                         headers=h.admin)
    assert_error(resp, 404, "unknown_rating")


def test_a_body_over_the_limit_is_413_before_it_is_parsed(h, win):
    resp = h.client.post("/api/v1/ratings", data=b'{"ticket": "' + b"x" * 70_000 + b'", "level": 5}',
                         content_type="application/json")
    assert_error(resp, 413, "body_too_large")
    assert registry.UnitKeys("u1").tot not in h.r.keys("*")


@pytest.mark.parametrize("path", ["/r/ABC/DEF", "/R/ABC/", "/r/%E4%BD%A0/x", "/r/", "/R/"])
def test_a_token_with_a_slash_gets_the_friendly_page(h, path):
    resp = h.client.get(path)
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "二维码无效" in resp.text


@pytest.mark.parametrize(("start", "end"), [("2026-01-01", "9999-12-31"), ("0999-01-01", "2026-12-31")],
                         ids=["no day after the end", "a year of three digits"])
def test_a_period_whose_days_cannot_be_keyed_is_400(h, start, end):
    """9999-12-31 has no next day (the scores of such a period were a 500); the days of a
    three-digit year do not sort as text among the others (its change feed missed them)."""
    resp = h.client.post("/api/v1/periods", headers=h.admin,
                         json={"id": "p9", "name": "p9", "start": start, "end": end})
    assert_error(resp, 400)
    assert h.client.get("/api/v1/scores?period=p9", headers=h.admin).status_code == 404
