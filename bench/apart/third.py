"""Independent attack simulation ("third"): fraud against ratingsvc's default rules, beside
honest citizens, measured by each tap's FINAL state (counted / held / duplicate / refused).

    .venv/bin/python bench/apart/third.py [--seed 20260601] [--runs ABC] [--serial]

Writes bench/results/fraud-apart-third-<date>.json and .md. Reuses bench/fraud.py's harness
(Sim: the app in-process behind a real HTTP server on 127.0.0.1, its own redis-server, a
simulated clock; Phone; exchange). Every RULE_* is at its default; only flask-limiter's
wall-clock limits are widened, as Sim does. Nothing here is tuned to the rules' thresholds:
the numbers below were chosen as plausible for a district 政务服务中心 before any run.

THE HALL (every scenario; a fresh database each): one hall 市民之家 with three units of one
category: 税务 "tax" (windows 1-3), 社保 "social" (4-6), 不动产 "estate" (7-8). Opening hours
Mon-Fri 08:30-12:00, 14:00-17:30 on every window (except scenario F5's estate unit). Days run
from Monday 2026-06-01, Asia/Shanghai; scenarios last 5 working days (one week) or 10 (two
weeks, Mon-Fri twice; nobody taps at weekends).
  Addresses: the hall's Wi-Fi leaves through two NAT addresses 203.0.113.10/.11 (run A
  registers 203.0.113.0/24 as the hall's network; run B registers none). Mobile data is
  carrier CGNAT, a public address drawn per tap-session from a city pool: China Mobile
  117.136.12.0/24 (60 %), Unicom 112.96.34.0/24 (25 %), Telecom 36.44.5.0/24 (15 %). Home
  broadband addresses are drawn from 58.32.0.0/13-like ranges (one per household).
  Honest baseline: each window serves ~50 a day; 20 % of those served rate by the poster, so
  Poisson(10) honest raters per window and working day (60 % of services in the morning),
  50 % on the hall's Wi-Fi, 50 % on mobile data. A citizen is served, scans 0-60 s later,
  taps 3-40 s after the scan with a level from 60/25/10/3/2 % of 5..1 stars. Each citizen is a
  new phone (its own cookie), a WeChat User-Agent.
  The rating page's behaviour is emulated: a 403 ticket_expired makes it scan again at once
  and send the tap 0.15-0.6 s later (rate.js), judged from where the phone is then.

HONEST SCENARIOS (5 days each; baseline on all 8 windows plus):
  H0 baseline     the baseline only (control).
  H1 two_windows  30 % of tax and social citizens are served at two windows of their unit in
                  one visit (受理 then 缴费/出证) and rate both: 80 % of second services 10-60 min
                  after the first tap, 20 % 60-180 min after (same phone, same network).
  H2 busy_nat     a busy hall behind one address: 30 raters per window-day on 8 windows (~240
                  a day), 90 % on the hall Wi-Fi, all of it leaving through 203.0.113.10.
  H3 mobile_hall  80 % of citizens on mobile data, 20 % on the Wi-Fi.
  H4 scan_wait    40 % of citizens scan the poster while waiting, 5-45 min before their
                  service ends, and tap 5-30 s after it; 30 % of those change network in
                  between (joined the Wi-Fi, or it dropped). Tickets older than 30 min are
                  expired and the page renews them (above).
  Honest citizens are also present in every fraud scenario (baseline); those at the attacked
  window are "citizens at a window while it is attacked".

FRAUD SCENARIOS (baseline honest citizens beside each):
  F1 staff_phones   10 social staff, each working day, each taps 5 stars once on a random
                    social window at a random office time (think 2-6 s), from their own phone
                    (a persistent cookie), 60 % of days on the hall Wi-Fi (203.0.113.11), 40 %
                    on their mobile data. 10 working days: 100 taps.
  F2 photo_poster   tax window 1's poster photographed and spread in WeChat groups: 60 5-star
                    taps a working day, uniform over 08:30-17:30 (~7 an hour), each a
                    different person on a different address (home broadband 70 %, mobile
                    30 %): 300 addresses in 5 days.
  F3 patient_bot    one home-broadband address, 14:00-17:30 every working day, a tap every
                    4-6 min (5 stars) on tax windows 1-3 in turn at random, a fresh cookie each
                    time, think 3-8 s: ~45 a day, 5 days.
  F4 rival_flood    a rival's 1-star waves on tax window 2: two waves a working day at random
                    office times, each 30 taps within ~5 min from a phone farm of 15 proxy
                    addresses (2 taps each a wave), fresh cookies, every tap with a forged
                    X-Forwarded-For first hop (the real address is the last hop nginx adds).
                    5 days: 300 taps.
  F5 night_crowd    estate's 2 windows never had opening hours set (nor has the unit any): 40
                    people a night, Mon-Fri, 19:30-23:30 uniformly, 5 stars, each from their
                    own home address: 200 taps. Estate's honest citizens come by day.
  F6a insider_wifi  (invented) 8 tax staff rate their own windows from the hall Wi-Fi, once a
                    working day each at a quiet office moment, in a private/cleared browser,
                    so each day is a new rater: 10 working days, 80 5-star taps.
  F6b sim_farm      (invented) a rival's slow 1-star drip on tax: 2 taps per tax window per
                    working day at random office times, each from a fresh phone on a fresh
                    mobile CGNAT address (a SIM-card farm), think 5-20 s: 10 days, 60 taps.

RUNS: A = hall network registered; B = no network; C = A plus the hall's queue system
sending each window's services done every 10 minutes (Sim.queue_system), with a poster
participation of 20 % (services = honest raters served / 0.2, the same 20 % as the baseline).

COUNTING: a tap's final state is read at the scenario's end: counted (answered 201 or 202
and its stream id NOT in the unit's held hash), held (its stream id in the held hash, with the
reasons there), duplicate (200) or refused (anything else). scoring.period_counts must agree
(counted and pending per unit); the check is in the output. An honest citizen is counted when
every tap they made counts.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import math
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, datetime
from multiprocessing import Pool
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fraud import HONEST_LEVELS, HOURS, MONDAY, OUTCOME, Sim  # noqa: E402
from ratingsvc import registry, scoring, visits  # noqa: E402
from ratingsvc.embedded import RedisServer  # noqa: E402
from ratingsvc.rkeys import UnitKeys  # noqa: E402

HALL_NET = "203.0.113.0/24"
WIFI = ["203.0.113.10", "203.0.113.11"]
CARRIERS = [("117.136.12.", 0.60), ("112.96.34.", 0.25), ("36.44.5.", 0.15)]
PARTICIPATION = 0.20
UNITS = [("tax", "区税务局", 3), ("social", "区人社局", 3), ("estate", "区不动产登记中心", 2)]
WORK = {5: [0, 1, 2, 3, 4], 10: [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]}
OPEN = [(8.5, 12.0), (14.0, 17.5)]


class World:
    """One scenario on one Sim: the units, the event queue and every tap's bookkeeping."""

    def __init__(self, sim: Sim, rng: random.Random, network: bool, estate_hours: bool = True):
        self.sim, self.rng = sim, rng
        r = sim.r
        r.flushdb()
        sim.clock.at(0)
        registry.save_category(r, registry.Category("c", "窗口单位"), create=True)
        self.windows: dict[str, list[registry.Window]] = {}
        n = 0
        for uid, name, count in UNITS:
            registry.save_unit(r, registry.Unit(uid, name, "c"), create=True)
            hours = HOURS if (uid != "estate" or estate_hours) else None
            self.windows[uid] = [registry.create_window(r, uid, f"{n + i + 1}号窗口", hours=hours)
                                 for i in range(count)]
            n += count
        every = [w for ws in self.windows.values() for w in ws]
        visits.create_hall(r, sim.app.extensions["ratingsvc.signing"], name="市民之家",
                           windows=[w.id for w in every], valid_minutes=1440, now=sim.clock(),
                           networks=[HALL_NET] if network else [])
        sim.windows, sim.served, sim.reported = every, Counter(), -1
        self.events: list = []
        self.seq = 0
        self.taps: list[dict] = []  # one per tap sent
        self.people: dict[str, dict] = {}  # person id -> {"honest": bool, "kind": str}

    # -- time ---------------------------------------------------------------------------
    def at(self, t: float, fn, *args) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, self.seq, fn, args))

    def run(self) -> None:
        while self.events:
            t, _, fn, args = heapq.heappop(self.events)
            self.sim.clock.t = max(self.sim.clock.t, t)
            self.sim.queue_system(None)  # the queue system's 10-minute report, when due
            fn(*args)

    @staticmethod
    def ts(day: int, hour: float) -> float:
        return MONDAY + day * 86400 + hour * 3600

    def office_time(self, day: int, morning: float = 0.5) -> float:
        a, b = OPEN[0] if self.rng.random() < morning else OPEN[1]
        return self.ts(day, self.rng.uniform(a, b))

    # -- addresses ------------------------------------------------------------------------
    def mobile_ip(self) -> str:
        x, acc = self.rng.random(), 0.0
        for prefix, share in CARRIERS:
            acc += share
            if x < acc:
                return prefix + str(self.rng.randrange(1, 255))
        return CARRIERS[0][0] + str(self.rng.randrange(1, 255))

    def home_ip(self) -> str:
        return f"{self.rng.choice([58, 59, 61, 101, 114, 180, 183])}.{self.rng.randrange(256)}." \
               f"{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"

    # -- one tap --------------------------------------------------------------------------
    def person(self, pid: str, honest: bool, kind: str) -> str:
        self.people.setdefault(pid, {"honest": honest, "kind": kind})
        return pid

    def scan(self, phone, window, rec: dict) -> None:
        rec["ticket"] = phone.scan(window)

    def tap(self, phone, window, level: int, rec: dict, ip_now: str | None = None,
            renewed: bool = False) -> None:
        if ip_now:
            phone.ip = ip_now
        ticket = rec.get("ticket")
        if ticket is None:
            rec["status"] = "refused"
            return
        status, body = phone.request("POST", "/api/v1/ratings", {"ticket": ticket, "level": level})
        code = (body.get("error") or {}).get("code") if isinstance(body.get("error"), dict) else None
        if status == 403 and code == "ticket_expired" and not renewed:
            # rate.js: scan again at once, with the old ticket (Renew-Ticket), send again with the new one
            rec["renewed"] = True
            st, fresh = phone.request("GET", f"/api/v1/scan/{self.sim.token(window)}", None,
                                      {"Renew-Ticket": ticket})
            rec["ticket"] = fresh.get("ticket") if st == 200 else None
            self.at(self.sim.clock() + self.rng.uniform(0.15, 0.6), self.tap, phone, window, level,
                    rec, None, True)
            return
        rec["status"] = OUTCOME.get(status, "refused")
        rec["http"] = status
        rec["rating_id"] = body.get("rating_id")

    def visit(self, pid: str, honest: bool, kind: str, window, level: int, scan_t: float,
              tap_t: float, ip_scan: str, ip_tap: str | None = None, phone=None,
              served_t: float | None = None, ua: str | None = None) -> object:
        """Schedule one scan and its tap (and the service, for honest citizens in run C)."""
        self.person(pid, honest, kind)
        phone = phone or self.sim.phone(ip_scan, ua)
        rec = {"person": pid, "honest": honest, "kind": kind, "window": window.id,
               "unit": registry.window_unit(self.sim.r, window.id), "level": level}
        self.taps.append(rec)
        if served_t is not None:
            self.at(served_t, self.sim.queue_system, window)

        def do_scan() -> None:
            phone.ip = ip_scan
            self.scan(phone, window, rec)
        self.at(scan_t, do_scan)
        self.at(tap_t, self.tap, phone, window, level, rec, ip_tap or ip_scan)
        return phone

    # -- honest ---------------------------------------------------------------------------
    def poisson(self, lam: float) -> int:
        L, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= L:
                return k
            k += 1

    def honest_day(self, day: int, *, per_window: float = 10, wifi_share: float = 0.5,
                   wifi_ips: list[str] = WIFI, two_windows: float = 0.0,
                   scan_wait: float = 0.0) -> None:
        for _uid, ws in self.windows.items():
            for w in ws:
                for i in range(self.poisson(per_window)):
                    pid = f"h{day}.{w.id}.{i}"
                    on_wifi = self.rng.random() < wifi_share
                    ip = self.rng.choice(wifi_ips) if on_wifi else self.mobile_ip()
                    served = self.office_time(day, 0.6)
                    level = self.rng.choice(HONEST_LEVELS)
                    kind = "honest"
                    if scan_wait and self.rng.random() < scan_wait:
                        kind = "honest_scan_wait"
                        scan_t = served - self.rng.uniform(5, 45) * 60
                        tap_t = served + self.rng.uniform(5, 30)
                        ip_tap = ip
                        if self.rng.random() < 0.3:  # joined the Wi-Fi, or it dropped
                            ip_tap = self.mobile_ip() if on_wifi else self.rng.choice(wifi_ips)
                        self.visit(pid, True, kind, w, level, scan_t, tap_t, ip, ip_tap,
                                   served_t=served)
                        continue
                    scan_t = served + self.rng.uniform(0, 60)
                    tap_t = scan_t + self.rng.uniform(3, 40)
                    if two_windows and len(ws) > 1 and self.rng.random() < two_windows:
                        kind = "honest_two_windows"
                        phone = self.visit(pid, True, kind, w, level, scan_t, tap_t, ip,
                                           served_t=served)
                        other = self.rng.choice([x for x in ws if x.id != w.id])
                        gap = (self.rng.uniform(10, 60) if self.rng.random() < 0.8
                               else self.rng.uniform(60, 180)) * 60
                        served2 = tap_t + gap
                        s2 = served2 + self.rng.uniform(0, 60)
                        self.visit(pid, True, kind, other, self.rng.choice(HONEST_LEVELS), s2,
                                   s2 + self.rng.uniform(3, 40), ip, phone=phone,
                                   served_t=served2)
                        continue
                    self.visit(pid, True, kind, w, level, scan_t, tap_t, ip, served_t=served)

    # -- the end of a day: the queue system's last report --------------------------------
    def close_day(self, day: int) -> None:
        self.at(self.ts(day, 17.75), self.sim.queue_system, None, True)

    # -- final states -----------------------------------------------------------------------
    def settle(self) -> dict:
        r = self.sim.r
        held: dict[str, dict[str, str]] = {}
        for uid, _, _ in UNITS:
            held[uid] = {k.decode() if isinstance(k, bytes) else k:
                         v.decode() if isinstance(v, bytes) else v
                         for k, v in r.hgetall(UnitKeys(uid).held).items()}
        mine = Counter()
        for rec in self.taps:
            st = rec.get("status", "refused")
            if st in ("counted", "held") and rec.get("rating_id"):
                unit, _, sid = rec["rating_id"].rpartition(".")
                if sid in held[unit]:
                    rec["final"] = "held"
                    rec["reasons"] = held[unit][sid].split("|")[2]
                else:
                    rec["final"] = "counted"
            else:
                rec["final"] = st
            mine[(rec["unit"], rec["final"])] += 1
        first, last = date(2026, 6, 1), date(2026, 6, 30)
        agree = {}
        for uc in scoring.period_counts(r, [u for u, _, _ in UNITS], first, last):
            agree[uc.unit] = {"score_counted": sum(uc.counts), "score_pending": uc.pending,
                              "taps_counted": mine[(uc.unit, "counted")],
                              "taps_held": mine[(uc.unit, "held")]}
            agree[uc.unit]["agree"] = (agree[uc.unit]["score_counted"] == agree[uc.unit]["taps_counted"]
                                       and agree[uc.unit]["score_pending"] == agree[uc.unit]["taps_held"])
        return agree


# ----------------------------------------------------------------------------------------------
# scenarios: each fills a World's events for its days

def baseline(w: World, days: list[int], **kw) -> None:
    for d in days:
        w.honest_day(d, **kw)
        w.close_day(d)


def h0(w: World) -> None:
    baseline(w, WORK[5])


def h1(w: World) -> None:
    for d in WORK[5]:
        w.honest_day(d, two_windows=0.3)
        w.close_day(d)


def h2(w: World) -> None:
    baseline(w, WORK[5], per_window=30, wifi_share=0.9, wifi_ips=[WIFI[0]])


def h3(w: World) -> None:
    baseline(w, WORK[5], wifi_share=0.2)


def h4(w: World) -> None:
    baseline(w, WORK[5], scan_wait=0.4)


def f1(w: World) -> None:
    days = WORK[10]
    baseline(w, days)
    staff = [w.sim.phone(WIFI[1]) for _ in range(10)]
    for d in days:
        for i, phone in enumerate(staff):
            win = w.rng.choice(w.windows["social"])
            ip = WIFI[1] if w.rng.random() < 0.6 else w.mobile_ip()
            t = w.office_time(d)
            w.visit(f"staff{i}", False, "staff_phones", win, 5, t, t + w.rng.uniform(2, 6), ip,
                    phone=phone)


def f2(w: World) -> None:
    days = WORK[5]
    baseline(w, days)
    win = w.windows["tax"][0]
    n = 0
    for d in days:
        for t in sorted(w.rng.uniform(8.5, 17.5) for _ in range(60)):
            ip = w.home_ip() if w.rng.random() < 0.7 else w.mobile_ip()
            s = w.ts(d, t)
            w.visit(f"photo{n}", False, "photo_poster", win, 5, s, s + w.rng.uniform(3, 20), ip)
            n += 1


def f3(w: World) -> None:
    days = WORK[5]
    baseline(w, days)
    ip = "101.80.77.23"
    n = 0
    for d in days:
        t = w.ts(d, 14.0)
        while t < w.ts(d, 17.5):
            win = w.rng.choice(w.windows["tax"])
            w.visit(f"bot{n}", False, "patient_bot", win, 5, t, t + w.rng.uniform(3, 8), ip)
            n += 1
            t += w.rng.uniform(4, 6) * 60


def f4(w: World) -> None:
    days = WORK[5]
    baseline(w, days)
    win = w.windows["tax"][1]
    farm = [w.home_ip() for _ in range(15)]
    n = 0
    for d in days:
        for _ in range(2):
            start = w.office_time(d)
            for k in range(30):
                real = farm[k % 15]
                forged = f"{w.rng.randrange(1, 224)}.{w.rng.randrange(256)}.{w.rng.randrange(256)}." \
                         f"{w.rng.randrange(1, 255)}"
                s = start + w.rng.uniform(0, 300)
                w.visit(f"flood{n}", False, "rival_flood", win, 1, s, s + w.rng.uniform(2, 6),
                        f"{forged}, {real}")
                n += 1


def f5(w: World) -> None:
    days = WORK[5]
    baseline(w, days)
    n = 0
    for d in days:
        for _ in range(40):
            win = w.rng.choice(w.windows["estate"])
            s = w.ts(d, w.rng.uniform(19.5, 23.5))
            w.visit(f"night{n}", False, "night_crowd", win, 5, s, s + w.rng.uniform(3, 20), w.home_ip())
            n += 1


def f6a(w: World) -> None:
    days = WORK[10]
    baseline(w, days)
    for d in days:
        for i in range(8):
            win = w.rng.choice(w.windows["tax"])
            t = w.office_time(d)
            w.visit(f"insider{i}.{d}", False, "insider_wifi", win, 5, t, t + w.rng.uniform(2, 6),
                    w.rng.choice(WIFI))


def f6b(w: World) -> None:
    days = WORK[10]
    baseline(w, days)
    n = 0
    for d in days:
        for win in w.windows["tax"]:
            for _ in range(2):
                t = w.office_time(d)
                w.visit(f"sim{n}", False, "sim_farm", win, 1, t, t + w.rng.uniform(5, 20),
                        w.mobile_ip())
                n += 1


SCENARIOS = [("H0 baseline", h0, True), ("H1 two_windows", h1, True), ("H2 busy_nat", h2, True),
             ("H3 mobile_hall", h3, True), ("H4 scan_wait", h4, True),
             ("F1 staff_phones", f1, True), ("F2 photo_poster", f2, True),
             ("F3 patient_bot", f3, True), ("F4 rival_flood", f4, True),
             ("F5 night_crowd", f5, False), ("F6a insider_wifi", f6a, True),
             ("F6b sim_farm", f6b, True)]


def summarize(name: str, w: World, agree: dict, secs: float) -> dict:
    out: dict = {"scenario": name, "seconds": round(secs, 1), "agree": agree,
                 "all_agree": all(v["agree"] for v in agree.values())}
    for side, honest in (("honest", True), ("fraud", False)):
        taps = [t for t in w.taps if t["honest"] == honest]
        if not taps:
            continue
        finals = Counter(t["final"] for t in taps)
        reasons = Counter()
        for t in taps:
            if t["final"] == "held":
                for reason in t["reasons"].split(","):
                    reasons[reason] += 1
        kinds = Counter(t["kind"] for t in taps)
        d = {"taps": len(taps), "counted": finals["counted"], "held": finals["held"],
             "duplicate": finals["duplicate"], "refused": finals["refused"],
             "renewed": sum(1 for t in taps if t.get("renewed")),
             "held_reasons": dict(reasons.most_common()), "kinds": dict(kinds),
             "first_answer": dict(Counter(t.get("status", "refused") for t in taps))}
        if honest:
            per = defaultdict(list)
            for t in taps:
                per[t["person"]].append(t["final"])
            d["people"] = len(per)
            d["people_counted"] = sum(1 for v in per.values() if all(f == "counted" for f in v))
            # held honest taps by kind and reason
            d["held_by_kind"] = dict(Counter(f'{t["kind"]}:{t["reasons"]}' for t in taps
                                             if t["final"] == "held"))
        else:
            d["counted_by_kind"] = dict(Counter(t["kind"] for t in taps if t["final"] == "counted"))
        out[side] = d
    attacked = {t["window"] for t in w.taps if not t["honest"]}
    if attacked:  # honest citizens at the windows under attack
        at = [t for t in w.taps if t["honest"] and t["window"] in attacked]
        out["honest"]["at_attacked_windows"] = {"taps": len(at),
                                                "counted": sum(t["final"] == "counted" for t in at)}
    return out


def one_run(args: tuple) -> dict:
    run, seed = args
    t0 = time.monotonic()
    logging.getLogger("ratingsvc").addHandler(logging.NullHandler())  # no access log lines
    logging.getLogger("ratingsvc").setLevel(logging.WARNING)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), appendonly=False).start()
        try:
            rng = random.Random(f"{seed}-{run}")
            sim = Sim(server.url, rng, {}, network=(run != "B"),
                      volumes_of=(PARTICIPATION, 0) if run == "C" else None)
            for name, fn, estate_hours in SCENARIOS:
                s0 = time.monotonic()
                w = World(sim, random.Random(f"{seed}-{name}"), network=(run != "B"),
                          estate_hours=estate_hours)
                sim.rng = w.rng
                fn(w)
                w.run()
                agree = w.settle()
                results.append(summarize(name, w, agree, time.monotonic() - s0))
                print(f"run {run} {name}: {time.monotonic() - s0:.1f}s", file=sys.stderr, flush=True)
            sim.server.shutdown()
        finally:
            server.stop()
    return {"run": run, "seconds": round(time.monotonic() - t0, 1), "scenarios": results}


def totals(run: dict) -> dict:
    core_sent = core_counted = 0  # fraud classes 1-5 only (without the invented F6a/F6b)
    f_sent = f_counted = h_people = h_counted = h_taps = h_taps_counted = 0
    for s in run["scenarios"]:
        if "fraud" in s:
            f_sent += s["fraud"]["taps"]
            f_counted += s["fraud"]["counted"]
            if not s["scenario"].startswith("F6"):
                core_sent += s["fraud"]["taps"]
                core_counted += s["fraud"]["counted"]
        h = s["honest"]
        h_people += h["people"]
        h_counted += h["people_counted"]
        h_taps += h["taps"]
        h_taps_counted += h["counted"]
    return {"fraud_taps": f_sent, "fraud_counted": f_counted,
            "fraud_counted_share": round(f_counted / f_sent, 4) if f_sent else None,
            "fraud_1_5_taps": core_sent, "fraud_1_5_counted": core_counted,
            "fraud_1_5_counted_share": round(core_counted / core_sent, 4) if core_sent else None,
            "honest_people": h_people, "honest_people_counted": h_counted,
            "honest_people_counted_share": round(h_counted / h_people, 4),
            "honest_taps": h_taps, "honest_taps_counted": h_taps_counted,
            "honest_taps_counted_share": round(h_taps_counted / h_taps, 4)}


def markdown(report: dict) -> str:
    lines = [f"# Attack simulation (third, independent) {report['date']}", "",
             f"seed {report['seed']}, wall time {report['wall_seconds']} s, all RULE_* default.",
             "A: hall network registered; B: none; C: A + queue-system volumes "
             f"(participation {PARTICIPATION:.0%}).", ""]
    for run in report["runs"]:
        t = run["totals"]
        lines += [f"## Run {run['run']} ({run['seconds']} s)", "",
                  f"fraud counted {t['fraud_counted']}/{t['fraud_taps']} = "
                  f"{t['fraud_counted_share']:.1%}; honest citizens counted "
                  f"{t['honest_people_counted']}/{t['honest_people']} = "
                  f"{t['honest_people_counted_share']:.2%} (taps {t['honest_taps_counted']}/"
                  f"{t['honest_taps']}); fraud classes 1-5 only: {t['fraud_1_5_counted']}/"
                  f"{t['fraud_1_5_taps']} = {t['fraud_1_5_counted_share']:.1%}", "",
                  "| scenario | fraud sent | counted | held | dup/ref | held reasons | honest people "
                  "| counted | honest held reasons | agree |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for s in run["scenarios"]:
            f, h = s.get("fraud"), s["honest"]
            fr = (f"{f['taps']} | {f['counted']} | {f['held']} | {f['duplicate']}/{f['refused']} | "
                  + ", ".join(f"{k} {v}" for k, v in f["held_reasons"].items())) if f else "- | - | - | - | -"
            hr = ", ".join(f"{k} {v}" for k, v in h["held_reasons"].items()) or "-"
            lines.append(f"| {s['scenario']} | {fr} | {h['people']} | {h['people_counted']} | {hr} | "
                         f"{'yes' if s['all_agree'] else 'NO'} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20260601)
    ap.add_argument("--runs", default="ABC")
    ap.add_argument("--serial", action="store_true", help="one process, runs one after another")
    a = ap.parse_args()
    t0 = time.monotonic()
    jobs = [(run, a.seed) for run in a.runs]
    if a.serial or len(jobs) == 1:
        runs = [one_run(j) for j in jobs]
    else:
        with Pool(min(len(jobs), 3)) as pool:
            runs = pool.map(one_run, jobs)
    for run in runs:
        run["totals"] = totals(run)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    report = {"date": today, "seed": a.seed, "wall_seconds": round(time.monotonic() - t0, 1),
              "participation_C": PARTICIPATION, "runs": runs}
    out = Path(__file__).resolve().parents[1] / "results"
    out.mkdir(exist_ok=True)
    (out / f"fraud-apart-third-{today}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out / f"fraud-apart-third-{today}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
