"""Hard rules refuse, signals hold: each rule on its own, on a real Redis, through the API."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ratingsvc import registry
from tests.helpers import PHONE, tap_from


def ip_hash(h, ip):
    """An address as it is stored: its keyed hash."""
    return h.app.extensions["ratingsvc.signing"].person_hash("ip", ip)


def statuses(responses):
    return [resp.json.get("status") or resp.json["error"]["code"] for resp in responses]


def held_reasons(h, unit="u1"):
    return sorted(v.split("|")[2] for v in h.r.hgetall(registry.UnitKeys(unit).held).values())


def test_a_ticket_counts_once_whatever_the_idempotency_key(h):
    win = h.window()
    ticket = h.scan(win)
    answers = [h.client.post("/api/v1/ratings", json={"ticket": ticket, "level": 5},
                             headers={"Idempotency-Key": f"k{i}"}) for i in range(5)]
    assert statuses(answers) == ["counted"] + ["duplicate"] * 4
    assert h.counts()["5"] == "1"


def test_rater_limit_refuses_inside_the_script_and_records_nothing(rules):
    h = rules(LIMIT_RATER="3/hour")
    win = h.window()
    phone = h.rater()
    answers = [tap_from(h, win, rater=phone) for _ in range(4)]
    assert statuses(answers) == ["counted", "duplicate", "duplicate", "too_many_taps"]
    assert answers[-1].status_code == 429 and 0 < int(answers[-1].headers["Retry-After"]) <= 3601
    assert len(h.r.xrange(registry.UnitKeys("u1").log)) == 3
    assert tap_from(h, win).status_code == 201  # another phone is not limited


def test_window_limit_refuses_a_flood(rules):
    h = rules(LIMIT_WINDOW="2/minute")
    win, other = h.window(name="A"), h.window(name="B")
    answers = [tap_from(h, win, ip=f"198.51.100.{i}", wait=1) for i in range(3)]
    assert statuses(answers) == ["counted", "counted", "too_many_taps"]
    assert tap_from(h, other, wait=1).status_code == 201


def test_taps_outside_opening_hours_are_held(rules, clock):
    h = rules(RULE_HOURS_GRACE=60)
    win = h.window()
    resp = h.client.patch(f"/api/v1/windows/{win.id}", headers=h.admin,
                          json={"hours": {"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00", "14:00-17:30"]}})
    assert resp.status_code == 200 and resp.json["hours"]["open"] == ["08:30-12:00", "14:00-17:30"]
    monday = clock.t - 10 * 3600  # 2026-06-01 00:00 in Shanghai, a Monday
    plan = [(10 * 60, 201), (7 * 60 + 31, 201), (18 * 60 + 29, 201), (18 * 60 + 32, 202),
            (13 * 60, 201), (23 * 60, 202), (5 * 24 * 60 + 10 * 60, 202)]  # the last: Saturday
    for minute, expected in plan:
        clock.t = monday + minute * 60 - 5
        assert tap_from(h, win).status_code == expected, minute
    assert held_reasons(h) == ["hours"] * 3


@pytest.mark.parametrize("hours", [{"days": [8], "open": ["08:00-12:00"]},
                                   {"days": [1], "open": ["12:00-08:00"]},
                                   {"days": [1], "open": ["8:00-12:00"]}, {"days": [], "open": []}])
def test_bad_opening_hours_get_400(h, hours):
    win = h.window()
    resp = h.client.patch(f"/api/v1/windows/{win.id}", headers=h.admin, json={"hours": hours})
    assert resp.status_code == 400


def test_many_raters_from_one_ip_on_one_window_are_held_while_it_goes_on(rules, clock):
    h = rules(RULE_IP_WINDOW_MAX=3, RULE_IP_FLAG_MINUTES=120)
    win, other = h.window(name="A"), h.window(name="B")
    first = statuses(tap_from(h, win, ip="203.0.113.7", wait=60) for _ in range(5))
    assert first == ["counted"] * 3 + ["held"] * 2
    assert statuses([tap_from(h, other, ip="203.0.113.7")]) == ["counted"]
    assert statuses([tap_from(h, win, ip="203.0.113.8")]) == ["counted"]
    # a slow trickle (a busy hall after one busy spell) does not renew the flag: held while
    # it lasts, counted once it has passed
    clock.advance(100 * 60)
    assert statuses([tap_from(h, win, ip="203.0.113.7")]) == ["held"]
    clock.advance(25 * 60)
    assert statuses([tap_from(h, win, ip="203.0.113.7")]) == ["counted"]
    # a bot that keeps going trips it again, and stays held while it goes on
    again = statuses(tap_from(h, win, ip="203.0.113.7", wait=30) for _ in range(6))
    assert again == ["counted"] * 2 + ["held"] * 4
    assert set(held_reasons(h)) == {"ip_window"}


def test_a_burst_far_above_the_windows_own_rate_is_held(rules, clock):
    h = rules(RULE_BURST_MIN=4, RULE_BURST_FACTOR=3.0)
    win = h.window()
    burst = statuses(tap_from(h, win, ip=f"198.51.100.{i}", wait=10) for i in range(6))
    assert burst == ["counted"] * 4 + ["held"] * 2
    assert set(held_reasons(h)) == {"burst"}


def test_a_busy_windows_own_rate_raises_its_burst_threshold(rules, clock):
    h = rules(RULE_BURST_MIN=4, RULE_BURST_FACTOR=3.0)
    win = h.window()
    # A day of 3 new raters every 20 minutes: 9 an hour, 216 a day.
    h.r.hset(registry.UnitKeys("u1").hourly("20260531"), mapping={f"{win.id}:{hr}": 9 for hr in range(24)})
    h.r.hset(registry.UnitKeys("u1").hourly("20260601"), mapping={f"{win.id}:{hr}": 9 for hr in range(10)})
    # threshold: max(4, 3 x 216 / 72) = 9 in 10-20 minutes
    assert statuses(tap_from(h, win, ip=f"198.51.100.{i}", wait=10) for i in range(10)) == \
        ["counted"] * 9 + ["held"]


def test_one_visit_may_rate_two_windows_a_third_is_held_with_both(rules, clock):
    """受理 then 缴费: a citizen served at two windows in one visit rates both; a third window,
    or a second one after the visit, holds the tap and the rater's counted taps of the day."""
    h = rules(RULE_RATER_WINDOWS_MAX=1, RULE_VISIT_WINDOWS=2, RULE_VISIT_MINUTES=90)
    h.period("p1")
    a, b, c = h.window(name="A"), h.window(name="B"), h.window(name="C")
    phone = h.rater()
    assert statuses([tap_from(h, a, rater=phone)]) == ["counted"]
    clock.advance(30 * 60)
    assert statuses([tap_from(h, b, rater=phone)]) == ["counted"]  # the same visit
    clock.advance(5 * 60)
    assert statuses([tap_from(h, c, rater=phone)]) == ["held"]  # a third window
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"]) == (0, 3)
    assert held_reasons(h) == ["multi_window"] * 3
    # another phone: a second window after its visit is over
    other = h.rater()
    assert statuses([tap_from(h, a, rater=other)]) == ["counted"]
    clock.advance(91 * 60)
    assert statuses([tap_from(h, b, rater=other)]) == ["held"]
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"]) == (0, 5)


def test_one_rater_on_a_second_window_of_a_unit_is_held_with_its_counted_tap(rules, clock):
    h = rules(RULE_RATER_WINDOWS_MAX=1, RULE_VISIT_WINDOWS=1)
    h.period("p1")
    a, b = h.window(name="A"), h.window(name="B")
    elsewhere = h.window("u2", "C")
    phone = h.rater()
    first = tap_from(h, a, rater=phone, level=5)
    assert statuses([first]) == ["counted"]
    assert statuses(tap_from(h, w, rater=phone) for w in (b, elsewhere)) == ["held", "counted"]
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"]) == (0, 2)  # the earlier counted tap went to review too
    assert held_reasons(h) == ["multi_window", "multi_window"]
    assert first.json["rating_id"].endswith(h.r.xrange(registry.UnitKeys("u1").log)[-1][1]["of"])
    assert statuses([tap_from(h, a, rater=phone)]) == ["duplicate"]
    clock.advance(86400)
    assert statuses([tap_from(h, b, rater=phone)]) == ["counted"]


@pytest.mark.parametrize(("wait", "ua", "reason"), [
    (0.5, PHONE, "automation"), (5, "curl/8.5.0", "automation"),
    (5, "python-requests/2.32", "automation"), (5, "", "automation"),
    (5, "Mozilla/5.0 HeadlessChrome/120.0", "automation")])
def test_request_signals_hold_the_tap(rules, wait, ua, reason):
    h = rules(RULE_LATE_TICKET=900, RULE_MIN_TAP_MS=800)
    win = h.window()
    resp = tap_from(h, win, ua=ua, wait=wait)
    assert resp.status_code == 202 and resp.json["status"] == "held" and resp.json["rating_id"]
    assert held_reasons(h) == [reason]


def test_a_late_ticket_counts_from_its_scans_address_and_is_renewed_from_another(rules):
    """Past RULE_LATE_TICKET a ticket is good only from the address it was scanned from (scanned
    while waiting, tapped after being served): from another one it is spent as expired, nothing
    is recorded, and a new scan from there counts; before that, moving is nothing."""
    h = rules(RULE_LATE_TICKET=900, RULE_MIN_TAP_MS=800)
    win = h.window()
    assert statuses([tap_from(h, win, ip="203.0.113.5", wait=1000)]) == ["counted"]
    phone = h.rater()

    def scan(ip):
        return phone.get(f"/api/v1/scan/{h.token(win)}", headers={"X-Forwarded-For": ip, "User-Agent": PHONE})

    def tap(ticket, ip):
        return phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 4},
                          headers={"X-Forwarded-For": ip, "User-Agent": PHONE})

    ticket = scan("203.0.113.5").json["ticket"]  # on the hall's Wi-Fi ...
    h.clock.advance(1000)
    late = tap(ticket, "100.64.0.9")  # ... tapped on mobile data, 16 minutes on
    assert late.status_code == 403 and late.json["error"]["code"] == "ticket_expired"
    assert h.counts().get("4") is None and not held_reasons(h)
    ticket = scan("100.64.0.9").json["ticket"]  # the page scans again, from where it is now
    h.clock.advance(2)
    assert statuses([tap(ticket, "100.64.0.9")]) == ["counted"]
    other = h.rater()
    ticket = other.get(f"/api/v1/scan/{h.token(win)}", headers={"X-Forwarded-For": "203.0.113.5",
                                                                 "User-Agent": PHONE}).json["ticket"]
    h.clock.advance(60)
    moved = other.post("/api/v1/ratings", json={"ticket": ticket, "level": 3},
                       headers={"X-Forwarded-For": "100.64.0.10", "User-Agent": PHONE})
    assert moved.status_code == 201  # a minute on: moving is nothing


def test_a_renewed_ticket_is_not_too_fast(rules):
    """The page, refused a stale ticket, scans again with the old one (Renew-Ticket) and sends the
    tap at once: its rater chose after the first scan, so it is not held as too fast. A renewal
    with another rater's ticket, another window's, a tampered or a forged one is a plain scan."""
    h = rules(RULE_LATE_TICKET=900, RULE_MIN_TAP_MS=800)
    win = h.window()
    hall, mobile = {"X-Forwarded-For": "203.0.113.5", "User-Agent": PHONE}, {
        "X-Forwarded-For": "100.64.0.9", "User-Agent": PHONE}
    phone, other = h.rater(), h.rater()
    first = phone.get(f"/api/v1/scan/{h.token(win)}", headers=hall).json["ticket"]
    other.get(f"/api/v1/scan/{h.token(win)}", headers=hall)  # (its own device cookie)
    h.clock.advance(1000)
    refused = phone.post("/api/v1/ratings", json={"ticket": first, "level": 5}, headers=mobile)
    assert refused.json["error"]["code"] == "ticket_expired"

    def renewed(client, old, level):
        renew = {**mobile, "Renew-Ticket": old}
        ticket = client.get(f"/api/v1/scan/{h.token(win)}", headers=renew).json["ticket"]
        h.clock.advance(0.3)
        return client.post("/api/v1/ratings", json={"ticket": ticket, "level": level}, headers=mobile)

    assert statuses([renewed(phone, first, 5)]) == ["counted"]
    assert statuses([renewed(other, first, 4)]) == ["held"]  # another rater's ticket
    assert statuses([renewed(h.rater(), "forged", 3)]) == ["held"]
    third, fourth, elsewhere = h.rater(), h.rater(), h.window(name="B")
    own = third.get(f"/api/v1/scan/{h.token(win)}", headers=hall).json["ticket"]
    tampered = own[:-1] + ("A" if own[-1] != "A" else "B")  # its signature no longer holds
    assert statuses([renewed(third, tampered, 2)]) == ["held"]
    other_window = fourth.get(f"/api/v1/scan/{h.token(elsewhere)}", headers=hall).json["ticket"]
    assert statuses([renewed(fourth, other_window, 1)]) == ["held"]
    assert held_reasons(h) == ["automation"] * 4


def test_a_ticket_from_before_addresses_counts_from_anywhere(rules):
    """A ticket issued before tickets carried their scan's address is not taken as moved."""
    h = rules(RULE_LATE_TICKET=900, RULE_MIN_TAP_MS=800)
    win = h.window()
    ticket = h.app.extensions["ratingsvc.signing"].ticket(win.id, win.unit, win.epoch, "a-device", "device")
    h.clock.advance(1000)
    resp = h.client.post("/api/v1/ratings", json={"ticket": ticket, "level": 5},
                         headers={"X-Forwarded-For": "100.64.0.9", "User-Agent": PHONE})
    assert resp.status_code == 201


def test_a_normal_tap_trips_no_signal(rules):
    h = rules(RULE_LATE_TICKET=900, RULE_MIN_TAP_MS=800, RULE_IP_WINDOW_MAX=8, RULE_BURST_MIN=15,
              RULE_RATER_WINDOWS_MAX=1)
    assert tap_from(h, h.window(), wait=20).status_code == 201


def test_held_taps_show_beside_n_and_are_not_counted(rules):
    h = rules(RULE_MIN_TAP_MS=800)
    h.period("p1")
    win = h.window()
    tap_from(h, win, level=5)
    held = tap_from(h, win, level=1, wait=0.1)
    assert held.status_code == 202
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"], unit["counts"]["1"]) == (1, 1, 0)
    entry = h.r.xrange(registry.UnitKeys("u1").log)[-1][1]
    assert (entry["s"], entry["why"]) == ("held", "automation")


def test_a_rater_on_the_unit_day_after_day_is_held_with_the_earlier_days(rules, clock):
    """Staff rating their own unit every working day: on the third day within 30 the tap is held,
    and so are the rater's counted taps of the earlier days (at their level now)."""
    h = rules(RULE_RETURN_DAYS=3, RULE_RETURN_WINDOW=30)
    h.period("p1")
    a, b = h.window(name="A"), h.window(name="B")
    phone = h.rater()
    first = tap_from(h, a, rater=phone, level=1)
    assert statuses([first]) == ["counted"]
    rid = first.json["rating_id"]
    assert phone.post(f"/api/v1/ratings/{rid}/level", json={"level": 4}).status_code == 200
    clock.advance(86400)
    assert statuses([tap_from(h, b, rater=phone)]) == ["counted"]
    clock.advance(86400)
    assert statuses([tap_from(h, a, rater=phone)]) == ["held"]
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"]) == (0, 3)
    queue = {t["rating_id"]: t for t in h.client.get("/api/v1/review", headers=h.admin).json["taps"]}
    assert queue[rid]["level"] == 4 and queue[rid]["reasons"] == ["returning"]
    clock.advance(86400)
    assert statuses([tap_from(h, b, rater=phone)]) == ["held"]  # known now
    assert statuses([tap_from(h, a)]) == ["counted"]  # another phone
    # a month later the days have passed: counted again
    clock.advance(31 * 86400)
    assert statuses([tap_from(h, a, rater=phone)]) == ["counted"]
    assert set(held_reasons(h)) == {"returning"}


def test_returning_is_off_with_zero_days_and_a_second_visit_counts(rules, clock):
    h = rules(RULE_RETURN_DAYS=0)
    win, phone = h.window(), h.rater()
    for _ in range(4):
        assert statuses([tap_from(h, win, rater=phone)]) == ["counted"]
        clock.advance(86400)
    h2 = rules(RULE_RETURN_DAYS=3)
    other, phone2 = h2.window("u2", "X"), h2.rater()
    for _ in range(2):  # a citizen who comes back once: counted both times
        assert statuses([tap_from(h2, other, rater=phone2)]) == ["counted"]
        clock.advance(7 * 86400)


def hall_of(h, windows, networks):
    resp = h.client.post("/api/v1/halls", headers=h.admin,
                         json={"name": "大厅", "windows": [w.id for w in windows], "networks": networks})
    assert resp.status_code == 201, resp.json
    return resp.json["hall"]


def test_on_site_taps_are_not_one_address_and_off_site_ones_are_capped_a_day(rules, clock):
    """The hall's own network is the place: a busy hall's address trips no per-address or burst
    signal. From elsewhere, a fifth new rater a day from one address on the unit is held, and so
    are that address's counted taps of the day."""
    h = rules(RULE_IP_WINDOW_MAX=3, RULE_BURST_MIN=4, RULE_IP_UNIT_MAX=4)
    h.period("p1")
    a, b = h.window(name="A"), h.window(name="B")
    hall_of(h, [a, b], ["203.0.113.0/28"])
    on_site = statuses(tap_from(h, a, ip="203.0.113.5", wait=20) for _ in range(8))
    assert on_site == ["counted"] * 8  # no ip_window, no burst
    off_site = statuses(tap_from(h, w, ip="198.51.100.9", wait=20) for w in (a, b, a, b, a))
    assert off_site == ["counted"] * 4 + ["held"]
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"]) == (8, 5)  # its four counted taps went to review too
    assert set(held_reasons(h)) == {"ip_unit"}
    clock.advance(86400)  # the next day starts afresh
    assert statuses([tap_from(h, a, ip="198.51.100.9")]) == ["counted"]
    # an address outside the hall's networks elsewhere in the registry: a unit without networks
    c = h.window("u2", "C")
    assert statuses(tap_from(h, c, ip="198.51.100.10", wait=20) for _ in range(5)) == ["counted"] * 3 + [
        "held"] * 2  # (only the per-window rule, RULE_IP_WINDOW_MAX 3)


def test_bad_networks_are_refused(h):
    win = h.window()
    resp = h.client.post("/api/v1/halls", headers=h.admin,
                         json={"name": "大厅", "windows": [win.id], "networks": ["203.0.113.0/33"]})
    assert resp.status_code == 400


def test_a_window_rated_from_elsewhere_far_more_than_from_the_hall_is_held(rules, clock):
    """A photographed poster spread online: once a window has RULE_OFFSITE_MIN new raters from
    outside the hall's networks in a day, and their share of its raters would come less often
    than once in RULE_OFFSITE_ODDS (1,000) days at the hall's usual share (at least
    RULE_OFFSITE_SHARE, a half), further ones are held; citizens on mobile data among many on
    the hall's own network are not."""
    h = rules(RULE_OFFSITE_MIN=3, RULE_IP_WINDOW_MAX=0, RULE_BURST_MIN=0, RULE_IP_UNIT_MAX=0)
    a, b = h.window(name="A"), h.window(name="B")
    hall_of(h, [a, b], ["203.0.113.0/28"])
    spread = statuses(tap_from(h, a, ip=f"100.64.0.{i}", wait=20) for i in range(12))
    assert spread == ["counted"] * 9 + ["held"] * 3  # ten of ten from outside: once in 1,024 days
    assert set(held_reasons(h)) == {"offsite"}
    # window B: the hall's own citizens, and some on mobile data among them
    mixed = [f"100.64.1.{i}" if i % 3 == 0 else "203.0.113.2" for i in range(30)]
    assert statuses(tap_from(h, b, ip=ip, wait=20) for ip in mixed) == ["counted"] * 30


def day_ordinal(clock):
    return datetime.fromtimestamp(clock.t, ZoneInfo("Asia/Shanghai")).date().toordinal()


def mostly_mobile(h, window, rounds, net):
    """Rounds of four citizens on mobile data (100.<net>.x.y) and one on the hall's Wi-Fi."""
    ips = [ip for i in range(rounds) for ip in
           [*(f"100.{net}.{i}.{j}" for j in range(4)), "203.0.113.2"]]
    return statuses(tap_from(h, window, ip=ip, wait=20) for ip in ips)


def test_offsite_learns_the_halls_usual_share_from_outside(rules, clock):
    """A hall whose citizens are mostly on mobile data: weighed at a half (RULE_OFFSITE_SHARE), a
    window with four from outside to one on the Wi-Fi is held before the day is out. Once the
    unit's counted poster taps of the days before show that share, it is the hall's usual one and
    the same day counts; a unit without those days in the same hall still holds."""
    h = rules(RULE_OFFSITE_MIN=3, RULE_IP_WINDOW_MAX=0, RULE_BURST_MIN=0, RULE_IP_UNIT_MAX=0)
    a, b, other = h.window(name="A"), h.window(name="B"), h.window("u2", "C")
    hall_of(h, [a, b, other], ["203.0.113.0/28"])
    for day in range(2):  # Monday and Tuesday: a few on window B, not unusual even at a half
        assert mostly_mobile(h, b, 2, 64 + day) == ["counted"] * 10
        clock.advance(86400)
    sides = h.r.hgetall(registry.UnitKeys("u1").sides)  # (each day's first four came before
    assert {k: int(v) for k, v in sides.items()} == {  # any from the hall: not given to it)
        f"{day_ordinal(clock) - d}:{side}": n for d in (1, 2) for side, n in (("x", 4), ("o", 2), ("w", 1))}
    assert mostly_mobile(h, a, 6, 70) == ["counted"] * 30  # usual: 9 in 14 from outside
    new = mostly_mobile(h, other, 6, 71)
    assert "held" in new and set(held_reasons(h, "u2")) == {"offsite"}
    assert held_reasons(h) == []


def test_a_hall_with_one_busy_window_mostly_on_mobile_data_learns_its_share(rules, clock):
    """A unit of one window, four of its citizens on mobile data to one on the Wi-Fi: on its
    first day, weighed at a half, the window is unusual before the day is out; its counted taps
    of that day are the unit's usual share from the next, when the same day counts."""
    h = rules(RULE_OFFSITE_MIN=3, RULE_IP_WINDOW_MAX=0, RULE_BURST_MIN=0, RULE_IP_UNIT_MAX=0)
    win = h.window()
    hall_of(h, [win], ["203.0.113.0/28"])
    assert "held" in mostly_mobile(h, win, 6, 64)
    clock.advance(86400)
    assert mostly_mobile(h, win, 6, 65) == ["counted"] * 30


def test_a_window_mostly_rated_from_the_hall_is_not_unusual_at_any_share(rules, clock):
    """A few from outside among many from the hall: the chance of so many or more is about one,
    at any usual share (not a number too small to be held, which would hold them all)."""
    h = rules(RULE_OFFSITE_MIN=1, RULE_OFFSITE_SHARE=0.95, RULE_IP_WINDOW_MAX=0, RULE_BURST_MIN=0,
              RULE_IP_UNIT_MAX=0)
    win = h.window()
    hall_of(h, [win], ["203.0.113.0/28"])
    assert statuses(tap_from(h, win, ip="203.0.113.2") for _ in range(300)) == ["counted"] * 300
    assert statuses(tap_from(h, win, ip=f"100.64.0.{i}") for i in range(6)) == ["counted"] * 6


def test_a_poster_spread_for_days_is_seen_the_next_day(rules, clock):
    """'offsite' weighs a window's day with the day before, whose raters from outside are those
    counted and those it held: the day after a spread poster was seen, its third tap from
    outside (RULE_OFFSITE_MIN) is held, and so on the day after that, though few were counted
    the day before; not after a day when none from the hall's network counted on the unit and
    two windows were rated from outside (its Wi-Fi down). A window's day gives the hall's usual
    share at most four counted from outside for each one from the hall: a spread poster does not
    make itself the usual."""
    h = rules(RULE_OFFSITE_MIN=3, RULE_IP_WINDOW_MAX=0, RULE_BURST_MIN=0, RULE_IP_UNIT_MAX=0)
    a, b = h.window(name="A"), h.window(name="B")
    hall_of(h, [a, b], ["203.0.113.0/28"])
    assert statuses(tap_from(h, a, ip=f"100.64.0.{i}", wait=20) for i in range(12)) == \
        ["counted"] * 9 + ["held"] * 3
    assert statuses([tap_from(h, b, ip="203.0.113.2")]) == ["counted"]
    sides = h.r.hgetall(registry.UnitKeys("u1").sides)
    assert {k: int(v) for k, v in sides.items()} == {f"{day_ordinal(clock)}:o": 1,  # A: none inside
                                                     f"{day_ordinal(clock)}:w": 1}  # (rated from outside)
    for day in range(3):
        clock.advance(86400)
        assert statuses(tap_from(h, a, ip=f"100.64.{day + 1}.{i}", wait=20) for i in range(8)) == \
            ["counted"] * 2 + ["held"] * 6
        if day < 2:  # the hall's own on B; on the third day none, and A alone rated from outside
            assert statuses([tap_from(h, b, ip="203.0.113.2")]) == ["counted"]
    clock.advance(86400)  # so the next is weighed with it; this day B too is rated from outside
    assert statuses(tap_from(h, a, ip=f"100.64.8.{i}", wait=20) for i in range(4)) == \
        ["counted"] * 2 + ["held"] * 2
    assert statuses([tap_from(h, b, ip="100.65.0.1")]) == ["counted"]
    # the day after one without a tap from the hall's network and with two windows rated from
    # outside (its Wi-Fi down) is weighed alone: four of four from outside are once in 16 days
    clock.advance(86400)
    assert statuses(tap_from(h, a, ip=f"100.64.9.{i}", wait=20) for i in range(4)) == ["counted"] * 4


def test_returning_reads_across_its_buckets_and_its_state_expires(rules, clock):
    """The signal's state is kept in buckets of RULE_RETURN_WINDOW days (two read, each
    expiring after two windows): with a window of 3 days the three days cross a bucket."""
    h = rules(RULE_RETURN_DAYS=3, RULE_RETURN_WINDOW=3)
    h.period("p1")
    win, phone = h.window(), h.rater()
    for _ in range(2):
        assert statuses([tap_from(h, win, rater=phone)]) == ["counted"]
        clock.advance(86400)
    assert statuses([tap_from(h, win, rater=phone)]) == ["held"]
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"]) == (0, 3)
    keys = [k for k in h.r.scan_iter(match="rs:{u.u1}:rd:*")]
    assert keys and all(0 < h.r.ttl(k) <= 7 * 86400 for k in keys)


def test_a_window_without_hours_goes_by_its_units_other_windows(rules, clock):
    """A window added without hours, in a unit without a default: open when one of the unit's
    other windows is; a unit with no hours anywhere has the signal off where RULE_DEFAULT_HOURS is
    "" (as the suite's config sets it)."""
    h = rules(RULE_HOURS_GRACE=60)
    a, b, c = h.window(name="A"), h.window(name="B"), h.window(name="C")
    registry.update_window(h.r, a.id, hours={"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00"]})
    registry.update_window(h.r, b.id, hours={"days": [6], "open": ["09:00-12:00"]})
    other = h.window("u2", "D")  # a unit with no hours at all
    monday = clock.t - 10 * 3600  # 2026-06-01 00:00 in Shanghai, a Monday
    plan = [(10 * 60, 201), (22 * 60, 202), (5 * 24 * 60 + 10 * 60, 201), (6 * 24 * 60 + 10 * 60, 202)]
    for minute, expected in plan:  # Monday 10:00 and 22:00, Saturday 10:00 (B's), Sunday 10:00
        clock.t = monday + minute * 60 - 5
        assert tap_from(h, c).status_code == expected, minute
        assert tap_from(h, other).status_code == 201, minute
    assert held_reasons(h) == ["hours"] * 2


def test_a_unit_with_no_hours_anywhere_goes_by_the_default_hours(rules, clock):
    """RULE_DEFAULT_HOURS, e.g. every day 07:00-20:00: no window is open all night. It is the
    outer bound: RULE_HOURS_GRACE widens a window's own hours, not it."""
    h = rules(RULE_HOURS_GRACE=60, RULE_DEFAULT_HOURS="1-7 07:00-20:00")
    win = h.window()
    monday = clock.t - 10 * 3600  # 2026-06-01 00:00 in Shanghai, a Monday
    plan = [(6 * 60 + 30, 202), (10 * 60, 201), (19 * 60 + 55, 201), (20 * 60 + 30, 202), (22 * 60, 202),
            (6 * 24 * 60 + 10 * 60, 201), (7 * 24 * 60 + 3 * 60, 202)]
    # Monday 06:30, 10:00, 19:55, 20:30, 22:00; Sunday 10:00; Monday 03:00
    for minute, expected in plan:
        clock.t = monday + minute * 60 - 5
        assert tap_from(h, win).status_code == expected, minute
    assert held_reasons(h) == ["hours"] * 4
    registry.update_window(h.r, win.id, hours={"days": [1, 2, 3, 4, 5, 6, 7], "open": ["08:00-20:00"]})
    clock.t = monday + 7 * 24 * 3600 + 20 * 3600 + 30 * 60  # its own hours: the grace
    assert tap_from(h, win).status_code == 201
    registry.update_window(h.r, win.id, hours={"days": [1, 2, 3, 4, 5, 6, 7], "open": ["00:00-23:59"]})
    clock.t = monday + 8 * 24 * 3600 + 3 * 3600  # a window of its own open all night: counted
    assert tap_from(h, win).status_code == 201


def test_the_halls_own_network_rating_the_unit_is_the_hall_open(rules, clock):
    """周末不打烊: the hall serves on a Saturday its hours do not have. A tap from its own network is
    not held as out of hours, nor one from elsewhere within RULE_HOURS_GRACE minutes after one
    (its citizens on mobile data); a night crowd from elsewhere still is."""
    h = rules(RULE_HOURS_GRACE=60, RULE_OFFSITE_MIN=0)
    a, b = h.window(name="A"), h.window(name="B")
    for win in (a, b):
        registry.update_window(h.r, win.id, hours={"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00"]})
    hall_of(h, [a, b], ["203.0.113.0/28"])
    saturday = clock.t - 10 * 3600 + 5 * 86400  # 2026-06-06 00:00 in Shanghai
    clock.t = saturday + 9 * 3600
    assert statuses([tap_from(h, a, ip="100.64.0.1")]) == ["held"]  # nobody from the hall yet
    clock.t = saturday + 10 * 3600
    assert statuses([tap_from(h, a, ip="203.0.113.2")]) == ["counted"]
    clock.advance(50 * 60)
    assert statuses([tap_from(h, b, ip="100.64.0.2")]) == ["counted"]  # 50 minutes after
    clock.advance(20 * 60)
    assert statuses([tap_from(h, b, ip="100.64.0.3")]) == ["held"]  # 70 minutes after
    clock.t = saturday + 22 * 3600  # the night: from elsewhere only
    assert statuses(tap_from(h, a, ip=f"100.64.1.{i}") for i in range(3)) == ["held"] * 3
    assert held_reasons(h) == ["hours"] * 5


def test_a_burst_from_outside_holds_the_counted_taps_before_it(rules, clock):
    """A flood's first taps, counted before the burst could be seen, are held with it when it
    comes from outside the hall's networks; the hall's own citizens' taps stay counted."""
    h = rules(RULE_BURST_MIN=5, RULE_BURST_FACTOR=3.0, RULE_IP_WINDOW_MAX=0, RULE_OFFSITE_MIN=0,
              RULE_IP_UNIT_MAX=0)
    h.period("p1")
    win = h.window()
    hall_of(h, [win], ["203.0.113.0/28"])
    early = statuses([tap_from(h, win, ip="100.64.9.1", wait=10)])  # 25 minutes before: stays
    clock.advance(25 * 60)
    flood = []
    for i in range(6):
        flood += statuses([tap_from(h, win, ip=f"100.64.0.{i}", level=1, wait=10)])
        flood += statuses([tap_from(h, win, ip="203.0.113.2", wait=10)])  # a citizen in the hall
    assert early == ["counted"]
    assert flood[::2] == ["counted"] * 5 + ["held"] and flood[1::2] == ["counted"] * 6
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"], unit["counts"]["1"]) == (7, 6, 0)  # the flood's five too
    assert set(held_reasons(h)) == {"burst"}
    cases = h.client.get("/api/v1/cases", headers=h.admin).json["cases"]
    assert len(cases) == 5 and {c["state"] for c in cases} == {"void"}  # the flood's 1-stars' cases


def test_a_flood_held_as_it_came_does_not_hold_the_halls_mobile_citizens(rules, clock):
    """'offsite' weighs the counted taps from outside the hall's networks: a flood that 'burst'
    held (its first taps too) does not make the hall's citizens on mobile data look like a
    spread poster for the rest of the day."""
    h = rules(RULE_BURST_MIN=4, RULE_BURST_FACTOR=3.0, RULE_IP_WINDOW_MAX=0, RULE_IP_UNIT_MAX=0,
              RULE_OFFSITE_MIN=3)
    h.period("p1")
    win = h.window()
    hall_of(h, [win], ["203.0.113.0/28"])
    assert statuses([tap_from(h, win, ip="203.0.113.2")]) == ["counted"]  # one on the hall's Wi-Fi
    flood = statuses(tap_from(h, win, ip=f"100.64.0.{i}", level=1, wait=10) for i in range(10))
    assert flood == ["counted"] * 4 + ["held"] * 6
    clock.advance(40 * 60)  # the flood is over; citizens on mobile data rate as before
    later = statuses(tap_from(h, win, ip=f"100.65.0.{i}", wait=600) for i in range(14))
    assert later == ["counted"] * 12 + ["held"] * 2  # 13 of 14 from outside: once in 1,092 days
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"], unit["counts"]["1"]) == (13, 12, 0)
    assert held_reasons(h).count("burst") == 10 and held_reasons(h).count("offsite") == 2


def test_where_no_network_is_known_a_halls_busy_address_is_learned(rules, clock):
    """An address with counted raters on RULE_HALL_WINDOWS windows of a unit today, the first
    RULE_HALL_MINUTES ago, is taken for the hall itself: not part of a burst, and held by
    'ip_window' only past RULE_BURST_FACTOR times its bar; it stays so for 7 days after the last
    day it was. An address on one window stays one address."""
    h = rules(RULE_IP_WINDOW_MAX=3, RULE_BURST_FACTOR=4.0, RULE_BURST_MIN=0, RULE_HALL_WINDOWS=3,
              RULE_HALL_MINUTES=60)
    a, b, c = h.window(name="A"), h.window(name="B"), h.window(name="C")
    hall_ip = "203.0.113.50"
    assert statuses(tap_from(h, w, ip=hall_ip) for w in (a, b, c)) == ["counted"] * 3
    # too soon: many new raters from it on one window are held as from one address
    assert statuses(tap_from(h, a, ip=hall_ip, wait=20) for _ in range(3)) == ["counted"] * 2 + ["held"]
    clock.advance(61 * 60)
    # learned: its rush counts (its first hour's flag holds it no more), up to 4 x 3 in 10-20
    # minutes; a bot that warmed up so and then floods a window is held past that
    rush = statuses(tap_from(h, a, ip=hall_ip, wait=20) for _ in range(14))
    assert rush == ["counted"] * 12 + ["held"] * 2
    bot = statuses(tap_from(h, b, ip="198.51.100.3", wait=20) for _ in range(4))
    assert bot == ["counted"] * 3 + ["held"]
    clock.advance(86400)  # the next morning's rush is the hall's too
    assert statuses(tap_from(h, a, ip=hall_ip, wait=20) for _ in range(4)) == ["counted"] * 4
    clock.advance(4 * 86400)  # five days on, it qualifies again: 7 days from this day now
    assert statuses(tap_from(h, w, ip=hall_ip) for w in (a, b, c)) == ["counted"] * 3
    clock.advance(61 * 60)
    assert statuses([tap_from(h, a, ip=hall_ip)]) == ["counted"]
    clock.advance(5 * 86400)
    assert statuses(tap_from(h, a, ip=hall_ip, wait=20) for _ in range(4)) == ["counted"] * 4
    clock.advance(8 * 86400)  # more than 7 days after: one address again until learned anew
    assert statuses(tap_from(h, a, ip=hall_ip, wait=20) for _ in range(4)) == ["counted"] * 3 + ["held"]


def test_offsite_weighs_only_the_counted_taps_from_outside(rules, clock):
    """A patient bot's taps that 'ip_unit' takes back count no more toward 'offsite': the hall's
    citizens on mobile data after it are weighed against the hall's own as before."""
    h = rules(RULE_IP_UNIT_MAX=4, RULE_OFFSITE_MIN=3, RULE_IP_WINDOW_MAX=0, RULE_BURST_MIN=0)
    h.period("p1")
    win = h.window()
    hall_of(h, [win], ["203.0.113.0/28"])
    assert statuses([tap_from(h, win, ip="203.0.113.2")]) == ["counted"]
    bot = statuses(tap_from(h, win, ip="198.51.100.9", wait=1800) for _ in range(5))
    assert bot == ["counted"] * 4 + ["held"]
    sides = registry.UnitKeys("u1").sides
    assert h.r.hget(sides, f"{day_ordinal(clock)}:x") == "0"  # taken back from the usual share too
    later = statuses(tap_from(h, win, ip=f"100.64.0.{i}", wait=600) for i in range(14))
    assert later == ["counted"] * 12 + ["held"] * 2  # as if the bot had not been
    assert set(held_reasons(h)) == {"ip_unit", "offsite"}
    assert h.r.hget(sides, f"{day_ordinal(clock)}:x") == "4"  # four for the one from the hall


def test_without_a_network_a_burst_holds_the_taps_before_it_but_the_halls(rules, clock):
    """Where no network is known, a burst holds the window's counted taps of the last 20 minutes
    from addresses not taken for the hall; the hall's learned address keeps its taps."""
    h = rules(RULE_BURST_MIN=5, RULE_BURST_FACTOR=3.0, RULE_IP_WINDOW_MAX=0, RULE_HALL_WINDOWS=2,
              RULE_HALL_MINUTES=30)
    h.period("p1")
    a, b = h.window(name="A"), h.window(name="B")
    assert statuses(tap_from(h, w, ip="203.0.113.2") for w in (a, b)) == ["counted"] * 2
    clock.advance(31 * 60)
    flood = []
    for i in range(6):
        flood += statuses([tap_from(h, a, ip=f"100.64.0.{i}", level=1, wait=10)])
        flood += statuses([tap_from(h, a, ip="203.0.113.2", wait=10)])
    assert flood[::2] == ["counted"] * 5 + ["held"] and flood[1::2] == ["counted"] * 6
    unit = h.client.get("/api/v1/units/u1/score?period=p1", headers=h.admin).json
    assert (unit["n"], unit["pending"], unit["counts"]["1"]) == (8, 6, 0)
    # a flood's address that the burst swept up is not taken for the hall that day, whatever it
    # does after (here: counted on a second window 40 minutes on)
    clock.advance(40 * 60)
    assert statuses([tap_from(h, b, ip="100.64.0.1")]) == ["counted"]
    assert h.r.hget(registry.UnitKeys("u1").dedupe("20260601"), "a:" + ip_hash(h, "100.64.0.1")) == "x"
    assert h.r.zscore(registry.UnitKeys("u1").hall_addresses, ip_hash(h, "100.64.0.1")) is None
    assert h.r.zscore(registry.UnitKeys("u1").hall_addresses, ip_hash(h, "203.0.113.2")) is not None


def volumes_of(h, day, *services):
    """Services done on `day`, (window, services) pairs: the queue system's rows."""
    rows = [{"window": w.id, "day": day, "services": n} for w, n in services]
    resp = h.client.post("/api/v1/volumes", headers=h.admin, json={"rows": rows})
    assert resp.status_code == 200, resp.json
    return resp.json


def test_poster_taps_above_the_services_done_today_are_held(rules, clock):
    """Once a window's services today are known (its queue system sends them as the day goes),
    a poster tap that would take its counted taps past them and RULE_VOLUME_MARGIN is held as
    'volume'; a window whose services are not known is not; the margin 0 turns it off."""
    h = rules(RULE_VOLUME_MARGIN=2)
    h.period("p1")
    a, b = h.window(name="A"), h.window(name="B")
    volumes_of(h, "2026-06-01", (a, 3))
    assert statuses(tap_from(h, a, ip=f"100.64.0.{i}") for i in range(7)) == ["counted"] * 5 + ["held"] * 2
    assert set(held_reasons(h)) == {"volume"}
    assert statuses(tap_from(h, b, ip=f"100.64.1.{i}") for i in range(7)) == ["counted"] * 7
    volumes_of(h, "2026-06-01", (a, 10))  # more services since: taps count again
    assert statuses([tap_from(h, a, ip="100.64.0.99")]) == ["counted"]
    off = rules(RULE_VOLUME_MARGIN=0)
    c = off.window("u2", "C")
    volumes_of(off, "2026-06-01", (c, 1))
    assert statuses(tap_from(off, c, ip=f"100.64.2.{i}") for i in range(4)) == ["counted"] * 4


def score(h, unit="u1"):
    s = h.client.get(f"/api/v1/units/{unit}/score?period=p1", headers=h.admin).json
    return s["n"], s["pending"]


def test_volumes_that_come_later_hold_the_counted_taps_above_them(rules, clock):
    """Volumes of today or yesterday hold the counted poster taps above them (and the margin):
    those from outside the hall's networks first, then the latest; the same volumes again hold
    no more, on the same day or the next; older volumes only measure."""
    h = rules(RULE_VOLUME_MARGIN=1, RULE_OFFSITE_MIN=0)
    h.period("p1")
    a = h.window(name="A")
    hall_of(h, [a], ["203.0.113.0/28"])
    ips = ["203.0.113.2", "100.64.0.1", "203.0.113.3", "100.64.0.2", "203.0.113.4", "100.64.0.3",
           "203.0.113.5", "203.0.113.6"]
    ids = [tap_from(h, a, ip=ip).json["rating_id"] for ip in ips]
    assert score(h) == (8, 0)
    assert volumes_of(h, "2026-06-01", (a, 4))["held"] == 3  # 8 counted, 4 services + 1
    held = h.r.hgetall(registry.UnitKeys("u1").held)
    assert {i.split(".", 1)[1] for i in ids[1:6:2]} == set(held) and set(held_reasons(h)) == {"volume"}
    assert volumes_of(h, "2026-06-01", (a, 4))["held"] == 0
    assert score(h) == (5, 3)
    clock.advance(86400)  # the next morning: yesterday's volumes, lower than the first count
    assert volumes_of(h, "2026-06-01", (a, 2))["held"] == 2
    held = h.r.hgetall(registry.UnitKeys("u1").held)
    assert {i.split(".", 1)[1] for i in ids[-2:]} <= set(held)  # the latest from the hall itself
    assert volumes_of(h, "2026-06-01", (a, 2))["held"] == 0
    assert score(h) == (3, 5)
    clock.advance(2 * 86400)
    assert volumes_of(h, "2026-06-01", (a, 0))["held"] == 0  # three days on: statistics only
    assert score(h) == (3, 5)


def tally(h, day, window, unit="u1"):
    """A window's counted taps of `day` (YYYYMMDD) by the day they were tapped on."""
    return int(h.r.hget(registry.UnitKeys(unit).dedupe(day), f"c:{window.id}") or 0)


def test_yesterdays_holds_and_releases_do_not_move_todays_bound(rules, clock):
    """Holds and releases of yesterday's taps are booked today; the bound weighs the taps of
    each day by the day they were tapped on, so today's citizens are neither let past it nor
    held below it."""
    h = rules(RULE_VOLUME_MARGIN=1)
    h.period("p1")
    a, b = h.window(name="A"), h.window(name="B")
    assert statuses(tap_from(h, a, ip=f"100.64.0.{i}") for i in range(8)) == ["counted"] * 8
    volumes_of(h, "2026-06-01", (b, 0))  # B served no one: known, not unknown
    assert statuses(tap_from(h, b, ip=f"100.64.1.{i}") for i in range(3)) == ["counted", "held", "held"]
    clock.advance(86400)
    assert volumes_of(h, "2026-06-01", (a, 2))["held"] == 5  # yesterday's 8 taps, 2 services + 1
    assert tally(h, "20260601", a) == 3
    volumes_of(h, "2026-06-02", (a, 3))
    assert statuses(tap_from(h, a, ip=f"100.64.2.{i}") for i in range(6)) == ["counted"] * 4 + ["held"] * 2
    assert tally(h, "20260602", a) == 4
    # the office releases yesterday's two taps held at B: they count again, on yesterday's tally
    held_b = [rid for rid, v in h.r.hgetall(registry.UnitKeys("u1").held).items() if v.startswith(f"{b.id}|")]
    for rid in held_b:
        release = {"action": "release", "why": "核实"}
        assert h.client.post(f"/api/v1/review/u1.{rid}", headers=h.admin, json=release).status_code == 200
    assert tally(h, "20260601", b) == 3 and tally(h, "20260602", b) == 0
    volumes_of(h, "2026-06-02", (b, 5))
    assert statuses(tap_from(h, b, ip=f"100.64.3.{i}") for i in range(7)) == ["counted"] * 6 + ["held"]


def test_a_tap_held_later_by_another_signal_is_not_weighed_twice(rules, clock):
    """A rater's tap of yesterday that 'returning' holds today leaves yesterday's tally: the
    volumes of yesterday then hold no honest tap in its place, and sent again hold no more."""
    h = rules(RULE_VOLUME_MARGIN=1, RULE_RETURN_DAYS=2)
    h.period("p1")
    a = h.window(name="A")
    phone = h.rater()
    assert statuses([tap_from(h, a, rater=phone, ip="100.64.0.1")]) == ["counted"]
    assert statuses(tap_from(h, a, ip=f"100.64.0.{i}") for i in range(2, 5)) == ["counted"] * 3
    clock.advance(86400)
    assert statuses([tap_from(h, a, rater=phone, ip="100.64.0.1")]) == ["held"]  # and yesterday's
    assert tally(h, "20260601", a) == 3
    assert volumes_of(h, "2026-06-01", (a, 2))["held"] == 0  # 3 counted = 2 services + 1
    assert volumes_of(h, "2026-06-01", (a, 2))["held"] == 0
    assert score(h) == (3, 2)


def test_the_log_is_read_back_in_chunks_to_the_days_first_tap(rules, clock, monkeypatch):
    """hold_above reads the unit's log backwards, through the later day's taps, in chunks, and
    stops once a chunk's worth of taps in a row are of earlier days: taps of the day before
    are not taken, nor ones of the day after."""
    from ratingsvc import volumes
    monkeypatch.setattr(volumes, "LOG_CHUNK", 3)
    h = rules(RULE_VOLUME_MARGIN=1)
    h.period("p1")
    a = h.window(name="A")
    before = [tap_from(h, a, ip=f"100.64.0.{i}").json["rating_id"] for i in range(4)]
    clock.advance(86400)
    day = [tap_from(h, a, ip=f"100.64.1.{i}").json["rating_id"] for i in range(7)]
    clock.advance(86400)
    after = [tap_from(h, a, ip=f"100.64.2.{i}").json["rating_id"] for i in range(5)]
    assert volumes_of(h, "2026-06-02", (a, 1))["held"] == 5  # 7 counted, 1 service + 1
    held = {f"u1.{sid}" for sid in h.r.hgetall(registry.UnitKeys("u1").held)}
    assert held == set(day[2:]) and not held & set(before + after)
    stream = [f.get("d") for _, f in volumes.taps_of(h.r, registry.UnitKeys("u1").log, "20260602")]
    assert stream == ["20260602"] * 7


def test_the_halls_own_taps_wait_for_the_next_volumes(rules, clock):
    """A poster tap from the hall's own network is not held as it comes (its citizens served
    since the queue system's last report are not in it yet); the next report holds the counted
    ones above it. One from elsewhere past the bound is held as it comes."""
    h = rules(RULE_VOLUME_MARGIN=1, RULE_OFFSITE_MIN=0)
    h.period("p1")
    a = h.window(name="A")
    hall_of(h, [a], ["203.0.113.0/28"])
    volumes_of(h, "2026-06-01", (a, 3))
    assert statuses(tap_from(h, a, ip="203.0.113.2") for _ in range(6)) == ["counted"] * 6
    assert statuses([tap_from(h, a, ip="100.64.0.1")]) == ["held"]
    assert volumes_of(h, "2026-06-01", (a, 4))["held"] == 1  # 6 counted, 4 served + 1
    assert volumes_of(h, "2026-06-01", (a, 6))["held"] == 0 and score(h) == (5, 2)
