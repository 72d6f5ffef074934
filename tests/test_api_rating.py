"""The citizen's side over HTTP: page, scan, one tap, the optional reason."""

from __future__ import annotations

import pytest

from ratingsvc import registry


@pytest.fixture
def win(h):
    return h.window("u1", "1号窗口")


def test_scan_gives_names_levels_a_ticket_and_a_device_cookie(h, win):
    resp = h.client.get(f"/api/v1/scan/{h.token(win)}")
    assert resp.status_code == 200
    body = resp.json
    assert body["unit"] == {"id": "u1", "name": "单位u1"}
    assert body["window"] == {"id": win.id, "name": "1号窗口"}
    assert [lv["level"] for lv in body["levels"]] == [5, 4, 3, 2, 1]
    assert body["levels"][0]["label"] == "非常满意" and body["levels"][-1]["label"] == "非常不满意"
    assert body["expires_in"] == 1800 and body["ticket"]
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("rs_dev=") and "HttpOnly" in cookie and "Max-Age=34560000" in cookie
    assert "Secure" in cookie and "SameSite=Lax" in cookie
    assert "Set-Cookie" not in h.client.get(f"/api/v1/scan/{h.token(win)}").headers


def test_scan_says_who_runs_the_evaluation_and_the_current_period(h, win, rules):
    body = h.client.get(f"/api/v1/scan/{h.token(win)}").json
    assert body["office"] == "示例区纠风办（演示）" and body["period"] is None  # no period yet
    assert body["now"] == "2026-06-01T10:00:00+08:00"
    h.period("p0", "2026-01-01", "2026-05-31")
    h.period("p1", "2026-06-01", "2026-06-30")
    body = h.client.get(f"/api/v1/scan/{h.token(win)}").json
    assert body["period"] == {"id": "p1", "name": "p1", "start": "2026-06-01", "end": "2026-06-30"}
    office = rules(EVALUATION_OFFICE="蔡甸区纠风办")
    assert office.client.get(f"/api/v1/scan/{h.token(win)}").json["office"] == "蔡甸区纠风办"


@pytest.mark.parametrize("case", [str.upper, str.lower])
def test_rating_page_accepts_the_path_in_any_case(h, win, case):
    token = h.token(win)
    for path in (f"/r/{case(token)}", f"/R/{case(token)}"):
        resp = h.client.get(path)
        assert resp.status_code == 200 and resp.mimetype == "text/html"
        assert "rate.js" in resp.text


def test_one_tap_counts_once_a_day_per_rater(h, win, clock):
    first = h.tap(win, 5)
    assert first.status_code == 201
    assert first.json["status"] == "counted" and first.json["rating_id"].startswith("u1.")
    again = h.tap(win, 1)
    assert again.status_code == 200 and again.json["status"] == "duplicate"
    assert h.tap(win, 4, rater=h.rater()).status_code == 201
    clock.advance(86400)
    assert h.tap(win, 3).status_code == 201
    assert h.counts() == {"5": "1", "4": "1", "3": "1", f"w{win.id}:5": "1", f"w{win.id}:4": "1",
                          f"w{win.id}:3": "1"}


def test_the_day_is_the_shanghai_calendar_day(h, win, clock):
    clock.t = 1_780_329_540  # 2026-06-01 23:59 in Shanghai (15:59 UTC)
    assert h.tap(win).status_code == 201
    clock.advance(120)  # 00:01 on the 2nd in Shanghai, still the 1st in UTC
    assert h.tap(win).status_code == 201


@pytest.mark.parametrize("body", [
    {}, {"level": 5}, {"ticket": "t"}, {"ticket": "t", "level": 0}, {"ticket": "t", "level": 6},
    {"ticket": "t", "level": "5"}, {"ticket": "t", "level": True}, {"ticket": "t", "level": 4.5},
    {"ticket": "t", "level": None}, {"ticket": 5, "level": 5}, {"ticket": "t", "level": 5, "x": 1},
    [1, 2], "five"])
def test_bad_bodies_get_400_and_count_nothing(h, win, body):
    ticket = h.scan(win)
    if isinstance(body, dict) and body.get("ticket") == "t":
        body = {**body, "ticket": ticket}
    resp = h.client.post("/api/v1/ratings", json=body)
    assert resp.status_code == 400, resp.json
    assert resp.json["error"]["code"] == "invalid_request" and resp.json["error"]["message"]
    assert h.counts() == {}


def test_a_body_that_is_not_json_gets_415_and_broken_json_400(h, win):
    resp = h.client.post("/api/v1/ratings", data="ticket=x&level=5",
                         content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415 and resp.json["error"]["code"] == "unsupported_media_type"
    resp = h.client.post("/api/v1/ratings", data="{not json", content_type="application/json")
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_request"


def test_forged_and_expired_tickets_get_403(h, win, clock):
    ticket = h.scan(win)
    forged = ticket[:-3] + ("AAA" if not ticket.endswith("AAA") else "BBB")
    resp = h.client.post("/api/v1/ratings", json={"ticket": forged, "level": 5})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "ticket_invalid"
    clock.advance(1801)
    resp = h.client.post("/api/v1/ratings", json={"ticket": ticket, "level": 5})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "ticket_expired"
    assert "重新扫码" in resp.json["error"]["message"]
    assert h.counts() == {}


def test_a_ticket_just_inside_its_age_counts(h, win, clock):
    ticket = h.scan(win)
    clock.advance(1799)
    assert h.client.post("/api/v1/ratings", json={"ticket": ticket, "level": 5}).status_code == 201


def test_idempotency_key_returns_the_first_answer(h, win, clock):
    ticket = h.scan(win)
    post = lambda level, key="tap-1": h.client.post(  # noqa: E731
        "/api/v1/ratings", json={"ticket": ticket, "level": level}, headers={"Idempotency-Key": key})
    first, retry = post(5), post(5)
    assert first.status_code == retry.status_code == 201
    assert first.json == retry.json and retry.headers["Idempotent-Replayed"] == "true"
    assert post(2).status_code == 422
    clock.advance(3600)  # the page kept the tap while offline; the ticket is stale by now
    late = post(5)
    assert late.status_code == 201 and late.json == first.json
    assert post(5, "tap-2").status_code == 403
    assert h.counts()["5"] == "1"
    bad = h.client.post("/api/v1/ratings", json={"ticket": ticket, "level": 5},
                        headers={"Idempotency-Key": "bad key!"})
    assert bad.status_code == 400


def test_revoking_after_the_scan_stops_the_tap(h, win):
    ticket = h.scan(win)
    registry.revoke_window(h.r, win.id)
    resp = h.client.post("/api/v1/ratings", json={"ticket": ticket, "level": 5})
    assert resp.status_code == 410 and resp.json["error"]["code"] == "code_revoked"
    assert h.tap(win).status_code == 201  # a scan of the new poster works


def test_details_after_a_bad_tap(h, win, clock):
    rid = h.tap(win, 1).json["rating_id"]
    url = f"/api/v1/ratings/{rid}/details"
    body = {"tags": ["public", "duty", "public"], "comment": "  等了两个小时  "}
    assert h.rater().post(url, json=body).status_code == 403  # no device cookie: not the rater
    stranger = h.rater()
    h.scan(win, stranger)
    resp = stranger.post(url, json=body)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_your_rating"
    clock.advance(600)
    assert h.client.post(url, json=body).status_code == 201
    entry = h.r.xrange(registry.UnitKeys("u1").log)[-1][1]
    assert entry["tags"] == "public,duty" and entry["c"] == "等了两个小时"
    conflict = h.client.post(url, json={"tags": ["duty"]})
    assert conflict.status_code == 409 and conflict.json["error"]["code"] == "details_exist"


def test_a_retried_reason_is_answered_as_the_first_time_and_kept_once(h, win, clock):
    rid = h.tap(win, 1).json["rating_id"]
    url = f"/api/v1/ratings/{rid}/details"
    body = {"tags": ["public"], "comment": "等了两个小时"}
    first = h.client.post(url, json=body)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    clock.advance(3600)  # the phone was offline: the retry comes after the time to add one
    again = h.client.post(url, json={"tags": ["public", "public"], "comment": " 等了两个小时 "})
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    kinds = [e["k"] for _, e in h.r.xrange(registry.UnitKeys("u1").log)]
    assert kinds.count("details") == 1


def test_details_close_after_thirty_minutes(h, win, clock):
    rid = h.tap(win, 2).json["rating_id"]
    clock.advance(1801)
    resp = h.client.post(f"/api/v1/ratings/{rid}/details", json={"tags": ["lawful"]})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "details_closed"


@pytest.mark.parametrize("body", [{}, {"tags": ["rude"]}, {"tags": [], "comment": "  "},
                                  {"comment": "x" * 501}, {"tags": "public"}, {"note": "x"}])
def test_bad_details_get_400(h, win, body):
    rid = h.tap(win, 1).json["rating_id"]
    assert h.client.post(f"/api/v1/ratings/{rid}/details", json=body).status_code == 400


@pytest.mark.parametrize("rid", ["nope", "u1.1-0", "ghost.1780000000000-0", "{x}.1-0"])
def test_details_of_unknown_ratings_get_404(h, win, rid):
    h.tap(win)
    assert h.client.post(f"/api/v1/ratings/{rid}/details", json={"comment": "x"}).status_code == 404


def test_no_raw_identifier_is_stored(h, win):
    h.tap(win, 1)
    device = h.signing.read_device_cookie(h.client.get_cookie("rs_dev").value)
    dump = []
    every = list(h.r.scan_iter())  # of every node of a cluster
    for key in every:
        kind = h.r.type(key)
        if kind == "hash":
            dump.append(str(h.r.hgetall(key)))
        elif kind == "stream":
            dump.append(str(h.r.xrange(key)))
        elif kind == "string":
            dump.append(h.r.get(key))
    assert device and len(dump) > 5 and device not in "".join(dump) + "".join(every)
