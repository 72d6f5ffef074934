"""Attack simulation: can a unit stuff its own score, and are honest citizens still counted?

    .venv/bin/python bench/fraud.py [--scale 1.0] [--seed 2017] [--set NAME=VALUE ...]
    (or: make fraud)

Runs the app (production rules and limits) behind an in-process HTTP server on 127.0.0.1,
with its own redis-server, and drives it over HTTP. Every scenario gets a fresh database
and its own simulated clock (Monday 2026-06-01 in Shanghai; windows open Mon-Fri
08:30-12:00 and 14:00-17:30). The client IP reaches the app as nginx would send it
(X-Forwarded-For, one trusted hop).

flask-limiter's limits (per IP, and per window and rater on scans) count wall-clock time, and
a simulated day passes here in seconds, so they are widened for the run (tests/test_limits.py
tests them). The per-rater
and per-window limits in the recording script follow the simulated clock and take part.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from werkzeug.serving import WSGIRequestHandler, make_server

from ratingsvc import create_app, registry, scoring, visits, volumes
from ratingsvc.embedded import RedisServer, free_port

MONDAY = datetime(2026, 6, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
HOURS = {"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00", "14:00-17:30"]}
HALL_NETWORK = "203.0.113.0/24"  # the hall's Wi-Fi; citizens and staff on it are on site
WECHAT_UAS = [  # what WeChat's browser sends on common phones
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Version/4.0 Chrome/116.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 "
    "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00; HMSCore 6.13) AppleWebKit/537.36 (KHTML, "
    "like Gecko) Chrome/114.0 Mobile Safari/537.36 MicroMessenger/8.0.48 NetType/4G Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 14; 23049RAD8C) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0 Mobile Safari/537.36 MicroMessenger/8.0.49 NetType/WIFI Language/zh_CN",
]
HONEST_LEVELS = [5] * 60 + [4] * 25 + [3] * 10 + [2] * 3 + [1] * 2
OUTCOME = {201: "counted", 202: "held", 200: "duplicate"}
# --volumes: the hall's queue system sends each window's services done today every 10 minutes:
# the citizens served who rate (the honest ones) are PARTICIPATION of those served, and each
# window serves UNRATED more a day who do not rate, spread over its opening hours
# (--participation and --unrated change them).
REPORT_EVERY, PARTICIPATION, UNRATED, OPEN_FROM, OPEN_TO = 600, 0.5, 30, 8.5, 17.5


class Clock:
    def __init__(self, start: float = MONDAY) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def at(self, hour: float, day: int = 0) -> None:
        self.t = MONDAY + day * 86400 + hour * 3600


def exchange(port: int, method: str, path: str, body: dict | None, headers: dict,
             cookie: str) -> tuple[int, dict, str]:
    """One HTTP request to the app on 127.0.0.1:port as a phone sends it (its cookie, if any):
    (status, JSON body or {}, the cookie it holds after). bench/apart's phones send theirs so too."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    hdrs = {**headers, **({"Cookie": cookie} if cookie else {})}
    data = None
    if body is not None:
        data, hdrs["Content-Type"] = json.dumps(body), "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        payload = {}
    given = resp.getheader("Set-Cookie")
    conn.close()
    return resp.status, payload, given.split(";", 1)[0] if given else cookie


class Phone:
    """One phone: its own cookies, an IP and a User-Agent."""

    def __init__(self, sim: Sim, ip: str, ua: str, served: bool = False) -> None:
        self.sim, self.ip, self.ua, self.cookie, self.served = sim, ip, ua, "", served

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> tuple[int, dict]:
        status, payload, self.cookie = exchange(self.sim.port, method, path, body, {
            "X-Forwarded-For": self.ip, "User-Agent": self.ua, **(headers or {})}, self.cookie)
        return status, payload

    def scan(self, window: registry.Window) -> str | None:
        status, body = self.request("GET", f"/api/v1/scan/{self.sim.token(window)}")
        return body.get("ticket") if status == 200 else None

    def tap(self, ticket: str | None, level: int, key: str | None = None) -> str:
        if ticket is None:
            return "refused"
        status, _ = self.request("POST", "/api/v1/ratings", {"ticket": ticket, "level": level},
                                 {"Idempotency-Key": key} if key else None)
        return OUTCOME.get(status, "refused")

    def scan_and_tap(self, window: registry.Window, level: int, think: float) -> str:
        self.sim.queue_system(window if self.served else None)
        ticket = self.scan(window)
        self.sim.clock.t += think
        return self.tap(ticket, level)


@dataclass
class Result:
    name: str
    honest: bool
    outcomes: Counter = field(default_factory=Counter)  # the answers the taps got
    people: int = 0  # honest scenarios: how many citizens tapped
    counted: int = 0  # in the end, in the unit's score (a later hold can take a tap out)
    held: int = 0  # in the end, held for review

    @property
    def sent(self) -> int:
        return sum(self.outcomes.values())


class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class Sim:
    def __init__(self, redis_url: str, rng: random.Random, settings: dict, network: bool = True,
                 volumes_of: tuple[float, int] | None = None) -> None:
        """volumes_of: --volumes' (participation, unrated); None: no volumes are sent."""
        self.clock, self.rng, self.network, self.volumes_of = Clock(), rng, network, volumes_of
        self.served: Counter = Counter()  # (day, window id) -> citizens served who rate
        self.windows: list[registry.Window] = []
        self.reported = -1  # the last 10-minute mark the queue system sent its volumes at
        limits = {f"LIMIT_{name}": "1000000/minute"
                  for name in ("SCAN_IP", "SCAN_WINDOW", "SCAN_RATER", "RATING_IP", "DEFAULT_IP")}
        # The rules are measured here, not the disk: its Redis keeps no append-only file.
        self.app = create_app({"REDIS_URL": redis_url, "CLOCK": self.clock, "PROXY_HOPS": 1,
                               "PUBLIC_URL": "https://pj.example.gov.cn", "TAP_DURABILITY": "server",
                               **limits, **settings})
        self.r = self.app.extensions["ratingsvc.redis"]
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True,
                                  request_handler=Quiet)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fresh(self, windows: int = 6, network: bool = True) -> list[registry.Window]:
        """A new day: empty database, the clock at Monday 00:00, one unit with its windows, one
        hall (its Wi-Fi registered, unless network is False or the run has --no-network)."""
        network = network and self.network
        self.r.flushdb()
        self.clock.at(0)
        registry.save_category(self.r, registry.Category("c", "窗口单位"), create=True)
        registry.save_unit(self.r, registry.Unit("hall", "区政务服务中心", "c"), create=True)
        made = [registry.create_window(self.r, "hall", f"{i + 1}号窗口") for i in range(windows)]
        # the hall's own Wi-Fi, as the office registers it (README "Visit tokens": networks)
        visits.create_hall(self.r, self.app.extensions["ratingsvc.signing"], name="市民之家",
                           windows=[w.id for w in made], valid_minutes=1440, now=self.clock(),
                           networks=[HALL_NETWORK] if network else [])
        self.served, self.reported = Counter(), -1
        self.windows = [registry.update_window(self.r, w.id, hours=HOURS) for w in made]
        return self.windows

    def queue_system(self, window: registry.Window | None, final: bool = False) -> None:
        """--volumes: a citizen served at `window` (None: not served), and every 10 minutes
        (and at the end of a scenario, `final`) each window's services done today, as the
        hall's queue system sends them."""
        if self.volumes_of is None:
            return
        participation, unrated = self.volumes_of
        day = int((self.clock() - MONDAY) // 86400)
        mark = int(self.clock() // REPORT_EVERY)
        if final or mark > self.reported:
            self.reported = mark
            hour = (self.clock() - MONDAY - day * 86400) / 3600
            share = min(1.0, max(0.0, (hour - OPEN_FROM) / (OPEN_TO - OPEN_FROM)))
            today = date.fromtimestamp(MONDAY + day * 86400 + 43200)
            rows = [volumes.Volume(w.id, today, round(self.served[(day, w.id)] / participation
                                                      + unrated * share)) for w in self.windows]
            volumes.save(self.r, rows, int(self.clock() * 1000), today,
                         self.app.extensions["ratingsvc.rules"].volume_margin)
        if window is not None:
            self.served[(day, window.id)] += 1

    def token(self, window: registry.Window) -> str:
        return self.app.extensions["ratingsvc.signing"].qr_token(window.id, window.epoch)

    def phone(self, ip: str, ua: str | None = None, served: bool = False) -> Phone:
        """A phone; served: an honest citizen's, served at the windows it rates."""
        return Phone(self, ip, ua or self.rng.choice(WECHAT_UAS), served)

    def times(self, n: int, start: float, end: float) -> list[float]:
        return sorted(self.rng.uniform(start, end) for _ in range(n))


def honest_hall(sim: Sim, scale: float) -> Result:
    """Citizens in one hall on its one Wi-Fi address over a day; some tap twice."""
    res = Result("honest citizens, one hall, one IP, a day", honest=True)
    windows = sim.fresh()
    morning = sim.times(int(180 * scale), 8.6, 11.9)  # busier mornings
    afternoon = sim.times(int(120 * scale), 14.1, 17.4)
    for hour in morning + afternoon:
        sim.clock.at(hour)
        phone = sim.phone("203.0.113.10", served=True)
        window, level = sim.rng.choice(windows), sim.rng.choice(HONEST_LEVELS)
        outcomes = [phone.scan_and_tap(window, level, sim.rng.uniform(4, 60))]
        if sim.rng.random() < 0.1:  # taps again to be sure
            outcomes.append(phone.tap(phone.scan(window), level))
        res.outcomes.update(outcomes)
        res.people += 1
    return res


def one_device(sim: Sim, scale: float) -> Result:
    """One phone, cookies kept, rescanning and tapping a hundred times in an hour."""
    res = Result("one device taps 100 times", honest=False)
    window = sim.fresh()[0]
    phone = sim.phone("203.0.113.20")
    for hour in sim.times(int(100 * scale), 9.0, 10.0):
        sim.clock.at(hour)
        res.outcomes[phone.scan_and_tap(window, 5, 3)] += 1
    return res


def replayed_ticket(sim: Sim, scale: float) -> Result:
    """A script replaying one scanned ticket, each time with a new Idempotency-Key."""
    res = Result("a script replays one ticket 100 times", honest=False)
    window = sim.fresh()[0]
    phone = sim.phone("203.0.113.30")
    sim.clock.at(9.0)
    ticket = phone.scan(window)
    for i in range(int(100 * scale)):
        sim.clock.t += 5
        res.outcomes[phone.tap(ticket, 5, key=f"replay-{i}")] += 1
    return res


def cookie_clearing_bot(sim: Sim, scale: float) -> Result:
    """A bot on one IP posing as WeChat, clearing cookies and rescanning all office hours."""
    res = Result("bot clears cookies, rescans, one IP", honest=False)
    window = sim.fresh()[0]
    ua = WECHAT_UAS[0]
    for hour in sim.times(int(1000 * scale), 8.6, 17.4):
        if 12.0 < hour < 14.0:
            continue
        sim.clock.at(hour)
        res.outcomes[sim.phone("198.51.100.40", ua).scan_and_tap(window, 5, 2.5)] += 1
    return res


def poster_photo(sim: Sim, scale: float) -> Result:
    """A photo of the poster in a chat group: people who were never served rate at night."""
    res = Result("poster photo, hundreds of IPs, at night", honest=False)
    window = sim.fresh()[0]
    for hour in sim.times(int(400 * scale), 20.0, 23.5):
        sim.clock.at(hour)
        phone = sim.phone(f"100.64.{sim.rng.randrange(2)}.{sim.rng.randrange(150)}")
        res.outcomes[phone.scan_and_tap(window, 5, sim.rng.uniform(5, 30))] += 1
    return res


def staff_trickle(sim: Sim, scale: float) -> Result:
    """Five staff, own phones on the office Wi-Fi, a 5-star on one window or another all day."""
    res = Result("staff trickle, 5 phones, all day", honest=False)
    windows = sim.fresh()
    phones = [sim.phone("203.0.113.10") for _ in range(5)]
    for hour in sim.times(int(65 * scale), 8.6, 17.4):
        if 12.0 < hour < 14.0:
            continue
        sim.clock.at(hour)
        res.outcomes[sim.rng.choice(phones).scan_and_tap(sim.rng.choice(windows), 5, 8)] += 1
    return res


# Round two (issue 16): patience and distribution, over a working week ------------------------
WEEK = range(5)  # Monday to Friday


def office_hour(sim: Sim) -> float:
    """A moment of office hours (08:40-11:50, 14:10-17:20)."""
    return sim.rng.choice((sim.rng.uniform(8.67, 11.83), sim.rng.uniform(14.17, 17.33)))


def mobile_ip(sim: Sim) -> str:
    """A phone's own address on a mobile network (CGNAT)."""
    return f"100.{sim.rng.randrange(64, 128)}.{sim.rng.randrange(256)}.{sim.rng.randrange(1, 255)}"


def staff_own_phones(sim: Sim, scale: float) -> Result:
    """Eight staff, each with their own phone on their own mobile address, each rating their own
    unit once every working day at a plausible moment, on one window or another."""
    res = Result("staff, own phones, once a working day, a week", honest=False)
    windows = sim.fresh()
    staff = [sim.phone(mobile_ip(sim)) for _ in range(max(1, int(8 * scale)))]
    for day in WEEK:
        for phone in staff:
            sim.clock.at(office_hour(sim), day)
            res.outcomes[phone.scan_and_tap(sim.rng.choice(windows), 5, sim.rng.uniform(5, 40))] += 1
    return res


def poster_spread_daytime(sim: Sim, scale: float) -> Result:
    """A photo of the poster spread online: a steady, modest pace during office hours, from a
    few hundred addresses, none of them served."""
    res = Result("poster photo spread, office hours, 300 IPs", honest=False)
    window = sim.fresh()[0]
    for day in WEEK[:2]:
        for hour in sim.times(int(150 * scale), 8.6, 17.4):
            if 12.0 < hour < 14.0:
                continue
            sim.clock.at(hour, day)
            res.outcomes[sim.phone(mobile_ip(sim)).scan_and_tap(window, 5, sim.rng.uniform(5, 30))] += 1
    return res


def patient_bot(sim: Sim, scale: float) -> Result:
    """A bot on one address, new cookies each time, one tap every 4-7 minutes all afternoon,
    across the unit's windows: under every per-address and burst threshold."""
    res = Result("patient bot, one IP, all afternoon, several windows", honest=False)
    windows = sim.fresh()
    for day in WEEK[:3]:
        hour = 14.1
        while hour < 17.4:
            sim.clock.at(hour, day)
            res.outcomes[sim.phone("198.51.100.77").scan_and_tap(sim.rng.choice(windows), 5, 6)] += 1
            hour += sim.rng.uniform(4, 7) / 60
    return res


def flood_waves(sim: Sim, scale: float) -> Result:
    """A rival's flood in waves (1-stars): one in the morning, one in the afternoon, each 150
    taps in 20 minutes from 40 addresses, cookies cleared, forged X-Forwarded-For chains."""
    res = Result("rival's flood in two waves, 40 IPs, forged XFF", honest=False)
    window = sim.fresh()[0]
    for start in (9.5, 15.0):
        ips = [mobile_ip(sim) for _ in range(40)]
        for hour in sim.times(int(150 * scale), start, start + 1 / 3):
            sim.clock.at(hour)
            phone = sim.phone(f"{mobile_ip(sim)}, {sim.rng.choice(ips)}")  # nginx appends the real one
            res.outcomes[phone.scan_and_tap(window, 1, sim.rng.uniform(3, 12))] += 1
    return res


def night_crowd_no_hours(sim: Sim, scale: float) -> Result:
    """A crowd at night on a window whose opening hours were never set (units import makes
    windows without hours)."""
    res = Result("crowd at night, window without hours", honest=False)
    windows = sim.fresh()
    window = registry.update_window(sim.r, windows[0].id, hours=None)
    for hour in sim.times(int(200 * scale), 20.0, 23.5):
        sim.clock.at(hour)
        res.outcomes[sim.phone(mobile_ip(sim)).scan_and_tap(window, 5, sim.rng.uniform(5, 30))] += 1
    return res


def honest_two_windows(sim: Sim, scale: float) -> Result:
    """Citizens served at two windows of one unit in one visit (受理, then 缴费 10-40 minutes
    later), rating each: both ratings should count. The hall's one address."""
    res = Result("honest: two windows in one visit (受理 then 缴费)", honest=True)
    windows = sim.fresh()
    for hour in sim.times(int(120 * scale), 8.7, 16.5):
        if 11.3 < hour < 14.1:
            continue
        sim.clock.at(hour)
        phone = sim.phone("203.0.113.11", served=True)
        first, second = sim.rng.sample(windows[:4], 2)
        res.outcomes[phone.scan_and_tap(first, sim.rng.choice(HONEST_LEVELS), sim.rng.uniform(4, 30))] += 1
        sim.clock.t += sim.rng.uniform(10, 40) * 60
        res.outcomes[phone.scan_and_tap(second, sim.rng.choice(HONEST_LEVELS), sim.rng.uniform(4, 30))] += 1
        res.people += 2  # two services, two ratings
    return res


def honest_busy_hall(sim: Sim, scale: float, network: bool = True) -> Result:
    """A busy hall behind one address: 600 citizens a day over six windows, three days."""
    res = Result("honest: busy hall, one IP, 600 a day" + ("" if network else ", no network registered"),
                 honest=True)
    windows = sim.fresh(network=network)
    for day in WEEK[:3]:
        for hour in sim.times(int(600 * scale), 8.55, 17.45):
            if 12.0 < hour < 14.0:
                continue
            sim.clock.at(hour, day)
            phone = sim.phone("203.0.113.12", served=True)
            res.outcomes[phone.scan_and_tap(sim.rng.choice(windows), sim.rng.choice(HONEST_LEVELS),
                                            sim.rng.uniform(4, 60))] += 1
            res.people += 1
    return res


def honest_busy_hall_unregistered(sim: Sim, scale: float) -> Result:
    """The same busy hall, where the office has registered no network: the per-address and
    burst signals see it as one address."""
    return honest_busy_hall(sim, scale, network=False)


def honest_mobile_data(sim: Sim, scale: float) -> Result:
    """A hall's citizens, a third of them on their phones' mobile data (addresses outside the
    hall's network), over two days."""
    res = Result("honest: a hall, a third on mobile data", honest=True)
    windows = sim.fresh()
    for day in WEEK[:2]:
        for hour in sim.times(int(300 * scale), 8.6, 17.4):
            if 12.0 < hour < 14.0:
                continue
            sim.clock.at(hour, day)
            phone = sim.phone(mobile_ip(sim) if sim.rng.random() < 1 / 3 else "203.0.113.14", served=True)
            res.outcomes[phone.scan_and_tap(sim.rng.choice(windows), sim.rng.choice(HONEST_LEVELS),
                                            sim.rng.uniform(4, 60))] += 1
            res.people += 1
    return res


def honest_under_attack(sim: Sim, scale: float) -> Result:
    """Honest citizens at a window while a flood hits it (their taps alone are scored here:
    the flood's are sent as another unit's, on the same window's address space)."""
    res = Result("honest: citizens at a window under a flood", honest=True)
    windows = sim.fresh()
    attack = sim.times(int(300 * scale), 9.0, 10.0)
    honest = sim.times(int(40 * scale), 8.7, 11.8)
    events = sorted([(h, "a") for h in attack] + [(h, "h") for h in honest])
    flood = Result("(the flood)", honest=False)
    for hour, who in events:
        sim.clock.at(hour)
        if who == "a":
            flood.outcomes[sim.phone(mobile_ip(sim)).scan_and_tap(windows[0], 1, 4)] += 1
        else:
            phone = sim.phone("203.0.113.13", served=True)
            res.outcomes[phone.scan_and_tap(windows[0], sim.rng.choice(HONEST_LEVELS[:95]),
                                            sim.rng.uniform(4, 60))] += 1
            res.people += 1
    res.attack = flood  # type: ignore[attr-defined]
    return res


def settle(sim: Sim, res: Result) -> list[Result]:
    """What the unit's score holds at the end of the scenario. A scenario with an attack beside
    honest citizens (res.attack) tells them apart by level: the citizens rate 3-5, the attack 1."""
    sim.queue_system(None, final=True)  # the last day's volumes, whole
    counts = scoring.period_counts(sim.r, ["hall"], date(2026, 6, 1), date(2026, 6, 7))[0]
    attack = getattr(res, "attack", None)
    if attack is None:
        res.counted, res.held = sum(counts.counts), counts.pending
        return [res]
    res.counted, attack.counted = sum(counts.counts[2:]), counts.counts[0]
    attack.name = res.name.replace("honest: citizens", "the flood") + " (its taps)"
    return [res, attack]


ROUND_ONE = [honest_hall, one_device, replayed_ticket, cookie_clearing_bot, poster_photo, staff_trickle]
ROUND_TWO = [staff_own_phones, poster_spread_daytime, patient_bot, flood_waves, night_crowd_no_hours,
             honest_two_windows, honest_busy_hall, honest_busy_hall_unregistered, honest_mobile_data,
             honest_under_attack]  # issue 16's
SCENARIOS = ROUND_ONE + ROUND_TWO


def report(results: list[Result]) -> dict:
    cols = ["taps sent", "counted", "held", "duplicate", "refused"]
    width = max(len(r.name) for r in results)
    print(f"{'scenario'.ljust(width)}  " + "  ".join(f"{c:>9}" for c in cols))
    for r in results:
        print(f"{r.name.ljust(width)}  {r.sent:>9}  {r.counted:>9}  {r.held:>9}  "
              f"{r.outcomes['duplicate']:>9}  {r.outcomes['refused']:>9}")
    print("(counted and held: in the unit's score at the end; duplicate and refused: answers)")
    fraud = [r for r in results if not r.honest]
    fraud_sent, fraud_counted = sum(r.sent for r in fraud), sum(r.counted for r in fraud)
    people = sum(r.people for r in results if r.honest)
    people_counted = sum(r.counted for r in results if r.honest)
    totals = {"fraudulent_taps_counted_share": fraud_counted / fraud_sent,
              "honest_citizens_counted_share": people_counted / people}
    print(f"\nshare of fraudulent taps counted: {fraud_counted}/{fraud_sent} = "
          f"{totals['fraudulent_taps_counted_share']:.2%}  (goal <= 1%)")
    print(f"share of honest citizens counted: {people_counted}/{people} = "
          f"{totals['honest_citizens_counted_share']:.2%}  (goal >= 99%)")
    return {"scenarios": [{"name": r.name, "honest": r.honest, "sent": r.sent, "counted": r.counted,
                           "held": r.held, "answers": dict(r.outcomes)} for r in results], **totals}


def run(scale: float = 1.0, seed: int = 2017, settings: dict | None = None,
        scenarios: list | None = None, network: bool = True,
        volumes_of: tuple[float, int] | None = None) -> dict:
    """volumes_of: (participation, unrated) for --volumes; None: no volumes."""
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), port=free_port(), appendonly=False).start()
        try:
            sim = Sim(server.url, random.Random(seed), settings or {}, network, volumes_of)
            try:
                return report([out for scenario in scenarios or SCENARIOS
                               for out in settle(sim, scenario(sim, scale))])
            finally:
                sim.server.shutdown()
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every scenario's size")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting to try, e.g. --set RULE_IP_WINDOW_MAX=6")
    parser.add_argument("--no-network", action="store_true",
                        help="no hall registers its network (the on-site signals are off)")
    parser.add_argument("--volumes", action="store_true",
                        help="the hall's queue system sends its windows' services done every 10 minutes")
    parser.add_argument("--participation", type=float, default=PARTICIPATION,
                        help="--volumes: the share of those served who rate")
    parser.add_argument("--unrated", type=int, default=UNRATED,
                        help="--volumes: services a window does a day for citizens who do not rate")
    args = parser.parse_args()
    settings = {k: json.loads(v) if v.replace(".", "").isdigit() else v
                for k, v in (item.split("=", 1) for item in args.set)}
    served = (args.participation, args.unrated) if args.volumes else None
    result = run(args.scale, args.seed, settings, network=not args.no_network, volumes_of=served)
    tail = ("-no-network" if args.no_network else "") + ("-volumes" if args.volumes else "")
    if served and served != (PARTICIPATION, UNRATED):
        tail += f"-p{args.participation:g}-u{args.unrated}"
    out = Path(__file__).parent / "results" / f"fraud-{date.today().isoformat()}{tail}.json"
    out.parent.mkdir(exist_ok=True)
    result["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
