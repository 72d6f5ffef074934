"""Rate limits: per client IP (as the proxy saw it), per API key; 429 in the one error shape."""

from __future__ import annotations

import pytest
from limits import parse_many

from ratingsvc import create_app
from ratingsvc.embedded import free_port
from ratingsvc.settings import SETTINGS


@pytest.fixture
def limited(config):
    def make(**limits):
        return create_app({**config, **limits})
    return make


def test_rating_limit_per_ip_answers_429_with_headers(limited, h):
    app = limited(LIMIT_RATING_IP="3/minute")
    win = h.window()
    c = app.test_client()
    ticket = h.scan(win, c)
    answers = [c.post("/api/v1/ratings", json={"ticket": ticket, "level": 5}) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 200, 200, 429]
    refused = answers[-1]
    assert refused.json["error"]["code"] == "too_many_requests"
    assert refused.json["error"]["message"] == "操作太频繁，请稍后再试。"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "3" and refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Reset" in refused.headers
    assert "Retry-After" not in answers[0].headers


def test_a_forged_forwarded_for_does_not_make_a_fresh_bucket(limited, h):
    app = limited(LIMIT_SCAN_IP="3/minute", PROXY_HOPS=1)
    win = h.window()
    c = app.test_client()
    path = f"/api/v1/scan/{h.token(win)}"

    def scan(forged, real="203.0.113.9"):  # nginx appends the address it saw
        return c.get(path, headers={"X-Forwarded-For": f"{forged}, {real}"}).status_code

    assert [scan(f"10.0.0.{i}") for i in range(4)] == [200, 200, 200, 429]
    assert scan("10.0.0.99", real="198.51.100.7") == 200  # another real client has its own


def test_without_a_trusted_proxy_the_header_is_ignored(limited, h):
    app = limited(LIMIT_SCAN_IP="2/minute", PROXY_HOPS=0)
    win = h.window()
    c = app.test_client()
    codes = [c.get(f"/api/v1/scan/{h.token(win)}", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]


def test_management_keys_are_limited_per_key(limited, h):
    app = limited(LIMIT_API_KEY="2/minute")
    h.unit("u1")
    c = app.test_client()
    a, b = h.key("admin"), h.key("admin")
    assert [c.get("/api/v1/units", headers=a).status_code for _ in range(3)] == [200, 200, 429]
    assert c.get("/api/v1/units", headers=b).status_code == 200
    assert c.get("/api/v1/units", headers=a).json["error"]["code"] == "too_many_requests"


def test_default_ip_limits_let_a_busy_service_hall_through():
    """Hundreds of honest raters a day share one address: a scan and a tap each."""
    for name, per_hour_needed in [("LIMIT_SCAN_IP", 150), ("LIMIT_RATING_IP", 150)]:
        for limit in parse_many(SETTINGS[name][0]):
            per_hour = limit.amount * 3600 / limit.get_expiry()
            assert per_hour >= per_hour_needed, (name, str(limit))
            assert limit.amount >= 20, (name, str(limit))  # a morning rush within one window


def test_scans_are_limited_per_window_and_per_rater(limited, h):
    app = limited(LIMIT_SCAN_WINDOW="3/minute", LIMIT_SCAN_RATER="2/minute")
    a, b = h.window(name="A"), h.window(name="B")

    def scan(client, window, ip):
        return client.get(f"/api/v1/scan/{h.token(window)}",
                          headers={"X-Forwarded-For": ip}).status_code

    phone = app.test_client()  # its first scan has no cookie yet: that one is keyed by its IP
    assert [scan(phone, a, "198.51.100.1"), scan(phone, a, "198.51.100.1"),
            scan(phone, b, "198.51.100.1"), scan(phone, a, "198.51.100.1")] == [200, 200, 200, 429]
    others = [scan(app.test_client(), b, f"198.51.100.{i}") for i in range(10, 13)]
    assert others == [200, 200, 429]  # window B: 1 + 2 scans, then no more this minute
    refused = app.test_client().get(f"/api/v1/scan/{h.token(b)}")
    assert refused.json["error"]["message"] == "操作太频繁，请稍后再试。"


def test_with_redis_down_the_limiter_does_not_fail_requests(config):
    app = create_app({**config, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                      "LIMIT_DEFAULT_IP": "2/minute"})
    c = app.test_client()
    codes = [c.get("/api/v1/openapi.json").status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # limited in memory meanwhile, never a 500


@pytest.mark.single_redis
def test_a_tap_is_the_script_and_the_feeds_mark(h, r):
    """The per-IP limit on taps is counted in the worker's memory; the rest is the script, then
    the change feed's mark (rs:{feed}:dirty: not the unit's slot, so not in the script)."""
    win = h.window()
    ticket = h.scan(win)
    h.clock.advance(5)
    with r.monitor() as monitor:
        r.ping()  # the monitor holds a connection: this opens the next one before the tap
        answer = h.client.post("/api/v1/ratings", json={"ticket": ticket, "level": 5})
        r.ping()  # marks the end of what the tap sent
        sent, pings = [], 0
        for command in monitor.listen():
            if command["command"] == "PING":
                pings += 1
                if pings == 2:
                    break
            elif pings == 1 and command["client_type"] != "lua":  # script commands say lua
                sent.append(command["command"].split()[0])
    assert answer.status_code == 201
    assert sent == ["EVALSHA", "SADD"]


def test_the_tap_limit_in_memory_is_per_client_ip(limited, h):
    app = limited(LIMIT_RATING_IP="2/minute", PROXY_HOPS=1)
    win = h.window()
    c = app.test_client()

    def tap(ip):
        ticket = c.get(f"/api/v1/scan/{h.token(win)}", headers={"X-Forwarded-For": ip}).json["ticket"]
        return c.post("/api/v1/ratings", json={"ticket": ticket, "level": 5},
                      headers={"X-Forwarded-For": ip}).status_code

    assert [tap("203.0.113.1") for _ in range(3)] == [201, 200, 429]
    assert tap("203.0.113.2") == 200  # another client: its own count (the device already rated)


def test_local_counts_start_over_each_window_and_drop_ended_ones():
    from ratingsvc.limiting import LocalCounts, parsed

    counts, limits = LocalCounts(prune_at=4), parsed("2/minute;3/hour")
    t = 7200.0  # on a minute and an hour boundary
    assert [counts.hit("ip:a", limits, t) for _ in range(2)] == [None, None]
    item, wait = counts.hit("ip:a", limits, t + 1)
    assert (item.amount, wait) == (2, 59)  # over the minute's 2, 59 s before it ends
    assert counts.hit("ip:b", limits, t + 1) is None  # another address
    item, wait = counts.hit("ip:a", limits, t + 60)  # a new minute, but the hour's 3 are used
    assert (item.amount, wait) == (3, 3540)
    for i in range(3):
        counts.hit(f"ip:{i}", limits, t + 3600)  # the next hour: the old windows have ended
    assert len(counts) <= 8  # ended windows dropped, not piled up
    assert counts.hit("ip:a", limits, t + 3600) is None  # and ip:a starts over


def test_unknown_keys_count_against_the_client_address(limited, h):
    """Each made-up key was a fresh bucket: 900 requests with random keys, no 429."""
    app = limited(LIMIT_API_KEY="3/minute", PROXY_HOPS=1)
    c = app.test_client()
    ip = {"X-Forwarded-For": "198.51.100.20"}
    codes = [c.get("/api/v1/units", headers={**ip, "Authorization": f"Bearer rsk_made-up-{i}"}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    assert c.get("/api/v1/units", headers={**ip, **h.key("admin")}).status_code == 200  # a real key: its own
    other = c.get("/api/v1/units", headers={"X-Forwarded-For": "198.51.100.21",
                                            "Authorization": "Bearer rsk_made-up-x"})
    assert other.status_code == 401  # another address: its own bucket


def test_first_time_phones_meet_the_per_ip_scan_limit_not_the_per_rater_one(limited, h):
    """A hall full of new phones was refused at LIMIT_SCAN_RATER, half the documented rate."""
    app = limited(LIMIT_SCAN_IP="5/minute", LIMIT_SCAN_RATER="2/minute", PROXY_HOPS=1)
    win = h.window()
    codes = [app.test_client().get(f"/api/v1/scan/{h.token(win)}",
                                   headers={"X-Forwarded-For": "198.51.100.30"}).status_code
             for _ in range(6)]
    assert codes == [200, 200, 200, 200, 200, 429]  # LIMIT_SCAN_IP, as documented


def test_no_client_address_is_a_key_name_in_redis(limited, h, r):
    app = limited(LIMIT_SCAN_IP="50/minute", LIMIT_DEFAULT_IP="50/minute", PROXY_HOPS=1)
    win = h.window()
    c = app.test_client()
    ip = {"X-Forwarded-For": "203.0.113.77"}
    ticket = c.get(f"/api/v1/scan/{h.token(win)}", headers=ip).json["ticket"]
    h.clock.advance(5)
    assert c.post("/api/v1/ratings", json={"ticket": ticket, "level": 5}, headers=ip).status_code == 201
    c.get("/api/v1/units", headers={**ip, "Authorization": "Bearer rsk_unknown"})
    c.get("/api/v1/openapi.json", headers=ip)
    every = list(r.scan_iter())  # of every node of a cluster
    limiter_keys = [k for k in every if "rl" in k]
    assert limiter_keys  # flask-limiter did count
    assert not [k for k in every if "203.0.113" in k]


def test_the_rating_page_over_its_limit_is_a_page_not_json(limited, h):
    app = limited(LIMIT_SCAN_IP="2/minute")
    win = h.window()
    c = app.test_client()
    answers = [c.get(f"/r/{h.token(win)}") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.mimetype == "text/html" and "操作太频繁，请稍后再试。" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 60
