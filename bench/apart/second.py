# ruff: noqa: E501  (report lines)
"""Independent attack simulation of ratingsvc's anti-fraud signals.

    .venv/bin/python bench/apart/second.py [--seed N] [--only NAME ...]

Harness (Clock, Phone, Sim, settle/run shape) adapted from bench/fraud.py; the
scenarios, sizes, paces, addresses and hours are our own. Every tap is tracked by its
rating_id, so fraud and honest taps in one scenario are told apart exactly (not by level);
the unit's score (scoring.period_counts) is read as a cross-check.
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import json
import logging
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/fraud.py
from fraud import Clock as FraudClock  # noqa: E402
from fraud import exchange  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from ratingsvc import create_app, recording, registry, scoring, visits  # noqa: E402
from ratingsvc.embedded import RedisServer, free_port  # noqa: E402
from ratingsvc.hours import UNIT_HOURS, compile_hours, parse_text  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"  # bench/results

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, tzinfo=TZ).timestamp()  # Monday 2 March 2026
FIRST_DAY, LAST_DAY = date(2026, 3, 2), date(2026, 3, 31)

# The hall's broadband: a /29 of a provincial telecom's fixed-line block, NAT'd behind .66
HALL_NET = "58.211.82.64/29"
HALL_NAT = ["58.211.82.66", "58.211.82.67"]  # two egress addresses (most hall traffic on .66)

# Mobile carriers' CGNAT egress pools, as a server in the same province would see them
CARRIER_POOLS = {  # carrier -> (share of phones, list of /24s used by the local gateways)
    "cmcc": (0.58, ["223.104.3.0/24", "223.104.4.0/24", "117.136.12.0/24", "117.136.13.0/24"]),
    "unicom": (0.25, ["112.97.48.0/24", "112.97.49.0/24", "27.115.8.0/24"]),
    "telecom": (0.17, ["106.37.160.0/24", "183.192.40.0/24"]),
}
# far-away addresses (a photo shared in WeChat groups nationwide): mobile and home broadband
FAR_BLOCKS = ["39.144.0.0/16", "120.229.0.0/16", "111.30.0.0/16", "36.112.0.0/16",
              "220.196.0.0/16", "113.88.0.0/16", "171.43.0.0/16", "125.118.0.0/16",
              "182.150.0.0/16", "101.86.0.0/16"]

UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.48(0x18003030) NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/4G Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 12; ALN-AL00 Build/HUAWEIALN-AL00; wv) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Version/4.0 Chrome/111.0 Mobile Safari/537.36 MicroMessenger/8.0.49.2600(0x28003133) "
    "NetType/5G Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 13; PHB110 Build/TP1A.220905.001; wv) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Version/4.0 Chrome/116.0 Mobile Safari/537.36 XWEB/1160083 MMWEBSDK/20240301 "
    "MicroMessenger/8.0.48.2580 WeChat/arm64 Weixin NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (Linux; U; Android 11; zh-CN; M2012K11AC Build/RKQ1.200826.002) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/100.0 Mobile Safari/537.36 AlipayClient/10.5.86.8000 "
    "Language/zh-Hans",
    "Mozilla/5.0 (Linux; Android 10; HarmonyOS; TAS-AL00) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/99.0 Mobile Safari/537.36 HuaweiBrowser/14.0.2.311",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; V2307A; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.49 NetType/4G Language/zh_CN",
]
HONEST_LEVELS = [5] * 55 + [4] * 25 + [3] * 11 + [2] * 5 + [1] * 4
OUTCOME = {201: "counted", 202: "held", 200: "duplicate"}
STD_HOURS = {"days": [1, 2, 3, 4, 5], "open": ["09:00-12:00", "13:30-17:00"]}
LONG_HOURS = {"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00", "13:30-17:30"]}


# --- harness, adapted from bench/fraud.py --------------------------------------------------
class Clock(FraudClock):
    def __init__(self) -> None:
        super().__init__(START)

    def at(self, hour: float, day: int = 0) -> float:  # (a time, not a move)
        return START + day * 86400 + hour * 3600


class Phone:
    """One phone: its own cookies, an address and a User-Agent. forged: what the client itself
    puts in X-Forwarded-For (nginx appends the real address as the last hop)."""

    def __init__(self, sim: Sim, ip: str, ua: str, forged: str = "") -> None:
        self.sim, self.ip, self.ua, self.cookie, self.forged = sim, ip, ua, "", forged

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        # nginx appends the real client address as the last hop; a forger's chain comes first
        xff = f"{self.forged}, {self.ip}" if self.forged else self.ip
        status, payload, self.cookie = exchange(self.sim.port, method, path, body,
                                                {"X-Forwarded-For": xff, "User-Agent": self.ua}, self.cookie)
        return status, payload

    def scan(self, window: registry.Window) -> str | None:
        status, body = self.request("GET", f"/api/v1/scan/{self.sim.token(window)}")
        return body.get("ticket") if status == 200 else None

    def tap(self, ticket: str | None, level: int) -> tuple[str, str | None]:
        if ticket is None:
            return "refused", None
        status, body = self.request("POST", "/api/v1/ratings", {"ticket": ticket, "level": level})
        return OUTCOME.get(status, "refused"), body.get("rating_id")


class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class Sim:
    def __init__(self, redis_url: str, rng: random.Random, network: bool) -> None:
        self.clock, self.rng, self.network = Clock(), rng, network
        limits = {f"LIMIT_{name}": "1000000/minute"  # wall-clock limits widened (as the harness)
                  for name in ("SCAN_IP", "SCAN_WINDOW", "SCAN_RATER", "RATING_IP", "DEFAULT_IP")}
        self.app = create_app({"REDIS_URL": redis_url, "CLOCK": self.clock, "PROXY_HOPS": 1,
                               "PUBLIC_URL": "https://pj.example.gov.cn", "TAP_DURABILITY": "server",
                               **limits})
        logging.getLogger("ratingsvc.access").setLevel(logging.WARNING)
        self.r = self.app.extensions["ratingsvc.redis"]
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True,
                                  request_handler=Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.unit = "u1"

    def fresh(self, names: list[str], window_hours: list[dict | None], unit_hours: str | None,
              unit_name: str = "区行政审批服务中心") -> list[registry.Window]:
        """Empty database; one unit with its windows; one hall with all of them (its Wi-Fi
        registered in run A). window_hours[i]: the window's own hours or None (never set);
        unit_hours: the unit's default as the import's `hours` column gives it, or None."""
        self.r.flushdb()
        self.clock.t = START
        registry.save_category(self.r, registry.Category("c", "政务服务窗口"), create=True)
        registry.save_unit(self.r, registry.Unit(self.unit, unit_name, "c"), create=True)
        made = [registry.create_window(self.r, self.unit, n) for n in names]
        visits.create_hall(self.r, self.app.extensions["ratingsvc.signing"], name="政务服务大厅",
                           windows=[w.id for w in made], valid_minutes=1440, now=self.clock(),
                           networks=[HALL_NET] if self.network else [])
        if unit_hours:  # what `ratingsvc units import` writes for the `hours` column
            self.r.hset(registry.UnitKeys(self.unit).hours, UNIT_HOURS,
                        compile_hours(parse_text(unit_hours)))
        return [registry.update_window(self.r, w.id, hours=h) if h else w
                for w, h in zip(made, window_hours, strict=True)]

    def token(self, window: registry.Window) -> str:
        return self.app.extensions["ratingsvc.signing"].qr_token(window.id, window.epoch)


# --- our own bookkeeping and event engine ------------------------------------------------------
@dataclass
class Group:
    name: str
    honest: bool
    taps: list = field(default_factory=list)  # [answer, rating_id, person]
    people: set = field(default_factory=set)

    def add(self, answer: str, rid: str | None, person) -> None:
        self.taps.append([answer, rid, person])


class Engine:
    """Scans and taps in simulated-time order (a tap can come minutes after its scan)."""

    def __init__(self, sim: Sim) -> None:
        self.sim, self.q, self.n = sim, [], 0

    def at(self, t: float, fn) -> None:
        self.n += 1
        heapq.heappush(self.q, (t, self.n, fn))

    def visit(self, t: float, phone: Phone, window, level: int, think: float, group: Group,
              person, then=None) -> None:
        """phone scans window at t, taps level think seconds later; then(t_after) follows."""
        def scan():
            ticket = phone.scan(window)
            def tap():
                answer, rid = phone.tap(ticket, level)
                group.add(answer, rid, person)
                if then:
                    then(self.sim.clock.t)
            self.at(self.sim.clock.t + think, tap)
        group.people.add(person)
        self.at(t, scan)

    def run(self) -> None:
        while self.q:
            t, _, fn = heapq.heappop(self.q)
            self.sim.clock.t = t
            fn()


# --- people ---------------------------------------------------------------------------------
def rand_in(rng, cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    return str(net[rng.randrange(1, net.num_addresses - 1)])


def mobile_ip(rng) -> str:
    r, acc = rng.random(), 0.0
    for share, blocks in CARRIER_POOLS.values():
        acc += share
        if r <= acc:
            return rand_in(rng, rng.choice(blocks))
    return rand_in(rng, CARRIER_POOLS["cmcc"][1][0])


def hall_ip(rng) -> str:
    return HALL_NAT[0] if rng.random() < 0.85 else HALL_NAT[1]


def far_ip(rng) -> str:
    return rand_in(rng, rng.choice(FAR_BLOCKS))


def think(rng) -> float:
    """Seconds from scan to tap: most a few seconds, the elderly slower, a few distracted."""
    x = rng.random()
    if x < 0.01:
        return rng.uniform(300, 1500)  # scanned while waiting, tapped after being served
    if x < 0.15:
        return rng.uniform(30, 150)
    return max(1.6, rng.lognormvariate(2.0, 0.6))


def office_time(rng, day: int, am=(9.0, 12.0), pm=(13.5, 17.0), am_share=0.62, peak=0.35) -> float:
    """A time in office hours; `peak` of the morning's people come 09:00-10:30."""
    if rng.random() < am_share:
        h = rng.uniform(am[0], am[0] + 1.5) if rng.random() < peak else rng.uniform(*am)
    else:
        h = rng.uniform(*pm)
    return START + day * 86400 + h * 3600


def pick(rng, weights: list[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


def citizens(sim: Sim, eng: Engine, group: Group, windows, day: int, n: int, weights,
             mobile_share: float, when=None, ip_fn=None) -> None:
    """n honest citizens on a day: each a new phone, one window, one tap (a few tap twice)."""
    rng = sim.rng
    for i in range(n):
        t = when(rng) if when else office_time(rng, day)
        ip = ip_fn(rng) if ip_fn else (mobile_ip(rng) if rng.random() < mobile_share else hall_ip(rng))
        phone = Phone(sim, ip, rng.choice(UAS))
        w = windows[pick(rng, weights)]
        person = (group.name, day, i)
        level = rng.choice(HONEST_LEVELS)
        then = None
        if rng.random() < 0.04:  # taps again a little later (the page seemed stuck): a duplicate
            def then(t2, phone=phone, w=w, level=level, person=person):
                eng.visit(t2 + rng.uniform(5, 60), phone, w, level, max(1.6, think(rng) % 60),
                          dup, person)
        eng.visit(t, phone, w, level, think(rng), group, person, then)


dup = Group("(repeat taps by honest citizens)", True)  # duplicates, reported apart


# --- windows ---------------------------------------------------------------------------------
SIX = ["1号综合受理", "2号综合受理", "3号不动产登记", "4号社保医保", "5号收费缴费", "6号自助服务区"]
W6 = [0.26, 0.22, 0.16, 0.16, 0.14, 0.06]


# --- fraud scenarios -----------------------------------------------------------------------
def f1_staff(sim: Sim):
    """The unit's own 9 clerks, own phones (cookies kept), 4G/5G addresses that change by day,
    each rating one window (their own or a colleague's) most working days for two weeks,
    between services or at lunch. 35 honest citizens a day around them."""
    ws = sim.fresh(SIX, [STD_HOURS] * 6, None)
    eng, rng = Engine(sim), sim.rng
    fraud, honest = Group("F1 staff, own phones, daily, 2 weeks", False), Group("F1 background", True)
    staff = [(Phone(sim, "", rng.choice(UAS)), rng.randrange(6)) for _ in range(9)]
    for day in [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]:
        citizens(sim, eng, honest, ws, day, 35, W6, 0.4)
        for k, (ph, own) in enumerate(staff):
            if rng.random() < 0.85:
                ph.ip = mobile_ip(rng)  # CGNAT hands out another address each day
                w = ws[own] if rng.random() < 0.7 else ws[rng.randrange(6)]
                h = rng.choice([rng.uniform(9.2, 11.8), rng.uniform(12.0, 13.4), rng.uniform(13.6, 16.9)])
                eng.visit(START + day * 86400 + h * 3600, ph, w, 5, rng.uniform(3, 12), fraud, k)
    eng.run()
    return [fraud, honest]


def f2_poster_spread(sim: Sim):
    """A photo of window 3's poster shared in WeChat groups ("帮忙点个五星好评"): 330 people
    from 280 addresses across the country, Tue-Thu office hours, ~110 a day at a modest pace;
    hours only as the unit default (import). 45 honest citizens a day."""
    ws = sim.fresh(SIX, [None] * 6, "1-5 09:00-12:00,13:30-17:00")
    eng, rng = Engine(sim), sim.rng
    fraud, honest = Group("F2 poster photo spread online", False), Group("F2 background", True)
    addrs = [far_ip(rng) for _ in range(280)]
    for day in range(4):
        citizens(sim, eng, honest, ws, day, 45, W6, 0.35)
        if day >= 1:
            for i in range(110):
                t = office_time(rng, day, am_share=0.5, peak=0.0)
                lvl = 5 if rng.random() < 0.9 else 4
                eng.visit(t, Phone(sim, rng.choice(addrs), rng.choice(UAS)), ws[2], lvl,
                          max(1.6, rng.lognormvariate(1.8, 0.5)), fraud, (day, i))
    eng.run()
    return [fraud, honest]


def f3_patient_bot(sim: Sim):
    """A script on one home-broadband address, cookies cleared before every scan, one real
    WeChat User-Agent, a tap every 5-9 minutes rotating over windows 1, 2, 4 and 5, 14:00-17:00
    on Mon, Wed and Thu. Hours set on windows 1-3 only. 40 honest citizens a day."""
    ws = sim.fresh(SIX, [STD_HOURS] * 3 + [None] * 3, None)
    eng, rng = Engine(sim), sim.rng
    fraud, honest = Group("F3 patient bot, one address", False), Group("F3 background", True)
    ip, ua = "114.222.137.45", UAS[2]
    targets = [ws[0], ws[1], ws[3], ws[4]]
    for day in range(4):
        citizens(sim, eng, honest, ws, day, 40, W6, 0.4)
    for day in (0, 2, 3):
        t, k = START + day * 86400 + 14 * 3600 + rng.uniform(0, 300), 0
        while t < START + day * 86400 + 17 * 3600:
            eng.visit(t, Phone(sim, ip, ua), targets[k % 4], 5, rng.uniform(4, 15), fraud, (day, k))
            t += rng.uniform(300, 540)
            k += 1
    eng.run()
    return [fraud, honest]


def f4_flood(sim: Sim):
    """A rival's flood of 1-star taps on window 2 in four waves (Tue 10:10, Tue 15:00,
    Wed 09:40, Wed 14:20), each 55 taps in ~12 minutes from 48 addresses of a nearby city's
    mobile and broadband; every request carries 1-3 forged X-Forwarded-For hops, nginx appends
    the real address. Citizens at window 2 meanwhile are one honest group, the rest another."""
    ws = sim.fresh(SIX, [LONG_HOURS] + [None] * 5, "1-5 08:30-12:00,13:30-17:30")
    eng, rng = Engine(sim), sim.rng
    fraud = Group("F4 rival's 1-star flood, forged XFF", False)
    at_w2, honest = Group("H4 citizens at the flooded window", True), Group("F4 background", True)
    rival = [rand_in(rng, b) for b in ("39.144.10.0/24", "39.144.11.0/24", "120.229.33.0/24",
                                       "113.88.70.0/24") for _ in range(12)]
    for day in range(3):
        # the flooded window's citizens (window 2), and the rest
        citizens(sim, eng, at_w2, [ws[1]], day, 22, [1], 0.45, when=lambda r, d=day: office_time(
            r, d, am=(8.5, 12.0), pm=(13.5, 17.5), peak=0.5))
        citizens(sim, eng, honest, ws, day, 40, [0.3, 0, 0.2, 0.2, 0.2, 0.1], 0.4)
    for day, h in ((1, 10.17), (1, 15.0), (2, 9.67), (2, 14.33)):
        t0 = START + day * 86400 + h * 3600
        for i in range(55):
            forged = ", ".join(str(ipaddress.ip_address(rng.getrandbits(32) | 0x01000000))
                               for _ in range(rng.randint(1, 3)))
            ph = Phone(sim, rng.choice(rival), rng.choice(UAS), forged=forged)
            eng.visit(t0 + rng.uniform(0, 720), ph, ws[1], 1, rng.uniform(2, 9), fraud, (day, h, i))
    eng.run()
    return [fraud, at_w2, honest]


def f5_night(sim: Sim, unit_hours_anywhere: bool = True):
    """A crowd at a banquet hall, 21:30-23:30 on Wed and Thu, rating window 6 (自助服务区, whose
    hours were never set) from the poster photo the organiser passed round: 70 phones a night,
    half on the restaurant's broadband (2 addresses), half on 4G. Windows 1-5 have hours
    (variant b: no window and no unit default has hours). 40 honest citizens by day."""
    hours = [STD_HOURS] * 5 + [None] if unit_hours_anywhere else [None] * 6
    ws = sim.fresh(SIX, hours, None)
    eng, rng = Engine(sim), sim.rng
    tag = "F5" if unit_hours_anywhere else "F5b"
    what = "window without hours" if unit_hours_anywhere else "unit with no hours at all"
    fraud, honest = Group(f"{tag} night crowd, {what}", False), Group(f"{tag} background", True)
    resto = ["218.94.66.201", "218.94.66.202"]
    for day in range(4):
        citizens(sim, eng, honest, ws, day, 40, W6, 0.4)
    for day in (2, 3):
        for i in range(70):
            t = START + day * 86400 + rng.uniform(21.5, 23.5) * 3600
            ip = rng.choice(resto) if rng.random() < 0.5 else mobile_ip(rng)
            eng.visit(t, Phone(sim, ip, rng.choice(UAS)), ws[5], 5, rng.uniform(3, 20), fraud, (day, i))
    eng.run()
    return [fraud, honest]


def f5b_night(sim: Sim):
    return f5_night(sim, False)


def f6_insider_wifi(sim: Sim):
    """Our own: a clerk on the hall's own Wi-Fi (the registered network), one phone, cookies
    cleared (private tab) before every scan, tapping 5 stars on windows 1-4 whenever the
    queue is slack: 24 taps a day spread over office hours, Mon-Fri. 55 honest a day."""
    ws = sim.fresh(SIX, [None] * 6, "1-5 09:00-12:00,13:30-17:00")
    eng, rng = Engine(sim), sim.rng
    fraud, honest = Group("F6 insider on hall Wi-Fi, cookies cleared", False), Group("F6 background", True)
    ua = UAS[0]
    for day in range(5):
        citizens(sim, eng, honest, ws, day, 55, W6, 0.4)
        for i in range(24):
            t = office_time(rng, day, am_share=0.5, peak=0.0)
            eng.visit(t, Phone(sim, HALL_NAT[0], ua), ws[rng.randrange(4)], 5, rng.uniform(2.5, 8),
                      fraud, (day, i))
    eng.run()
    return [fraud, honest]


# --- honest scenarios ------------------------------------------------------------------------
def h1_two_windows(sim: Sim):
    """Two days of 70 citizens each: 受理 at window 1-3, then 缴费 at window 5 10-50 minutes
    later, same phone; 40% on mobile data (a few switch network between the two taps)."""
    ws = sim.fresh(SIX, [STD_HOURS] * 6, None)
    eng, rng = Engine(sim), sim.rng
    g = Group("H1 two windows in one visit (受理 then 缴费)", True)
    for day in range(2):
        for i in range(70):
            ip = mobile_ip(rng) if rng.random() < 0.4 else hall_ip(rng)
            ph, person = Phone(sim, ip, rng.choice(UAS)), (day, i)
            t = office_time(rng, day, am=(9.0, 11.2), pm=(13.5, 16.2))

            def pay(t2, ph=ph, person=person):
                if rng.random() < 0.1:
                    ph.ip = mobile_ip(rng) if ph.ip in HALL_NAT else hall_ip(rng)
                eng.visit(t2 + rng.uniform(600, 3000), ph, ws[4], rng.choice(HONEST_LEVELS),
                          think(rng), g, person)
            eng.visit(t, ph, ws[rng.randrange(3)], rng.choice(HONEST_LEVELS), think(rng),
                      g, person, pay)
    eng.run()
    return [g]


def h2_busy_hall(sim: Sim):
    """A city hall, one NAT address for its Wi-Fi (58.211.82.66), 560 citizens a day on
    Mon and Tue, 95% on the Wi-Fi, a strong morning peak; unit default hours only."""
    ws = sim.fresh(SIX, [None] * 6, "1-5 08:30-12:00,13:30-17:30")
    eng = Engine(sim)
    g = Group("H2 busy hall behind one address", True)
    for day in range(2):
        citizens(sim, eng, g, ws, day, 560, [0.3, 0.25, 0.15, 0.12, 0.13, 0.05], 0.05,
                 when=lambda r, d=day: office_time(r, d, am=(8.5, 12.0), pm=(13.5, 17.5),
                                                   am_share=0.65, peak=0.5),
                 ip_fn=lambda r: HALL_NAT[0] if r.random() > 0.05 else mobile_ip(r))
    eng.run()
    return [g]


def h3_half_mobile(sim: Sim):
    """A hall with weak Wi-Fi: 180 citizens a day for three days, half on mobile data; hours
    on windows 1-4 only."""
    ws = sim.fresh(SIX, [STD_HOURS] * 4 + [None] * 2, None)
    eng = Engine(sim)
    g = Group("H3 hall, half on mobile data", True)
    for day in range(3):
        citizens(sim, eng, g, ws, day, 180, W6, 0.5)
    eng.run()
    return [g]


def h5_quiet(sim: Sim):
    """A township 便民服务中心 on a quiet Wednesday: 3 windows, 9 citizens, most on 4G
    (the Wi-Fi password is on a sign few read); unit default hours."""
    ws = sim.fresh(["1号综合窗口", "2号社保窗口", "3号农业农村"], [None] * 3,
                   "1-5 08:30-12:00,14:00-17:30", unit_name="某镇便民服务中心")
    eng = Engine(sim)
    g = Group("H5 quiet day, township hall", True)
    citizens(sim, eng, g, ws, 2, 9, [0.6, 0.3, 0.1], 0.7,
             when=lambda r: office_time(r, 2, am=(8.5, 12.0), pm=(14.0, 17.5)))
    eng.run()
    return [g]


SCENARIOS = [f1_staff, f2_poster_spread, f3_patient_bot, f4_flood, f5_night, f5b_night,
             f6_insider_wifi, h1_two_windows, h2_busy_hall, h3_half_mobile, h5_quiet]


# --- settle and report -----------------------------------------------------------------------
def settle(sim: Sim, groups: list[Group]) -> list[dict]:
    """Each tap's final state: held if its id is in the review queue (a later signal can move a
    counted tap there), else counted; checked against the unit's score."""
    held_q = sim.r.hgetall(registry.UnitKeys(sim.unit).held)
    counts = scoring.period_counts(sim.r, [sim.unit], FIRST_DAY, LAST_DAY)[0]
    rows, tot_c, tot_h = [], 0, 0
    for g in groups + [dup]:
        o = Counter(a for a, _, _ in g.taps)
        counted = held = 0
        reasons, person_ok = Counter(), defaultdict(lambda: True)
        for answer, rid, person in g.taps:
            if answer not in ("counted", "held"):
                if answer == "refused":
                    person_ok[person] = False
                continue
            sid = recording.parse_rating_id(rid)[1]
            if sid in held_q:
                held += 1
                person_ok[person] = False
                reasons[held_q[sid].split("|")[2]] += 1
            else:
                counted += 1
                person_ok[person] |= False  # touch
        tot_c += counted
        tot_h += held
        if g is dup:
            dup.taps.clear()
            continue
        rows.append({"name": g.name, "honest": g.honest, "sent": len(g.taps), "counted": counted,
                     "held": held, "duplicate": o["duplicate"], "refused": o["refused"],
                     "people": len(g.people),
                     "people_counted": sum(1 for p in g.people if person_ok[p]),
                     "reasons": dict(reasons)})
    assert tot_c == sum(counts.counts), (tot_c, counts.counts)
    assert tot_h == counts.pending, (tot_h, counts.pending)
    return rows


def run(seed: int, network: bool, only: list[str] | None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), port=free_port(), appendonly=False).start()
        try:
            sim = Sim(server.url, random.Random(seed), network)
            out = []
            try:
                for sc in SCENARIOS:
                    if only and sc.__name__ not in only:
                        continue
                    t0 = time.time()
                    rows = settle(sim, sc(sim))
                    for row in rows:
                        row["secs"] = round(time.time() - t0, 1)
                    out += rows
                    print(f"  {'A' if network else 'B'} {sc.__name__}: " + "; ".join(
                        f"{r['name']}: {r['sent']} sent {r['counted']} counted {r['held']} held "
                        f"{r['reasons'] or ''}" for r in rows), flush=True)
                return out
            finally:
                sim.server.shutdown()
        finally:
            server.stop()


def totals(rows: list[dict], background: bool = True) -> dict:
    fraud = [r for r in rows if not r["honest"]]
    hon = [r for r in rows if r["honest"] and (background or "background" not in r["name"])]
    fs, fc = sum(r["sent"] - r["duplicate"] - r["refused"] for r in fraud), sum(r["counted"] for r in fraud)
    hp, hc = sum(r["people"] for r in hon), sum(r["people_counted"] for r in hon)
    ht = sum(r["counted"] + r["held"] for r in hon)
    return {"fraud_sent": fs, "fraud_counted": fc, "fraud_share": fc / fs if fs else 0,
            "honest_people": hp, "honest_people_counted": hc, "honest_share": hc / hp if hp else 1,
            "honest_taps": ht, "honest_taps_counted": sum(r["counted"] for r in hon),
            "honest_reasons": dict(sum((Counter(r["reasons"]) for r in hon), Counter()))}


def fmt_pct(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.2%}" if b else "-"


def write_md(res: dict, extra: dict, path: str) -> None:
    A, B = res["A"], res["B"]
    L = [f"# ratingsvc anti-fraud: independent attack simulation (seed {res['seed']})", "",
         "Script: bench/apart/second.py (`.venv/bin/python bench/apart/second.py`). "
         "Start Monday 2026-03-02, Asia/Shanghai; every RULE_* at its default; flask-limiter's "
         "wall-clock limits widened as in bench/fraud.py. (A) hall network 58.211.82.64/29 "
         "registered, (B) none. Counted/held: the tap's final state in the unit "
         "(held = its id is in registry.UnitKeys(unit).held; checked against "
         "scoring.period_counts: counted = sum(counts), held = pending). "
         f"Wall time of this A+B run: {res['wall_seconds']} s.", "",
         "| scenario | kind | taps sent (A) | counted (A) | held (A) | held reasons (A) | "
         "taps sent (B) | counted (B) | held (B) | held reasons (B) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
    for a, b in zip(A, B, strict=True):
        L.append(f"| {a['name']} | {'honest' if a['honest'] else 'FRAUD'} | {a['sent']} | {a['counted']} | "
                 f"{a['held']} | {a['reasons'] or ''} | {b['sent']} | {b['counted']} | {b['held']} | "
                 f"{b['reasons'] or ''} |")
    L += ["", "(taps sent that were neither counted nor held were answered `duplicate`; none were "
          "refused. Honest citizens' deliberate repeat taps are kept apart and are not in this table.)", "",
          "## Totals", "", "| | A (network registered) | B (no network) |", "|---|---|---|"]
    for key, label in (("totals", "all honest incl. background"),
                       ("totals_dedicated_honest_only", "dedicated honest scenarios only")):
        ta, tb = res[key]["A"], res[key]["B"]
        if key == "totals":
            L.append(f"| fraudulent taps counted (goal <= 1%) | {fmt_pct(ta['fraud_counted'], ta['fraud_sent'])} | "
                     f"{fmt_pct(tb['fraud_counted'], tb['fraud_sent'])} |")
        L.append(f"| honest citizens counted, {label} (goal >= 99%) | "
                 f"{fmt_pct(ta['honest_people_counted'], ta['honest_people'])} | "
                 f"{fmt_pct(tb['honest_people_counted'], tb['honest_people'])} |")
        L.append(f"| honest holds by reason, {label} | {ta['honest_reasons']} | {tb['honest_reasons']} |")
    ex = {k: v for k, v in extra.items()}
    if ex:
        L += ["", "## Other seeds (same scenarios)", "",
              "| seed | fraud counted A | fraud counted B | honest counted A | honest counted B |",
              "|---|---|---|---|---|"]
        for seed, t in ex.items():
            L.append(f"| {seed} | {fmt_pct(t['A']['fraud_counted'], t['A']['fraud_sent'])} | "
                     f"{fmt_pct(t['B']['fraud_counted'], t['B']['fraud_sent'])} | "
                     f"{fmt_pct(t['A']['honest_people_counted'], t['A']['honest_people'])} | "
                     f"{fmt_pct(t['B']['honest_people_counted'], t['B']['honest_people'])} |")
    per = res.get("other_seeds_fraud") or {}
    if per:
        L += ["", "## Fraud taps counted per scenario, other seeds (A / B, of taps sent)", "",
              "| scenario | " + " | ".join(f"seed {s}" for s in per) + " |",
              "|---|" + "---|" * len(per)]
        for name in next(iter(per.values())):
            L.append(f"| {name} | " + " | ".join(f"{v[name][0]} / {v[name][2]} of {v[name][1]}"
                                                for v in per.values()) + " |")
    Path(path).write_text("\n".join(L) + "\n")


def one(seed: int, only) -> dict:
    t0 = time.time()
    res = {}
    for net, label in ((True, "A"), (False, "B")):
        dup.taps.clear()
        res[label] = run(seed, net, only)
    res["totals"] = {k: totals(res[k]) for k in ("A", "B")}
    res["totals_dedicated_honest_only"] = {k: totals(res[k], False) for k in ("A", "B")}
    res["wall_seconds"] = round(time.time() - t0, 1)
    res["seed"] = seed
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20260302)
    ap.add_argument("--more-seeds", type=int, nargs="*", default=[])
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--out", default=str(RESULTS / f"fraud-apart-second-{date.today().isoformat()}.json"))
    ap.add_argument("--md", default=str(RESULTS / f"fraud-apart-second-{date.today().isoformat()}.md"))
    args = ap.parse_args()
    res = one(args.seed, args.only)
    extra, per = {}, {}
    for seed in args.more_seeds:
        r = one(seed, args.only)
        extra[seed] = r["totals"]
        per[seed] = {a["name"]: (a["counted"], a["sent"], b["counted"]) for a, b in zip(r["A"], r["B"], strict=True)
                     if not a["honest"]}
    res["other_seeds"], res["other_seeds_fraud"] = extra, per
    Path(args.out).write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str))
    write_md(res, extra, args.md)
    print(json.dumps({k: res[k] for k in ("totals", "wall_seconds", "other_seeds")},
                     indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
