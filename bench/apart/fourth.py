"""Independent attack simulation ("fourth"): fraud against ratingsvc's default rules, beside
honest citizens, every tap judged by its FINAL state at the scenario's end (counted, held with
its reasons, duplicate, refused).

    .venv/bin/python bench/apart/fourth.py [--seed 4404] [--runs ABCD]

Writes bench/results/fraud-apart-fourth-<date>.json and .md. Uses only bench/fraud.py's harness
(Sim: the app in-process behind a real HTTP server on 127.0.0.1, its own redis-server, a
simulated clock; Phone; queue_system). Every RULE_* at its default; only flask-limiter's
wall-clock limits are widened, as Sim does. Every number below was written down before the
first run, as plausible for a district 政务服务中心; none was changed after seeing a result.

THE HALL (a fresh database per scenario). One hall, 区政务服务中心, one category 窗口单位, four
units: 税务 tax (windows 1-4, 45 services a window and working day), 社保 social (3 windows,
40), 公积金 fund (2 windows, 30), 不动产 estate (3 windows, 32). Opening hours Mon-Fri
09:00-12:00 and 13:30-17:00 on every window (except F5's fund unit, which has none at all).
Day 0 is Monday 2026-06-01 (Asia/Shanghai); a week is days 0-4, a fortnight days 0-4 and 7-11.
  Addresses. The hall's Wi-Fi leaves through two NAT addresses, 192.0.2.66 and .67 (a phone's
  session takes one at random); runs A, C and D register 192.0.2.64/28 as the hall's network,
  run B none. Mobile data is carrier-grade NAT, an address per session from the city's pools:
  China Mobile 223.104.160.0/21 (55 % of phones), Unicom 112.97.56.0/22 (30 %), Telecom
  106.36.80.0/22 (15 %). Home broadband: one address per household in 116.226.0.0/16.
  Honest baseline, every scenario, on every window: 25 % of those served rate by the poster, so
  Poisson(services x 0.25) raters per window and working day; 60 % of services in the morning
  (09:05-11:55), 40 % in the afternoon (13:35-16:55), uniform. 45 % of raters are on the hall's
  Wi-Fi, 55 % on mobile data. A citizen scans 5-90 s after the service ends and taps 3-25 s
  after the scan; 12 % are elderly: 30-180 s to scan, 20-90 s to tap, and 30 % of them tap
  again 2-6 s later after reloading the page (a second scan and tap: a duplicate). Levels 5/4/
  3/2/1 with 62/22/10/4/2 %. Every citizen is a new phone with a WeChat User-Agent. The page is
  emulated: an Idempotency-Key on each tap; 403 ticket_expired -> one renewal scan with
  Renew-Ticket and the tap again 0.2-0.8 s later with a new key; 429/503 -> sent again 30 s
  later, up to 6 times. A person's address stays the same through one visit.

HONEST SCENARIOS (the baseline, plus):
  H1 baseline      a week of the baseline alone (control).
  H2 two_windows   a week; 35 % of tax and estate citizens are served at a second window of the
                   same unit (受理, then 缴费/领证), and rate both on the same phone: the second
                   service 5-45 min after the first tap (70 %), 45-120 min (20 %), 120-240 min
                   (10 %); one landing in the lunch break moves on 90 min, one after 16:58 is
                   dropped.
  H3 busy_nat      a week; twice the services (a busy hall), 85 % on the Wi-Fi, which leaves
                   through ONE address (192.0.2.66).
  H5 mobile_hall   a week; 75 % on mobile data (the Wi-Fi wants an SMS code; most skip it).
  H6 scan_wait     a week; 30 % scan the poster while waiting, 5-40 min before their service
                   ends, and tap 5-40 s after it; 35 % of those are on the other network by then
                   (Wi-Fi <-> mobile).
  H7 return_agents two weeks; 5 % of tax and estate citizens come back on 2 more working days
                   of the fortnight (补材料) and rate each visit, same phone; 4 代账 accountants
                   visit the tax hall on 3 random days a week and rate 50 % of their visits.
  H8 wifi_down     a week; the Wi-Fi is broken all Tuesday and Wednesday: everyone on mobile.
  H9 saturday      a week plus Saturday 09:00-12:00 (周末不打烊) at tax 1, tax 2 and social 1,
                   each serving 60 % of a weekday morning; the hours in the system stay Mon-Fri.
  H10 group        a week; on Wednesday 09:40-10:40 a company's 28 new hires register at the
                   social windows, all rate, 80 % on mobile data.
  (Every F scenario's honest citizens are counted as honest too: e.g. F4's are citizens at a
  window under attack.)

FRAUD SCENARIOS (beside the baseline). The five classes of issue 16:
  F1 staff_phones  fund's staff: 7 of its 9, each on their own phone (cookie kept), rate a 5 on
                   one of the unit's windows once every working day for two weeks, at a random
                   office-hours moment; 40 % of sessions on the hall Wi-Fi, 60 % mobile.
  F2 poster_spread a photo of estate window 2's poster in a 业主群: 220 people who were never
                   served rate a 5 over Tue-Wed-Thu, uniform 09:00-17:00, 55 % mobile, 45 %
                   home broadband, each their own phone.
  F3 patient_bot   one home broadband address, a fresh cookie each time, a WeChat UA; taps a 5
                   on tax's 4 windows in turn every 6-11 min from 13:40 to 16:50, Mon-Fri;
                   4-9 s from scan to tap.
  F4 rival_flood   a rival sinks social: Tue and Thu, waves at 10:00, 14:30 and 16:00 on one
                   social window each, 45 taps of 1 in 15 min from 25 residential proxies in
                   other provinces; every tap a cleared cookie and a forged X-Forwarded-For
                   chain "10.x.x.x, 192.0.2.66" in front of the proxy's real address; 2-6 s.
  F5 night_crowd   fund's windows have no hours, nor has the unit: on Monday and Wednesday
                   19:00-23:30, 130 people each evening rate a 5 (60 % mobile, 40 % broadband).
  Invented:
  F6 counter_phone tax's 4 clerks each keep a spare phone on the hall Wi-Fi and clear WeChat's
                   cache before every rating: 6 fives a day on their own window, at office-hours
                   moments 1-3 min after a service, a week; 2-5 s to tap. In run D they take the
                   visit token shown on their screen after a service whose citizen did not scan.
  F7 relatives     estate's staff ask 40 relatives and friends to help: each rates a 5 once a
                   week for two weeks (a random working day and office-hours moment), own
                   phone, 50 % mobile, 50 % home broadband, a random estate window.
  F8 fake_crowd    social brings 'volunteers' into the waiting area on Mon, Wed and Fri: each
                   day 15 drawn from a pool of 25, 09:30-11:30, each rates one social window
                   a 5 on their own phone, 70 % on the hall Wi-Fi.
  F9 alliance      tax, social and estate each give 6 staff (18): each rates each of the two
                   other units on 2 random days of the fortnight (4 taps each), own phone, a
                   random office-hours moment and window, 40 % Wi-Fi: under the returning bar.
  F10 forged_onsite a bot on a cloud server (47.100.23.57) forges X-Forwarded-For as the hall's
                   192.0.2.66 in front of its real address; fresh cookie each tap, estate's 3
                   windows in turn, every 4-8 min through opening hours, Mon-Fri; 3-8 s.
  F11 sim_drip     a rival's box of 40 China Mobile SIMs in the city rates tax 1 (70 %) or 2
                   (30 %): 9 taps a working day for two weeks at office-hours moments, each SIM
                   on at most 2 days (so 80 taps at most), a random tax window, 3-10 s.

RUNS: A the hall's network registered; B none registered; C = A plus the hall's queue system
(bench/fraud.py's queue_system) sending each window's services done every 10 minutes, with a
poster participation of 25 % (services = honest raters / 0.25, as the baseline assumes; no other
unrated services); D = A plus proof of visit: the category holds poster taps (poster_taps: hold)
and the queue system shows a visit token on the window's screen at each service's end (valid
240 min); 88 % of honest ratings scan it, 12 % still scan the poster out of habit. Attackers
in D keep to the poster (they were not served), except F6's clerks (above).

COUNTING: each tap by its final state; the unit's counts (scoring.period_counts: counted and
pending) are checked against the tally. An honest citizen is counted when none of their taps
ended held or refused and at least one counted (a double tap's duplicate is no loss).
Each scenario draws from its own random stream (seed and name), the same in every run.
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import json
import logging
import math
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fraud import MONDAY, WECHAT_UAS, Phone, Sim  # noqa: E402
from ratingsvc import registry, review, scoring, visits  # noqa: E402
from ratingsvc.embedded import RedisServer, free_port  # noqa: E402

SEED = 4404
HOURS = {"days": [1, 2, 3, 4, 5], "open": ["09:00-12:00", "13:30-17:00"]}
UNITS = [("tax", "区税务局办税服务厅", 4, 45), ("social", "区社会保险事业管理中心", 3, 40),
         ("fund", "住房公积金管理中心", 2, 30), ("estate", "不动产登记中心", 3, 32)]
PARTICIPATION = 0.25
HALL_NET, WIFI = "192.0.2.64/28", ("192.0.2.66", "192.0.2.67")
CARRIERS = [("223.104.160.0/21", 0.55), ("112.97.56.0/22", 0.30), ("106.36.80.0/22", 0.15)]
BROADBAND = "116.226.0.0/16"
PROXY_NETS = ("27.150.0.0/16", "113.57.0.0/16", "61.52.0.0/16")
LEVELS = [5] * 62 + [4] * 22 + [3] * 10 + [2] * 4 + [1] * 2
WEEK, FORTNIGHT = [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]
TOKEN_SHARE, TOKEN_MINUTES = 0.88, 240
FIVE = ("F1", "F2", "F3", "F4", "F5")  # the classes issue 16 names


def at(day: int, hour: float) -> float:
    return MONDAY + day * 86400 + hour * 3600


def pick(rng: random.Random, net: str) -> str:
    n = ipaddress.ip_network(net)
    return str(n[rng.randrange(1, n.num_addresses - 1)])


def mobile(rng: random.Random, carrier: str | None = None) -> str:
    if carrier is None:
        carrier = rng.choices([c for c, _ in CARRIERS], [w for _, w in CARRIERS])[0]
    return pick(rng, carrier)


def poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def office_moment(rng: random.Random) -> float:
    """An hour of the day inside opening hours, uniform over the 6.5 open hours."""
    return rng.uniform(9.0, 11.97) if rng.random() < 3 / 6.5 else rng.uniform(13.5, 16.97)


# The world: a scenario's actors as generators on one simulated clock ----------------------------
@dataclass
class Tap:
    who: str  # person id
    honest: bool
    unit: str
    window: int
    answer: str  # counted / held / duplicate / refused:<code>
    rating_id: str | None = None


@dataclass
class World:
    sim: Sim
    run: str
    rng: random.Random
    units: dict[str, list[registry.Window]] = field(default_factory=dict)
    hall: int = 0
    heap: list = field(default_factory=list)
    seq: int = 0
    taps: list[Tap] = field(default_factory=list)
    service_days: Counter = field(default_factory=Counter)

    def spawn(self, t: float, gen: Generator[float, None, None]) -> None:
        heapq.heappush(self.heap, (t, self.seq, gen))
        self.seq += 1

    def go(self) -> None:
        while self.heap:
            t, _, gen = heapq.heappop(self.heap)
            self.sim.clock.t = max(self.sim.clock.t, t)
            try:
                delay = next(gen)
            except StopIteration:
                continue
            self.spawn(self.sim.clock.t + delay, gen)

    def served(self, window: registry.Window | None) -> None:
        """Run C: the queue system learns of a service (None: only its 10-minute report)."""
        if self.run == "C":
            self.sim.queue_system(window)

    def token(self, window: registry.Window, ago: float = 0.0) -> str:
        """Run D: the visit token the queue system shows for a service that ended `ago` s ago."""
        return visits.issue(self.sim.r, self.sim.app.extensions["ratingsvc.signing"], self.hall,
                            window.id, channel="visit", now=self.sim.clock() - ago)


class Person:
    """One phone in someone's hand: it scans, taps, and (page=True) behaves as the rating page."""

    def __init__(self, w: World, who: str, honest: bool, ip: str, ua: str | None = None,
                 page: bool = True) -> None:
        self.w, self.who, self.honest, self.page = w, who, honest, page
        self.phone = Phone(w.sim, ip, ua or w.rng.choice(WECHAT_UAS))
        self.ticket: str | None = None
        self.path = ""
        self.window: registry.Window | None = None
        self.keys = 0

    def clear(self) -> None:
        """Cookies cleared: a new device to the server."""
        self.phone.cookie = ""

    def scan(self, window: registry.Window, token: str | None = None, renew: str | None = None) -> int:
        """A poster scan, or a visit token's (token). Returns the status."""
        self.window = window
        if token is None:
            self.path = f"/api/v1/scan/{self.w.sim.token(window)}"
        elif token:
            self.path = f"/api/v1/visit/{token}"
        status, body = self.phone.request("GET", self.path, None,
                                          {"Renew-Ticket": renew} if renew else None)
        self.ticket = body.get("ticket") if status == 200 else None
        return status

    def tap(self, level: int) -> Generator[float, None, None]:
        window = self.window
        assert window is not None
        if self.ticket is None:
            self.record(window, "refused:scan")
            return
        self.keys += 1
        key, renewed = f"{self.who}-{self.keys}", False
        for _attempt in range(7):
            status, body = self.phone.request(
                "POST", "/api/v1/ratings", {"ticket": self.ticket, "level": level},
                {"Idempotency-Key": key} if self.page else None)
            if status in (200, 201, 202):
                answer = {201: "counted", 202: "held", 200: "duplicate"}[status]
                self.record(window, answer, body.get("rating_id"))
                return
            code = (body.get("error") or {}).get("code", str(status))
            if self.page and status == 403 and code == "ticket_expired" and not renewed:
                old, renewed = self.ticket, True
                s = self.scan(window, "", renew=old)
                if s != 200:
                    self.record(window, f"refused:renew{s}")
                    return
                self.keys += 1
                key = f"{self.who}-{self.keys}"
                yield self.w.rng.uniform(0.2, 0.8)
                continue
            if self.page and status in (429, 503):
                yield 30.0
                continue
            self.record(window, f"refused:{code}")
            return
        self.record(window, "refused:gave_up")

    def record(self, window: registry.Window, answer: str, rid: str | None = None) -> None:
        self.w.taps.append(Tap(self.who, self.honest, window.unit, window.id, answer, rid))


# The honest baseline -----------------------------------------------------------------------------
@dataclass
class Crowd:
    """How the honest citizens of a scenario behave (the baseline's numbers by default)."""
    days: list[int] = field(default_factory=lambda: list(WEEK))
    factor: float = 1.0  # services x factor
    wifi: float = 0.45  # share on the hall's Wi-Fi
    one_nat: bool = False  # the Wi-Fi leaves through one address
    wifi_down: tuple[int, ...] = ()  # days the Wi-Fi is broken
    two_windows: float = 0.0  # share of tax and estate citizens served at two windows
    scan_wait: float = 0.0  # share who scan while waiting
    returning: float = 0.0  # share of tax and estate citizens who come back twice


def wifi_ip(w: World, crowd: Crowd) -> str:
    return WIFI[0] if crowd.one_nat else w.rng.choice(WIFI)


def address(w: World, crowd: Crowd, day: int) -> tuple[str, bool]:
    """(address, on the Wi-Fi) for one honest visit."""
    if day not in crowd.wifi_down and w.rng.random() < crowd.wifi:
        return wifi_ip(w, crowd), True
    return mobile(w.rng), False


def citizen(w: World, p: Person, window: registry.Window, crowd: Crowd, day: int,
            ahead: float = 0.0) -> Generator[float, None, None]:
    """One honest rating: served, scans (the poster or, run D, the visit token), taps. ahead > 0:
    a citizen who scans the poster while waiting, `ahead` seconds before the service ends (the
    generator starts at that scan)."""
    rng = w.rng
    elderly = rng.random() < 0.12
    level = rng.choice(LEVELS)
    use_token = w.run == "D" and rng.random() < TOKEN_SHARE
    if ahead and not use_token:
        p.scan(window)
        yield ahead
        w.served(window)
        if rng.random() < 0.35:  # on the other network by now
            p.phone.ip = mobile(rng) if p.phone.ip in WIFI or day in crowd.wifi_down else wifi_ip(w, crowd)
        yield rng.uniform(5, 40)
        yield from p.tap(level)
        return
    if ahead:  # run D: they wait for the token instead
        yield ahead
    w.served(window)
    yield rng.uniform(30, 180) if elderly else rng.uniform(5, 90)
    token = w.token(window) if use_token else None
    p.scan(window, token)
    yield rng.uniform(20, 90) if elderly else rng.uniform(3, 25)
    yield from p.tap(level)
    if elderly and rng.random() < 0.3:  # reloads and taps again
        yield rng.uniform(2, 6)
        p.scan(window, "" if use_token else None)
        yield rng.uniform(1, 3)
        yield from p.tap(level)


def service_time(rng: random.Random) -> float:
    return rng.uniform(9.08, 11.92) if rng.random() < 0.6 else rng.uniform(13.58, 16.92)


def later(hour: float, minutes: float) -> float | None:
    """A time `minutes` after hour, moved past the lunch break; None after 16:58."""
    t = hour + minutes / 60
    if 12.0 <= t < 13.5:
        t += 1.5
    return t if t <= 16.97 else None


def two_window_visit(w: World, p: Person, first: registry.Window, second: registry.Window,
                     day: int, hour: float, crowd: Crowd) -> Generator[float, None, None]:
    yield from citizen(w, p, first, crowd, day)
    gap = w.rng.choices([(5, 45), (45, 120), (120, 240)], [0.7, 0.2, 0.1])[0]
    nxt = later((w.sim.clock() - MONDAY - day * 86400) / 3600, w.rng.uniform(*gap))
    if nxt is None:
        return
    yield at(day, nxt) - w.sim.clock()
    yield from citizen(w, p, second, crowd, day)


def baseline(w: World, crowd: Crowd, tag: str = "c") -> None:
    rng, n = w.rng, 0
    for day in crowd.days:
        for uid, _name, _nw, services in UNITS:
            windows = w.units[uid]
            for window in windows:
                for _ in range(poisson(rng, services * crowd.factor * PARTICIPATION)):
                    n += 1
                    hour = service_time(rng)
                    ip, _ = address(w, crowd, day)
                    p = Person(w, f"{tag}{n}", True, ip)
                    if uid in ("tax", "estate") and rng.random() < crowd.two_windows:
                        second = rng.choice([x for x in windows if x.id != window.id])
                        w.spawn(at(day, hour), two_window_visit(w, p, window, second, day, hour, crowd))
                        continue
                    if rng.random() < crowd.scan_wait:
                        ahead = rng.uniform(5, 40) * 60
                        w.spawn(at(day, hour) - ahead, citizen(w, p, window, crowd, day, ahead))
                        continue
                    w.spawn(at(day, hour), citizen(w, p, window, crowd, day))
                    if uid in ("tax", "estate") and rng.random() < crowd.returning:
                        more = [d for d in crowd.days if d > day]
                        for d2 in sorted(rng.sample(more, min(2, len(more)))):
                            h2 = service_time(rng)
                            w.spawn(at(d2, h2), revisit(w, p, rng.choice(windows), crowd, d2))


def revisit(w: World, p: Person, window: registry.Window, crowd: Crowd,
            day: int) -> Generator[float, None, None]:
    p.phone.ip, _ = address(w, crowd, day)
    yield from citizen(w, p, window, crowd, day)


# Scenarios ----------------------------------------------------------------------------------------
def h1(w: World) -> None:
    baseline(w, Crowd())


def h2(w: World) -> None:
    baseline(w, Crowd(two_windows=0.35))


def h3(w: World) -> None:
    baseline(w, Crowd(factor=2.0, wifi=0.85, one_nat=True))


def h5(w: World) -> None:
    baseline(w, Crowd(wifi=0.25))


def h6(w: World) -> None:
    baseline(w, Crowd(scan_wait=0.30))


def h7(w: World) -> None:
    baseline(w, Crowd(days=list(FORTNIGHT), returning=0.05))
    rng = w.rng
    for i in range(4):
        p = Person(w, f"acct{i}", True, WIFI[0])
        for week in (WEEK, [7, 8, 9, 10, 11]):
            for day in sorted(rng.sample(week, 3)):
                if rng.random() < 0.5:
                    w.spawn(at(day, service_time(rng)),
                            revisit(w, p, rng.choice(w.units["tax"]), Crowd(), day))


def h8(w: World) -> None:
    baseline(w, Crowd(wifi_down=(1, 2)))


def h9(w: World) -> None:
    baseline(w, Crowd())
    rng, n = w.rng, 0
    for window, services in ((w.units["tax"][0], 45), (w.units["tax"][1], 45), (w.units["social"][0], 40)):
        for _ in range(poisson(rng, services * 0.6 * 0.6 * PARTICIPATION)):
            n += 1
            hour = rng.uniform(9.08, 11.92)
            ip, _ = address(w, Crowd(), 5)
            w.spawn(at(5, hour), citizen(w, Person(w, f"sat{n}", True, ip), window, Crowd(), 5))


def h10(w: World) -> None:
    baseline(w, Crowd())
    rng = w.rng
    for i in range(28):
        hour = 9 + 40 / 60 + i * (60 / 28) / 60 + rng.uniform(0, 0.02)
        ip = mobile(rng) if rng.random() < 0.8 else rng.choice(WIFI)
        window = w.units["social"][i % 3]
        w.spawn(at(2, hour), citizen(w, Person(w, f"hire{i}", True, ip), window, Crowd(), 2))


def fraud_tap(w: World, p: Person, window: registry.Window, level: int, think: tuple[float, float],
              token: str | None = None) -> Generator[float, None, None]:
    w.served(None)
    p.scan(window, token)
    yield w.rng.uniform(*think)
    yield from p.tap(level)


def own_phone_session(w: World, p: Person, window: registry.Window, wifi_share: float,
                      carrier: str | None, level: int = 5,
                      think: tuple[float, float] = (3, 12)) -> Generator[float, None, None]:
    p.phone.ip = w.rng.choice(WIFI) if w.rng.random() < wifi_share else mobile(w.rng, carrier)
    yield from fraud_tap(w, p, window, level, think)


def carrier_of(rng: random.Random) -> str:
    return rng.choices([c for c, _ in CARRIERS], [wt for _, wt in CARRIERS])[0]


def f1(w: World) -> None:
    baseline(w, Crowd(days=list(FORTNIGHT)))
    rng = w.rng
    for i in range(7):
        p, carrier = Person(w, f"staff{i}", False, ""), carrier_of(rng)
        for day in FORTNIGHT:
            w.spawn(at(day, office_moment(rng)),
                    own_phone_session(w, p, rng.choice(w.units["fund"]), 0.4, carrier))


def f2(w: World) -> None:
    baseline(w, Crowd())
    rng, window = w.rng, w.units["estate"][1]
    for i in range(220):
        day = rng.choice([1, 2, 3])
        ip = mobile(rng) if rng.random() < 0.55 else pick(rng, BROADBAND)
        w.spawn(at(day, rng.uniform(9.0, 17.0)),
                fraud_tap(w, Person(w, f"spread{i}", False, ip), window, 5, (5, 30)))


def bot_loop(w: World, name: str, ip: str, windows: list[registry.Window], spans: list[tuple[float, float]],
             every: tuple[float, float], think: tuple[float, float], days: Iterable[int],
             ) -> None:
    rng = w.rng
    ua = rng.choice(WECHAT_UAS)
    p = Person(w, name, False, ip, ua, page=False)

    def loop(day: int, start: float, end: float) -> Generator[float, None, None]:
        i = 0
        while w.sim.clock() < at(day, end):
            p.clear()
            yield from fraud_tap(w, p, windows[i % len(windows)], 5, think)
            i += 1
            yield rng.uniform(*every) * 60

    for day in days:
        for start, end in spans:
            w.spawn(at(day, start), loop(day, start, end))


def f3(w: World) -> None:
    baseline(w, Crowd())
    bot_loop(w, "bot", pick(w.rng, BROADBAND), w.units["tax"], [(13 + 40 / 60, 16 + 50 / 60)],
             (6, 11), (4, 9), WEEK)


def f4(w: World) -> None:
    baseline(w, Crowd())
    rng = w.rng
    proxies = [pick(rng, rng.choice(PROXY_NETS)) for _ in range(25)]
    n = 0
    for day in (1, 3):
        for start in (10.0, 14.5, 16.0):
            window = rng.choice(w.units["social"])
            for _ in range(45):
                n += 1
                forged = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                ip = f"{forged}, {WIFI[0]}, {rng.choice(proxies)}"
                p = Person(w, f"flood{n}", False, ip, page=False)
                w.spawn(at(day, start + rng.uniform(0, 0.25)), fraud_tap(w, p, window, 1, (2, 6)))


def f5(w: World) -> None:
    baseline(w, Crowd())
    rng, n = w.rng, 0
    for day in (0, 2):
        for _ in range(130):
            n += 1
            ip = mobile(rng) if rng.random() < 0.6 else pick(rng, BROADBAND)
            w.spawn(at(day, rng.uniform(19.0, 23.5)),
                    fraud_tap(w, Person(w, f"night{n}", False, ip), rng.choice(w.units["fund"]), 5, (5, 30)))


def f6(w: World) -> None:
    baseline(w, Crowd())
    rng = w.rng
    for i, window in enumerate(w.units["tax"]):
        p = Person(w, f"clerk{i}", False, rng.choice(WIFI))
        for day in WEEK:
            for _ in range(6):
                w.spawn(at(day, office_moment(rng)), counter_tap(w, p, window))


def counter_tap(w: World, p: Person, window: registry.Window) -> Generator[float, None, None]:
    p.clear()
    p.phone.ip = w.rng.choice(WIFI)
    token = None
    if w.run == "D":  # the token on the clerk's own screen, from a service 1-3 min ago
        token = w.token(window, w.rng.uniform(60, 180))
    yield from fraud_tap(w, p, window, 5, (2, 5), token)


def f7(w: World) -> None:
    baseline(w, Crowd(days=list(FORTNIGHT)))
    rng = w.rng
    for i in range(40):
        p = Person(w, f"kin{i}", False, "")
        home = pick(rng, BROADBAND)
        for week in (WEEK, [7, 8, 9, 10, 11]):
            day = rng.choice(week)
            w.spawn(at(day, rng.uniform(9.0, 17.0)), kin_tap(w, p, home, day))


def kin_tap(w: World, p: Person, home: str, day: int) -> Generator[float, None, None]:
    p.phone.ip = mobile(w.rng) if w.rng.random() < 0.5 else home
    yield from fraud_tap(w, p, w.rng.choice(w.units["estate"]), 5, (3, 20))


def f8(w: World) -> None:
    baseline(w, Crowd())
    rng = w.rng
    pool = [(Person(w, f"vol{i}", False, ""), carrier_of(rng)) for i in range(25)]
    for day in (0, 2, 4):
        for p, carrier in rng.sample(pool, 15):
            w.spawn(at(day, rng.uniform(9.5, 11.5)),
                    own_phone_session(w, p, rng.choice(w.units["social"]), 0.7, carrier, 5, (3, 15)))


def f9(w: World) -> None:
    baseline(w, Crowd(days=list(FORTNIGHT)))
    rng = w.rng
    allied = ("tax", "social", "estate")
    for home in allied:
        for i in range(6):
            p, carrier = Person(w, f"ally-{home}{i}", False, ""), carrier_of(rng)
            for other in allied:
                if other == home:
                    continue
                for day in rng.sample(FORTNIGHT, 2):
                    w.spawn(at(day, office_moment(rng)),
                            own_phone_session(w, p, rng.choice(w.units[other]), 0.4, carrier))


def f10(w: World) -> None:
    baseline(w, Crowd())
    bot_loop(w, "vps", f"{WIFI[0]}, 47.100.23.57", w.units["estate"],
             [(9.0, 11.95), (13.5, 16.95)], (4, 8), (3, 8), WEEK)


def f11(w: World) -> None:
    baseline(w, Crowd(days=list(FORTNIGHT)))
    rng = w.rng
    sims = [Person(w, f"sim{i}", False, "") for i in range(40)]
    used: Counter = Counter()
    for day in FORTNIGHT:
        free = [s for s in sims if used[s.who] < 2]
        for p in rng.sample(free, min(9, len(free))):
            used[p.who] += 1
            level = 1 if rng.random() < 0.7 else 2
            w.spawn(at(day, office_moment(rng)),
                    own_phone_session(w, p, rng.choice(w.units["tax"]), 0.0, CARRIERS[0][0], level, (3, 10)))


SCENARIOS: list[tuple[str, str, Callable[[World], None], dict]] = [
    ("H1", "honest: baseline week (control)", h1, {}),
    ("H2", "honest: two windows in one visit (受理 then 缴费)", h2, {}),
    ("H3", "honest: busy hall behind one address, 2x services", h3, {}),
    ("H5", "honest: hall 75 % on mobile data", h5, {}),
    ("H6", "honest: scan while waiting, 35 % change network", h6, {}),
    ("H7", "honest: returning citizens (补材料) and 代账 accountants, 2 weeks", h7, {}),
    ("H8", "honest: Wi-Fi broken Tue-Wed", h8, {}),
    ("H9", "honest: Saturday service, hours say Mon-Fri", h9, {}),
    ("H10", "honest: 28 new hires at social in one hour", h10, {}),
    ("F1", "staff, own phones, once a working day, 2 weeks", f1, {}),
    ("F2", "poster photo spread in a 业主群, office hours, 3 days", f2, {}),
    ("F3", "patient bot, one address, afternoons, 4 windows", f3, {}),
    ("F4", "rival's flood in waves, 25 proxies, forged XFF", f4, {}),
    ("F5", "night crowd, unit without hours", f5, {"no_hours": ("fund",)}),
    ("F6", "counter phones on the hall Wi-Fi, cache cleared", f6, {}),
    ("F7", "relatives, once a week each, 2 weeks", f7, {}),
    ("F8", "fake crowd of volunteers in the waiting area", f8, {}),
    ("F9", "alliance: staff rate allied units, 2 days each", f9, {}),
    ("F10", "bot forging the hall's address in XFF", f10, {}),
    ("F11", "rival's SIM box, 1-2 stars, 2 weeks", f11, {}),
]


# Running and counting --------------------------------------------------------------------------
def build(w: World, no_hours: tuple[str, ...] = ()) -> None:
    sim, r = w.sim, w.sim.r
    r.flushdb()
    sim.clock.at(0)
    policy = "hold" if w.run == "D" else "count"
    registry.save_category(r, registry.Category("c", "窗口单位", poster_taps=policy), create=True)
    for uid, name, n, _ in UNITS:
        registry.save_unit(r, registry.Unit(uid, name, "c"), create=True)
        made = [registry.create_window(r, uid, f"{i + 1}号窗口") for i in range(n)]
        if uid not in no_hours:
            made = [registry.update_window(r, x.id, hours=HOURS) for x in made]
        w.units[uid] = made
    every = [x for ws in w.units.values() for x in ws]
    hall, _key = visits.create_hall(r, sim.app.extensions["ratingsvc.signing"], name="区政务服务中心",
                                    windows=[x.id for x in every], valid_minutes=TOKEN_MINUTES,
                                    now=sim.clock(), networks=[] if w.run == "B" else [HALL_NET])
    w.hall = hall.id
    sim.windows, sim.served, sim.reported = every, Counter(), -1


def day_ends(w: World, days: Iterable[int]) -> None:
    """Run C: the queue system's last report of each day, at 17:10."""
    def report() -> Generator[float, None, None]:
        w.sim.queue_system(None, final=True)
        yield from ()

    if w.run == "C":
        for day in days:
            w.spawn(at(day, 17 + 10 / 60), report())


def settle(w: World, code: str, name: str) -> dict:
    r = w.sim.r
    unit_ids = [u for u, *_ in UNITS]
    held = {t.rating_id: t.reasons for t in review.list_held(r, unit_ids)}
    final: list[tuple[Tap, str, list[str]]] = []
    by_unit: dict[str, Counter] = defaultdict(Counter)
    for t in w.taps:
        state, reasons = t.answer, []
        if t.answer in ("counted", "held"):
            if t.rating_id in held:
                state, reasons = "held", held[t.rating_id]
            else:
                state = "counted"
        by_unit[t.unit][state] += 1
        final.append((t, state, reasons))
    counts = scoring.period_counts(r, unit_ids, date(2026, 6, 1), date(2026, 6, 14))
    agree = all(sum(c.counts) == by_unit[c.unit]["counted"] and c.pending == by_unit[c.unit]["held"]
                for c in counts)
    fraud = [(s, rs) for t, s, rs in final if not t.honest]
    f_states = Counter(s.split(":")[0] for s, _ in fraud)
    f_reasons = Counter(x for s, rs in fraud if s == "held" for x in rs)
    people: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
    for t, s, rs in final:
        if t.honest:
            people[t.who].append((s, rs))
    ok = sum(1 for taps in people.values()
             if any(s == "counted" for s, _ in taps) and all(s in ("counted", "duplicate") for s, _ in taps))
    h_reasons = Counter(x for taps in people.values() for s, rs in taps if s == "held" for x in rs)
    h_refused = Counter(s for taps in people.values() for s, _ in taps if s.startswith("refused"))
    return {"id": code, "name": name, "fraud_sent": len(fraud), "fraud_counted": f_states["counted"],
            "fraud_held": f_states["held"], "fraud_duplicate": f_states["duplicate"],
            "fraud_refused": f_states["refused"], "fraud_held_reasons": dict(f_reasons.most_common()),
            "honest_people": len(people), "honest_counted": ok,
            "honest_taps": sum(len(v) for v in people.values()),
            "honest_held_reasons": dict(h_reasons.most_common()), "honest_refused": dict(h_refused),
            "counts_agree": agree, "services_reported": sum(c.volume for c in counts)}


def one_run(job: tuple[str, int, str]) -> dict:
    run, seed, only = job
    t0 = time.monotonic()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), port=free_port(), appendonly=False).start()
        try:
            sim = Sim(server.url, random.Random(seed), {},
                      volumes_of=(PARTICIPATION, 0) if run == "C" else None)
            logging.getLogger("ratingsvc").setLevel(logging.ERROR)
            logging.getLogger("ratingsvc.access").disabled = True
            try:
                for code, name, fn, opts in SCENARIOS:
                    if only and code not in only.split(","):
                        continue
                    s0 = time.monotonic()
                    w = World(sim, run, random.Random(f"{seed}:{code}"))
                    build(w, **opts)
                    fn(w)
                    day_ends(w, range(12))
                    w.go()
                    res = settle(w, code, name)
                    res["seconds"] = round(time.monotonic() - s0, 1)
                    out.append(res)
            finally:
                sim.server.shutdown()
        finally:
            server.stop()
    return {"run": run, "seconds": round(time.monotonic() - t0, 1), "scenarios": out}


def totals(run: dict) -> dict:
    sc = run["scenarios"]
    fs = sum(s["fraud_sent"] for s in sc)
    fc = sum(s["fraud_counted"] for s in sc)
    five = [s for s in sc if s["id"] in FIVE]
    f5s, f5c = sum(s["fraud_sent"] for s in five), sum(s["fraud_counted"] for s in five)
    hp = sum(s["honest_people"] for s in sc)
    hc = sum(s["honest_counted"] for s in sc)
    return {"fraud_sent": fs, "fraud_counted": fc, "fraud_pct": round(100 * fc / max(fs, 1), 2),
            "five_sent": f5s, "five_counted": f5c, "five_pct": round(100 * f5c / max(f5s, 1), 2),
            "honest_people": hp, "honest_counted": hc, "honest_pct": round(100 * hc / max(hp, 1), 2),
            "counts_agree": all(s["counts_agree"] for s in sc)}


RUN_NAMES = {"A": "network registered", "B": "no network registered",
             "C": "network registered + queue system volumes (25 % participation)",
             "D": "network registered + proof of visit (poster_taps: hold, visit tokens)"}


def reasons_text(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "-"


def markdown(report: dict) -> str:
    lines = [f"# fraud-apart-fourth {report['date']} (seed {report['seed']}, "
             f"{report['wall_seconds']} s wall)", ""]
    for run in report["runs"]:
        t = run["totals"]
        lines += [f"## Run {run['run']}: {RUN_NAMES[run['run']]}", "",
                  "| scenario | fraud sent | counted | held | dup | refused | held reasons "
                  "| honest people | counted | honest held reasons |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for s in run["scenarios"]:
            hr = reasons_text(s["honest_held_reasons"])
            if s["honest_refused"]:
                hr += "; refused " + reasons_text(s["honest_refused"])
            lines.append(f"| {s['id']} {s['name']} | {s['fraud_sent']} | {s['fraud_counted']} | "
                         f"{s['fraud_held']} | {s['fraud_duplicate']} | {s['fraud_refused']} | "
                         f"{reasons_text(s['fraud_held_reasons'])} | {s['honest_people']} | "
                         f"{s['honest_counted']} | {hr} |")
        lines += ["", f"**Totals, run {run['run']}**: fraud taps counted {t['fraud_counted']} / "
                  f"{t['fraud_sent']} = **{t['fraud_pct']} %** (goal <= 1 %; issue 16's five classes "
                  f"{t['five_counted']} / {t['five_sent']} = {t['five_pct']} %); honest citizens counted "
                  f"{t['honest_counted']} / {t['honest_people']} = **{t['honest_pct']} %** (goal >= 99 %); "
                  f"unit counts agree with the tally: {t['counts_agree']}", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--runs", default="ABCD")
    ap.add_argument("--only", default="", help="comma-separated scenario ids (a partial run, for debugging)")
    a = ap.parse_args()
    t0 = time.monotonic()
    jobs = [(run, a.seed, a.only) for run in a.runs.upper()]
    if len(jobs) == 1:
        runs = [one_run(jobs[0])]
    else:
        with ProcessPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(one_run, jobs))
    for run in runs:
        run["totals"] = totals(run)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    report = {"date": today, "seed": a.seed, "wall_seconds": round(time.monotonic() - t0, 1),
              "participation_C": PARTICIPATION, "token_share_D": TOKEN_SHARE, "runs": runs}
    out = Path(__file__).resolve().parents[1] / "results"
    out.mkdir(exist_ok=True)
    (out / f"fraud-apart-fourth-{today}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out / f"fraud-apart-fourth-{today}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
