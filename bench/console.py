"""The console's pages for a city (`make bench-console`): 3,000 units, 10,000 windows.

    .venv/bin/python bench/console.py [--units 3000] [--windows 10000] [--rounds 15]

In-process (each request a WSGI call through the whole app: sessions in Redis, CSRF, access
checks, Jinja), against its own redis-server on a unix socket, with development settings
(production would ask the bench's admin for a TOTP code; nothing else differs for these
pages). Loads the units over 10 categories with their windows, a period around today with
counts on it, taps today on every window, 2,000 held taps on one window, a log of 20,000 taps
with 200 reasons on one unit, and 5,000 audit lines. Then, logged in as an office admin (and as
a manager for the manager's pages), GETs each page --rounds times and reports p50 and p95 in
ms, and each p50 as a ratio to the baseline measured in the same run: the login page (a Jinja
page with a session and nothing to read). The goal is every page under 300 ms on this machine.
Writes bench/results/console-<date>.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from ratingsvc import accounts, audit, create_app, periods, registry  # noqa: E402
from ratingsvc.embedded import RedisServer  # noqa: E402
from ratingsvc.rkeys import UnitKeys  # noqa: E402
from ratingsvc.timeutil import day_key, zone  # noqa: E402
from tests.console_helpers import PASSWORD, csrf_of  # noqa: E402

GOAL_MS = 300


def seed(r: redis.Redis, units: int, windows: int, today: date) -> list[str]:
    """Units over 10 categories, windows spread over them, counts, taps today, a period."""
    rng = random.Random(7)
    for c in range(10):
        registry.save_category(r, registry.Category(f"c{c}", f"类别{c}"), create=True)
    ids = [f"u{i:05d}" for i in range(units)]
    per_unit = [windows // units + (1 if i < windows % units else 0) for i in range(units)]
    wid = 0
    days = sorted(today - timedelta(days=d) for d in range(0, 60, 3))  # the last one is today
    with r.pipeline(transaction=False) as p:
        for i, uid in enumerate(ids):
            k = UnitKeys(uid)
            p.hset(k.info, mapping={"name": f"第{i}办事处", "category": f"c{i % 10}", "active": "1"})
            p.sadd(registry.rkeys.UNITS, uid)
            today_counts: dict[str, int] = {}
            for _ in range(per_unit[i]):
                wid += 1
                p.hset(registry.rkeys.WINDOWS, str(wid), uid)
                p.hset(k.wname, str(wid), f"{wid}号窗口")
                p.hset(k.ep, str(wid), "1")
                for lvl in range(1, 6):
                    today_counts[f"w{wid}:{lvl}"] = rng.randint(0, 6)
            before = dict.fromkeys(range(1, 6), 0)  # counted taps before each day (its snapshot)
            for d in days:
                key = day_key(d)
                if d == today:
                    counts = {lvl: sum(v for f, v in today_counts.items() if f.endswith(f":{lvl}"))
                              for lvl in range(1, 6)}
                    p.hset(k.day(key), mapping=today_counts)
                else:
                    counts = {lvl: rng.randint(0, 8) for lvl in range(1, 6)}
                p.hset(k.day(key), mapping={str(lvl): v for lvl, v in counts.items()})
                p.zadd(k.days, {key: int(key)})
                p.hset(k.snap, mapping={f"{key}:{lvl}": before[lvl] for lvl in range(1, 6)})
                for lvl, v in counts.items():
                    before[lvl] += v
            p.hset(k.tot, mapping={str(lvl): v for lvl, v in before.items()})
            if i % 500 == 499:
                p.execute()
        p.set(registry.rkeys.WINDOW_SEQ, wid)
        p.execute()
    around = periods.Period("p", "本年度", today - timedelta(days=90), today + timedelta(days=90))
    periods.create_period(r, around)
    return ids


def held(r: redis.Redis, unit: str, window: int, n: int, now_ms: int) -> None:
    """n held taps on one window, as the recording script leaves them in the review queue."""
    k = UnitKeys(unit)
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            p.hset(k.held, f"{now_ms - i * 1000}-0", f"{window}|1|ip_window|{now_ms - i * 1000}")
        p.execute()


def busy_log(r: redis.Redis, unit: str, window: int, taps: int, now_ms: int) -> None:
    """The unit's log as taps leave it: `taps` taps over the last days, every 100th with a
    reason and a comment (the comments page reads past the rest)."""
    k = UnitKeys(unit)
    start = now_ms - taps * 20_000
    with r.pipeline(transaction=False) as p:
        for i in range(taps):
            t = start + i * 20_000
            p.xadd(k.log, {"k": "tap", "t": t, "w": window, "l": 1 + i % 5, "s": "counted", "r": f"r{i:016x}",
                           "ip": f"{i:016x}", "d": "20260101", "n": f"n{i}", "of": "", "why": ""},
                   id=f"{t}-0")
            if i % 100 == 0:
                p.xadd(k.log, {"k": "details", "of": f"{t}-0", "t": t + 5000, "w": window, "l": 1 + i % 5,
                               "r": f"r{i:016x}", "tags": "business,duty",
                               "c": f"等了很久，电话 1380013{i % 10000:04d}"}, id=f"{t + 5000}-0")
            if i % 1000 == 999:
                p.execute()
        p.execute()


def cases(r: redis.Redis, ids: list[str], unit: str, window: int, n: int, now_ms: int) -> str:
    """n cases over the units (a tenth in `unit`, some overdue), every 20th tap appealed and
    pending, as the counting and case scripts leave them. Returns one case's rating id."""
    rng = random.Random(5)
    first = ""
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            uid = unit if i % 10 == 0 else rng.choice(ids)
            t = now_ms - rng.randrange(60 * 86_400_000)
            sid = f"{t}-{i}"
            first = first or f"{uid}.{sid}"
            state = rng.choice(["new", "verified", "explained", "closed"])
            day = datetime.fromtimestamp(t / 1000).strftime("%Y%m%d")
            c = {"w": window, "l": 1 + i % 2, "t": t, "d": day,
                 "o": t, "s": state, "vd": t + 86_400_000, "rd": t + 21 * 86_400_000,
                 "h": [{"a": "open", "t": t, "by": ""}]}
            if state in ("explained", "closed"):
                c.update(vt=t + 3_600_000, rt=t + 86_400_000, fd=t + 8 * 86_400_000, reply="已说明",
                         **({"fu": 1 + i % 3, "ct": t + 2 * 86_400_000} if state == "closed" else {}))
            k = UnitKeys(uid)
            p.hset(k.cases, sid, json.dumps(c, ensure_ascii=False))
            p.zadd(k.all_cases, {sid: t})
            p.incr(k.case_version)  # as the scripts do
            if state != "closed":
                owed = c["vd"] if state == "new" else c["rd"]
                p.zadd(k.open_cases, {sid: -c["fd"] if "fd" in c else owed})  # as rkeys says
            if i % 20 == 0:
                appeal = {"s": "pending", "w": window, "l": c["l"], "t": t, "d": day, "ft": t + 1000,
                          "by": "account:mgr", "reason": "误触"}
                p.hset(k.appeals, sid, json.dumps(appeal, ensure_ascii=False))
                p.zadd(k.pending_appeals, {sid: t + 1000})
            if i % 1000 == 999:
                p.execute()
        p.execute()
    return first


def timed(client, path: str, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        resp = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:300])
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1 if len(times) > 1 else 0]


def login(app, username: str):
    client = app.test_client()
    page = client.get("/console/login")
    resp = client.post("/console/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text)})
    assert resp.status_code == 302, resp.text[:300]
    return client


def main() -> None:
    logging.getLogger("ratingsvc.access").setLevel(logging.WARNING)  # a line per request otherwise
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--windows", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), appendonly=False).start()
        try:
            results = run(server, args)
        finally:
            server.stop()
    out = BENCH / "results" / f"console-{date.today().isoformat()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def run(server: RedisServer, args: argparse.Namespace) -> dict:
    app = create_app({"REDIS_URL": server.url, "SECRET_KEY": secrets.token_urlsafe(32),
                      "QR_KEYS": f"1:{secrets.token_urlsafe(32)}", "PUBLIC_URL": "https://pj.example.gov.cn",
                      "EVALUATION_OFFICE": "示例市纠风办", "PROXY_HOPS": 0,
                      "LIMIT_DEFAULT_IP": "1000000/minute", "LIMIT_LOGIN_IP": "1000/minute",
                      "LIMIT_LOGIN_ACCOUNT": "1000/minute"})
    r = redis.Redis.from_url(server.url, decode_responses=True)
    now = time.time()
    today = datetime.fromtimestamp(now, zone(app.config["TIMEZONE"])).date()
    started = time.perf_counter()
    ids = seed(r, args.units, args.windows, today)
    unit, window = ids[0], registry.list_windows(r, ids[0])[0].id
    held(r, unit, window, 2000, int(now * 1000))
    busy_log(r, unit, window, 20_000, int(now * 1000))
    a_case = cases(r, ids, unit, window, 30_000, int(now * 1000))
    actor = audit.Actor("cli", "bench@host", "bench")
    for i in range(5000):
        audit.record(r, actor, "unit.update", f"unit:{ids[i % len(ids)]}", now=now - i, before={"name": "a"},
                     after={"name": "b"})
    accounts.create(r, username="boss", name="管理员", role="admin", now=now, password=PASSWORD)
    accounts.create(r, username="mgr", name="负责人", role="manager", units=[unit], now=now,
                    password=PASSWORD)
    print(f"loaded {args.units} units, {args.windows} windows in {time.perf_counter() - started:.1f} s",
          flush=True)
    office, manager = login(app, "boss"), login(app, "mgr")
    pages = [
        ("login page (baseline)", app.test_client(), "/console/login"),
        ("dashboard", office, "/console/dashboard"),
        ("units, page 1", office, "/console/units"),
        ("units, search", office, "/console/units?q=第29"),
        ("unit page", office, f"/console/units/{unit}"),
        ("unit results", manager, f"/console/units/{unit}/results"),
        ("comments (20,000 taps, 200 reasons)", manager, f"/console/units/{unit}/comments"),
        ("registry", office, "/console/registry"),
        ("review queue (2,000 held)", office, "/console/review"),
        ("scores table", office, "/console/scores?period=p"),
        ("periods", office, "/console/periods"),
        ("audit log (5,000 lines)", office, "/console/audit"),
        ("cases: every unit's rates (30,000 cases)", office, "/console/cases?period=p"),
        ("appeal queue (1,500 pending)", office, "/console/appeals"),
        ("a unit's case inbox (3,000 cases)", manager, f"/console/units/{unit}/cases"),
        ("a case", manager, f"/console/cases/{a_case}"),
        ("accounts", office, "/console/accounts"),
        ("API keys", office, "/console/keys"),
    ]
    rows = []
    only = os.environ.get("BENCH_PAGES")  # a comma-separated subset of the paths, for a quick look
    for name, client, path in pages:
        if only and path.split("?")[0] not in only.split(",") and rows:
            continue
        p50, p95 = timed(client, path, args.rounds)
        rows.append({"page": name, "path": path, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1)})
    base = rows[0]["p50_ms"]
    print(f"{'page':36} {'p50 ms':>8} {'p95 ms':>8} {'× login':>8}")
    for row in rows:
        row["ratio"] = round(row["p50_ms"] / base, 1)
        mark = "" if row["p50_ms"] < GOAL_MS else f"  over {GOAL_MS} ms"
        print(f"{row['page']:36} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['ratio']:8.1f}{mark}")
    return {"units": args.units, "windows": args.windows, "rounds": args.rounds, "goal_ms": GOAL_MS,
            "pages": rows}


if __name__ == "__main__":
    main()
