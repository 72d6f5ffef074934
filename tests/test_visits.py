"""Proof of visit: the token algorithm and its test vector, offline and online issue, single
use whatever phone, validity, kiosk openings, SMS links, the poster policy, volumes and the
statistics by channel, live and once the period is closed."""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ratingsvc import visits
from ratingsvc.signing import BadToken
from tests.helpers import PHONE, Helper

ROOT = Path(__file__).resolve().parent.parent
# README "Visit tokens": the test vector
VECTOR_KEY = bytes(range(32))
VECTOR_KEY_TEXT = "rsh_3_AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ"
VECTOR = dict(hall=3, window=17, issued=1780000000, device=1, serial=42)
VECTOR_BODY = "0154031180cae2d006012a"
VECTOR_MAC = "58a2f33bdd0e267325b4"
VECTOR_TOKEN = "AFKAGEMAZLRNABQBFJMKF4Z33UHCM4ZFWQ"
HEADERS = {"User-Agent": PHONE, "X-Forwarded-For": "203.0.113.7"}


def reference():
    spec = importlib.util.spec_from_file_location("visit_token", ROOT / "examples" / "visit_token.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_test_vector_in_the_server_and_in_the_reference_implementation():
    ref = reference()
    assert ref.hall_key(VECTOR_KEY_TEXT) == (3, VECTOR_KEY)
    assert visits.parse_key(VECTOR_KEY_TEXT) == (3, VECTOR_KEY)
    made = ref.make_token(VECTOR_KEY, **VECTOR)
    assert made == VECTOR_TOKEN == visits.make_token(VECTOR_KEY, **VECTOR)
    raw = base64.b32decode(VECTOR_TOKEN + "=" * (-len(VECTOR_TOKEN) % 8))
    assert raw[:-10].hex() == VECTOR_BODY and raw[-10:].hex() == VECTOR_MAC
    vt, _, _ = visits.parse_token(VECTOR_TOKEN.lower())
    assert (vt.channel, vt.hall, vt.window, vt.issued, vt.device, vt.serial) == (
        "visit", 3, 17, 1780000000, 1, 42)
    script = str(ROOT / "examples" / "visit_token.py")
    run = subprocess.run([sys.executable, script, VECTOR_KEY_TEXT, "17", "42", "1780000000"],
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == VECTOR_TOKEN  # the reference, as a queue machine runs it
    sms = visits.make_token(VECTOR_KEY, channel="sms", **VECTOR)
    assert ref.make_token(VECTOR_KEY, channel="M", **VECTOR) == sms != VECTOR_TOKEN


@pytest.mark.parametrize("bad", ["", "A", VECTOR_TOKEN[:-1], VECTOR_TOKEN + "A", VECTOR_TOKEN + "=",
                                 "0" + VECTOR_TOKEN[1:], "!" * 34])
def test_malformed_tokens_are_refused(bad):
    with pytest.raises(BadToken):
        visits.parse_token(bad)


def offline(h, window, serial, *, issued=None, channel="T", key=None):
    """A token as a queue machine makes it, offline, with the reference implementation."""
    hid, secret = reference().hall_key(key or h.hall_key)
    return reference().make_token(secret, hall=hid, window=window.id, issued=int(issued or h.clock()),
                                  serial=serial, device=1, channel=channel)


def rate(h, token, level=5, phone=None):
    phone = phone or h.rater()
    page = phone.get(f"/V/{token}", headers=HEADERS)
    scan = phone.get(f"/api/v1/visit/{token}", headers=HEADERS)
    if scan.status_code != 200:
        return page, scan
    h.clock.advance(5)
    return page, phone.post("/api/v1/ratings", json={"ticket": scan.json["ticket"], "level": level},
                            headers=HEADERS)


def score(h, uid="u1"):
    resp = h.client.get(f"/api/v1/units/{uid}/score?period=p1", headers=h.admin)
    assert resp.status_code == 200, resp.json
    return resp.json


def test_an_offline_token_counts_once_whoever_sends_it(hall):
    token = offline(hall, hall.a, 1)
    page, first = rate(hall, token, 5)
    assert page.status_code == 200 and b"<html" in page.data
    assert first.status_code == 201, first.json
    _, again = rate(hall, token, 1)  # another phone, the same ticket: the first rating stands
    assert again.status_code == 200 and again.json["status"] == "duplicate" and again.json["level"] == 5
    _, second = rate(hall, offline(hall, hall.a, 2), 4)  # the next service
    assert second.status_code == 201
    row = score(hall)
    assert row["n"] == 2 and row["channels"]["visit"]["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert "poster" not in row["channels"]
    assert hall.client.get(f"/api/v1/visit/{token}").json["channel"] == "visit"


def test_a_token_outside_its_validity_or_its_hall_counts_nothing(hall, clock):
    expired = offline(hall, hall.a, 1, issued=clock() - 61 * 60)
    page, scan = rate(hall, expired)
    assert page.status_code == 410 and scan.status_code == 410
    assert scan.json["error"]["code"] == "visit_expired"
    assert "过期" in page.data.decode()
    early = offline(hall, hall.a, 2, issued=clock() + 3600)
    assert rate(hall, early)[1].status_code == 404
    other_window = offline(hall, hall.c, 3)  # signed by the hall, for a window not in it
    assert rate(hall, other_window)[1].json["error"]["code"] == "invalid_code"
    forged = offline(hall, hall.a, 4, key="rsh_1_" + base64.b32encode(bytes(32)).decode().rstrip("="))
    assert rate(hall, forged)[1].status_code == 404
    # scanned in time, tapped after the validity ends: not counted
    late = offline(hall, hall.a, 5, issued=clock() - 60 * 60 + 2)
    phone = hall.rater()
    ticket = phone.get(f"/api/v1/visit/{late}", headers=HEADERS).json["ticket"]
    clock.advance(10)
    resp = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 5}, headers=HEADERS)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "ticket_expired"
    assert score(hall)["n"] == 0
    # a new key: tokens of the old one stop
    token = offline(hall, hall.a, 6)
    assert hall.client.post(f"/api/v1/halls/{hall.hall['id']}/key", headers=hall.admin).status_code == 200
    assert rate(hall, token)[1].status_code == 404


def test_the_queue_api_issues_tokens_and_sms_links_with_the_halls_key(hall):
    hid = hall.hall["id"]
    resp = hall.client.post(f"/api/v1/halls/{hid}/tokens", headers=hall.hall_auth, json={"window": hall.a.id})
    assert resp.status_code == 201, resp.json
    answer = resp.json
    assert answer["url"].endswith("/V/" + answer["token"])
    assert answer["qr_svg"].startswith("data:image/svg+xml")
    assert rate(hall, answer["token"], 5)[1].status_code == 201
    sms = hall.client.post(f"/api/v1/halls/{hid}/tokens", headers=hall.hall_auth,
                           json={"window": hall.b.id, "channel": "sms"}).json["token"]
    assert rate(hall, sms, 2)[1].status_code == 201
    row = score(hall)
    assert row["channels"]["visit"]["rated"] == 1 and row["channels"]["sms"]["counts"]["2"] == 1
    # the wrong key, no key, another hall's window
    wrong = {"Authorization": f"Bearer rsh_{hid}_{base64.b32encode(bytes(32)).decode().rstrip('=')}"}
    assert hall.client.post(f"/api/v1/halls/{hid}/tokens", headers=wrong,
                            json={"window": hall.a.id}).status_code == 401
    assert hall.client.post(f"/api/v1/halls/{hid}/tokens", json={"window": hall.a.id}).status_code == 401
    assert hall.client.post(f"/api/v1/halls/{hid}/tokens", headers=hall.admin,
                            json={"window": hall.a.id}).status_code == 401  # an API key is no hall key
    resp = hall.client.post(f"/api/v1/halls/{hid}/tokens", headers=hall.hall_auth, json={"window": hall.c.id})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "window_not_in_hall"
    # a window is in one hall at most
    resp = hall.client.post("/api/v1/halls", headers=hall.admin, json={"name": "二", "windows": [hall.a.id]})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "window_in_other_hall"


def test_a_kiosk_opens_for_one_tap_for_30_seconds(hall, clock):
    hid = hall.hall["id"]
    link = hall.client.get(f"/api/v1/windows/{hall.a.id}/kiosk", headers=hall.admin).json["url"]
    code = link.rsplit("/", 1)[1]
    kiosk = hall.rater()
    assert kiosk.get(f"/K/{code}").status_code == 200
    assert kiosk.get(f"/K/{code}x").status_code == 404
    assert kiosk.get(f"/api/v1/kiosk/{code}").json["open"] is False
    opened = hall.client.post(f"/api/v1/halls/{hid}/kiosk", headers=hall.hall_auth,
                              json={"window": hall.a.id})
    assert opened.status_code == 200 and opened.json["seconds"] == 30
    state = kiosk.get(f"/api/v1/kiosk/{code}").json
    assert state["open"] and state["unit"]["id"] == "u1"
    _, tapped = rate(hall, state["token"], 3, phone=kiosk)
    assert tapped.status_code == 201
    assert kiosk.get(f"/api/v1/kiosk/{code}").json["open"] is False  # used
    # the next opening, not used within 30 seconds: its taps count nothing
    hall.client.post(f"/api/v1/halls/{hid}/kiosk", headers=hall.hall_auth, json={"window": hall.a.id})
    token = kiosk.get(f"/api/v1/kiosk/{code}").json["token"]
    ticket = kiosk.get(f"/api/v1/visit/{token}", headers=HEADERS).json["ticket"]
    clock.advance(31)
    resp = kiosk.post("/api/v1/ratings", json={"ticket": ticket, "level": 5}, headers=HEADERS)
    assert resp.status_code == 403
    row = score(hall)
    assert row["n"] == 1 and row["channels"]["kiosk"]["counts"]["3"] == 1


def test_the_category_may_hold_poster_taps_where_visit_tokens_exist(hall):
    def poster_tap(window):
        phone = hall.rater()
        ticket = phone.get(f"/api/v1/scan/{hall.token(window)}", headers=HEADERS).json["ticket"]
        hall.clock.advance(5)
        return phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 5}, headers=HEADERS)

    assert poster_tap(hall.a).status_code == 201  # counted as today
    resp = hall.client.patch("/api/v1/categories/c1", headers=hall.admin, json={"poster_taps": "hold"})
    assert resp.status_code == 200 and resp.json["poster_taps"] == "hold"
    held = poster_tap(hall.a)
    assert held.status_code == 202 and held.json["status"] == "held"
    review = hall.client.get("/api/v1/review", headers=hall.admin).json
    assert any("poster" in t["reasons"] for t in review["taps"])
    hall.unit("u3", "c1")
    elsewhere = hall.window("u3", "D")  # no hall: no visit token to prefer
    assert poster_tap(elsewhere).status_code == 201
    assert rate(hall, offline(hall, hall.a, 9))[1].status_code == 201  # a token still counts
    assert hall.client.patch("/api/v1/categories/c1", headers=hall.admin,
                             json={"poster_taps": "never"}).status_code == 400


def test_volumes_and_the_statistics_on_a_known_data_set(hall, tmp_path):
    # u1: 8 counted (poster 5,5,4,1; visit 3,3; sms 2; kiosk 5), 20 services over two days
    for level in (5, 5, 4, 1):
        phone = hall.rater()
        ticket = phone.get(f"/api/v1/scan/{hall.token(hall.a)}", headers=HEADERS).json["ticket"]
        hall.clock.advance(5)
        resp = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": level}, headers=HEADERS)
        assert resp.status_code == 201
    for serial, level in ((1, 3), (2, 3)):
        assert rate(hall, offline(hall, hall.b, serial), level)[1].status_code == 201
    assert rate(hall, offline(hall, hall.b, 3, channel="M"), 2)[1].status_code == 201
    hid = hall.hall["id"]
    hall.client.post(f"/api/v1/halls/{hid}/kiosk", headers=hall.hall_auth, json={"window": hall.a.id})
    link = hall.client.get(f"/api/v1/windows/{hall.a.id}/kiosk", headers=hall.admin).json["url"]
    code = link.rsplit("/", 1)[1]
    token = hall.client.get(f"/api/v1/kiosk/{code}").json["token"]
    assert rate(hall, token, 5)[1].status_code == 201
    hall.clock.advance(86400)  # 2 June: the volumes of the 1st and of today
    rows = [{"window": hall.a.id, "day": "2026-06-01", "services": 9},
            {"window": hall.b.id, "day": "2026-06-01", "services": 7},
            {"window": hall.a.id, "day": "2026-06-02", "services": 4}]
    resp = hall.client.post("/api/v1/volumes", headers=hall.admin, json={"rows": rows})
    assert resp.status_code == 200 and resp.json == {"rows": 3, "units": 1, "days": 2, "moved": 20, "held": 0}
    # sent again, the same: replaces, adds nothing
    assert hall.client.post("/api/v1/volumes", headers=hall.admin, json={"rows": rows}).json["moved"] == 0
    row = score(hall)
    assert row["stats"] == {"volume": 20, "rated": 8, "good_rate": 0.75, "bad_rate": 0.25,
                            "participation": 0.4, "unrated": 0.6}
    ch = row["channels"]
    assert ch["poster"]["counts"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2}
    assert ch["poster"]["good_rate"] == 0.75 and ch["poster"]["participation"] == 0.2
    assert ch["visit"]["good_rate"] == 1.0 and ch["visit"]["participation"] == 0.1
    assert ch["sms"]["bad_rate"] == 1.0 and ch["kiosk"]["rated"] == 1
    assert sum(c["rated"] for c in ch.values()) == row["n"]
    # the hall's queue system may send its own windows' volumes only
    resp = hall.client.post(f"/api/v1/halls/{hid}/volumes", headers=hall.hall_auth,
                            json={"rows": [{"window": hall.c.id, "day": "2026-06-01", "services": 3}]})
    assert resp.status_code == 409
    resp = hall.client.post(f"/api/v1/halls/{hid}/volumes", headers=hall.hall_auth,
                            json={"rows": [{"window": hall.a.id, "day": "2026-06-02", "services": 14}]})
    assert resp.status_code == 200 and resp.json["moved"] == 10
    assert score(hall)["stats"]["volume"] == 30
    bad = hall.client.post("/api/v1/volumes", headers=hall.admin,
                           json={"rows": [{"window": 99999, "day": "2026-06-01", "services": 3}]})
    assert bad.status_code == 404 and score(hall)["stats"]["volume"] == 30  # nothing written


def test_a_closed_periods_result_keeps_the_channels_and_statistics(config, r, clock, tmp_path, runner):
    from ratingsvc import create_app

    h = Helper(create_app({**config, "EXPORT_DIR": str(tmp_path)}), r, clock)
    h.period("p1", "2026-06-01", "2026-06-01")
    a = h.window("u1", "A")
    resp = h.client.post("/api/v1/halls", headers=h.admin, json={"name": "厅", "windows": [a.id]})
    h.hall_key = resp.json["key"]
    phone = h.rater()
    ticket = phone.get(f"/api/v1/scan/{h.token(a)}", headers=HEADERS).json["ticket"]
    clock.advance(5)
    phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 4}, headers=HEADERS)
    assert rate(h, offline(h, a, 1), 5)[1].status_code == 201
    h.client.post("/api/v1/volumes", headers=h.admin,
                  json={"rows": [{"window": a.id, "day": "2026-06-01", "services": 5}]})
    live = score(h)
    clock.advance(86400)
    assert h.client.post("/api/v1/periods/p1/close", headers=h.admin).status_code == 201
    frozen = score(h)
    assert frozen["stats"] == live["stats"] and frozen["channels"] == live["channels"]
    assert frozen["stats"]["participation"] == 0.4
    export = (tmp_path / "p1.jsonl").read_text().splitlines()
    kinds = [json.loads(line).get("kind", json.loads(line).get("channel", "poster")) for line in export]
    assert kinds == ["poster", "visit", "volume"]
    ok = runner.invoke(["verify", str(tmp_path / "p1.jsonl")])
    assert ok.exit_code == 0, ok.output
    inflated = json.loads(export[2])
    inflated["services"] = 50  # someone inflates the volume
    export[2] = json.dumps(inflated, ensure_ascii=False, sort_keys=True)
    (tmp_path / "p1.jsonl").write_text("\n".join(export) + "\n")
    bad = runner.invoke(["verify", str(tmp_path / "p1.jsonl")])
    assert bad.exit_code != 0 and "line 3 (unit u1): the chain breaks here" in bad.output
    assert "unit u1: stats" in bad.output


def test_the_feed_carries_the_channels_and_a_volume_import(hall):
    scorer = hall.key("scorer")
    assert rate(hall, offline(hall, hall.a, 1), 5)[1].status_code == 201
    hall.client.post("/api/v1/volumes", headers=hall.admin,
                     json={"rows": [{"window": hall.a.id, "day": "2026-06-01", "services": 4}]})
    changes = hall.client.get("/api/v1/scores/changes?period=p1&after=0", headers=scorer).json["changes"]
    assert [c["kind"] for c in changes] == ["counted", "volume"]
    assert changes[0]["score"]["channels"]["visit"]["rated"] == 1
    assert changes[1]["day"] == "2026-06-01" and changes[1]["score"]["stats"]["participation"] == 0.25


def test_a_kiosk_link_stops_with_the_windows_code_and_kiosk_taps_are_not_one_address(hall, clock):
    hid = hall.hall["id"]
    url = hall.client.get(f"/api/v1/windows/{hall.a.id}/kiosk", headers=hall.admin).json["url"]
    code = url.rsplit("/", 1)[1]
    kiosk = hall.rater()
    # many services in a row at one window, all from the kiosk's one address: all counted
    for _ in range(12):
        hall.client.post(f"/api/v1/halls/{hid}/kiosk", headers=hall.hall_auth, json={"window": hall.a.id})
        token = kiosk.get(f"/api/v1/kiosk/{code}").json["token"]
        assert rate(hall, token, 4, phone=kiosk)[1].status_code == 201
    # revoking the window's code stops its kiosk link too
    assert hall.client.post(f"/api/v1/windows/{hall.a.id}/revoke", headers=hall.admin).status_code == 200
    resp = kiosk.get(f"/api/v1/kiosk/{code}")
    assert resp.status_code == 410 and resp.json["error"]["code"] == "kiosk_revoked"
    assert kiosk.get(f"/K/{code}").status_code == 410
    fresh = hall.client.get(f"/api/v1/windows/{hall.a.id}/kiosk", headers=hall.admin).json["url"]
    assert fresh != url and kiosk.get(fresh.replace("http://localhost", "")).status_code == 200


def test_two_services_by_token_then_a_poster_elsewhere_is_no_multi_window_hold(rules, clock):
    from tests.helpers import Helper

    h = rules(RULE_RATER_WINDOWS_MAX=2)
    assert isinstance(h, Helper)
    h.period("p1", "2026-06-01", "2026-06-30")
    a, b, c = h.window("u1", "A"), h.window("u1", "B"), h.window("u1", "C")
    resp = h.client.post("/api/v1/halls", headers=h.admin, json={"name": "厅", "windows": [a.id, b.id]})
    h.hall_key = resp.json["key"]
    phone = h.rater()
    assert rate(h, offline(h, a, 1), 5, phone=phone)[1].status_code == 201
    assert rate(h, offline(h, b, 2), 5, phone=phone)[1].status_code == 201
    ticket = phone.get(f"/api/v1/scan/{h.token(c)}", headers=HEADERS).json["ticket"]
    clock.advance(5)
    resp = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 5}, headers=HEADERS)
    assert resp.status_code == 201, resp.json  # the tokens were services, not windows rated


def test_volumes_for_days_to_come_or_of_a_closed_period_are_refused(config, r, clock, tmp_path):
    from ratingsvc import create_app
    from tests.helpers import Helper

    h = Helper(create_app({**config, "EXPORT_DIR": str(tmp_path)}), r, clock)
    h.period("p0", "2026-05-01", "2026-05-31")
    a = h.window("u1", "A")
    assert h.client.post("/api/v1/periods/p0/close", headers=h.admin).status_code == 201
    for day in ("2026-06-02", "2026-05-20"):  # tomorrow (clock: 1 June); in closed p0
        rows = [{"window": a.id, "day": "2026-06-01", "services": 3},
                {"window": a.id, "day": day, "services": 3}]
        resp = h.client.post("/api/v1/volumes", headers=h.admin, json={"rows": rows})
        assert resp.status_code == 409 and resp.json["error"]["code"] == "volumes_refused"
    assert not r.exists("rs:{u.u1}:day:20260601")  # nothing written
    # a file with a number too big or not finite: the line, not a 500
    from ratingsvc import volumes
    from ratingsvc.tablefile import TableError, read_table

    for bad in ("inf", "1e999", "2000000"):
        with pytest.raises(TableError, match="第 2 行"):
            volumes.from_table(read_table(f"window,day,services\n{a.id},2026-06-01,{bad}\n".encode()))
