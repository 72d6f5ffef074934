"""The national rates of a period's cases, per unit and per category (README "Cases: rates").

A period's cases are those of its taps (by the tap's day), voided ones left out:
- bad (差评数): cases opened, not voided.
- replied, reply_rate (差评回复率): cases with a reply (rectified or explained) / bad.
- timely, rectify_rate (整改率, on time): replies given by the rectify deadline / bad.
- followups, satisfied, satisfaction_rate (回访整改满意率): follow-ups of 满意 or 基本满意 /
  follow-ups given.
- median_verify_days, median_close_days: calendar days from the case's opening to its
  verification, and to its closing (a reply whose follow-up time passed closes at that deadline).
- overdue: cases that owe a verification or a reply past its deadline now.
- appeals, upheld: appeals of the period's taps, and those upheld.
Rates are fractions 0..1 rounded to 4 places, None where nothing is there to divide by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from statistics import median
from typing import Any

import redis

from ..periods import Period
from ..rkeys import UnitKeys
from ..store import no_gc, read_many, servers
from ..timeutil import day_key, zone
from . import appeals as appeal_store
from . import store as case_store
from .appeals import Appeal
from .store import ANSWERED, SATISFIED, Case

CHUNK = 5000  # units a round trip (two commands each)

DAY_MS = 86_400_000
FIELDS = ("bad", "replied", "reply_rate", "timely", "rectify_rate", "followups", "satisfied",
          "satisfaction_rate", "median_verify_days", "median_close_days", "overdue", "appeals", "upheld")
NAMES = {"bad": "差评数", "replied": "已回复", "reply_rate": "差评回复率", "timely": "按期整改",
         "rectify_rate": "整改率（按期）", "followups": "回访数", "satisfied": "回访满意",
         "satisfaction_rate": "回访整改满意率", "median_verify_days": "核实用时中位数（天）",
         "median_close_days": "办结用时中位数（天）", "overdue": "超期", "appeals": "申诉",
         "upheld": "申诉成立"}


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _median_days(values: list[int]) -> float | None:
    return round(median(values) / DAY_MS, 1) if values else None


def of(cases: Iterable[Case], appeals: Iterable[Appeal], now_ms: int) -> dict:
    """The rates of these cases and appeals (one unit's, or a category's): one pass over them
    (a city's table works out 3,000 units' and then their categories' from 30,000 cases)."""
    bad = replied = timely = followups = satisfied = overdue = 0
    verify: list[int] = []
    close: list[int] = []
    for c in cases:
        if c.state == "void":
            continue
        bad += 1
        if c.replied_ms is not None:
            replied += 1
            timely += c.replied_ms <= c.rectify_due
        if c.followup is not None:
            followups += 1
            satisfied += c.followup in SATISFIED
        if c.verified_ms is not None:
            verify.append(c.verified_ms - c.opened_ms)
        if c.state_at(now_ms) == "closed":
            close.append((c.closed_at() or 0) - c.opened_ms)
        elif c.overdue(now_ms) is not None:
            overdue += 1
    appealed = upheld = 0
    for a in appeals:
        appealed += 1
        upheld += a.state == "upheld"
    return {"bad": bad, "replied": replied, "reply_rate": _rate(replied, bad), "timely": timely,
            "rectify_rate": _rate(timely, bad), "followups": followups, "satisfied": satisfied,
            "satisfaction_rate": _rate(satisfied, followups), "median_verify_days": _median_days(verify),
            "median_close_days": _median_days(close), "overdue": overdue, "appeals": appealed,
            "upheld": upheld}


def by_unit(cases: Iterable[Case], appeals: Iterable[Appeal], now_ms: int, first: str, last: str,
            units: Iterable[str]) -> dict[str, dict]:
    """unit -> its rates, for the cases and appeals of taps on days first..last (YYYYMMDD)."""
    per_c: dict[str, list[Case]] = {u: [] for u in units}
    per_a: dict[str, list[Appeal]] = {u: [] for u in per_c}
    for c in cases:
        if first <= c.day <= last and c.unit in per_c:
            per_c[c.unit].append(c)
    for a in appeals:
        if first <= a.day <= last and a.unit in per_a:
            per_a[a.unit].append(a)
    return {u: of(per_c[u], per_a[u], now_ms) for u in per_c}


def by_category(cases: Iterable[Case], appeals: Iterable[Appeal], now_ms: int, first: str, last: str,
                category_of: dict[str, str]) -> dict[str, dict]:
    """category -> the rates of its units' cases together."""
    per_c: dict[str, list[Case]] = {cat: [] for cat in set(category_of.values())}
    per_a: dict[str, list[Appeal]] = {cat: [] for cat in per_c}
    for c in cases:
        if first <= c.day <= last and c.unit in category_of:
            per_c[category_of[c.unit]].append(c)
    for a in appeals:
        if first <= a.day <= last and a.unit in category_of:
            per_a[category_of[a.unit]].append(a)
    return {cat: of(per_c[cat], per_a[cat], now_ms) for cat in sorted(per_c)}


@dataclass
class CasesCache:
    """The cases and appeals of a unit's period as last read in this process, with the unit's
    case version (cv) they were read at: a unit is read again only when its version moved.
    Exact because every script that changes a unit's cases or appeals bumps its version in the
    same step (cases.lua, appeal.lua). Tied to the server's run_id, as scoring.CountsCache.
    The rates worked out from them are kept too (rates), each until a version it was worked out
    from moves or a deadline of its cases passes: then, overdue or closed change."""

    LIMIT = 200_000  # entries kept before starting afresh (units x periods asked for)
    server: str = ""
    entries: dict[tuple[str, int, int], tuple[str, list[Case], list[Appeal]]] = field(default_factory=dict)
    rates: dict[tuple, tuple[Any, int, dict]] = field(default_factory=dict)


def _bounds(period: Period, tz: str) -> tuple[int, int, str, str]:
    since = int(datetime.combine(period.start, time(), zone(tz)).timestamp() * 1000)
    until = int(datetime.combine(period.end + timedelta(days=1), time(), zone(tz)).timestamp() * 1000)
    return since, until, day_key(period.start), day_key(period.end)


def load(r: redis.Redis, units: list[str], period: Period, tz: str,
         cache: CasesCache | None = None) -> tuple[list[Case], list[Appeal]]:
    """The cases and appeals of the period's taps, of these units. Per chunk of CHUNK units:
    each unit's case version (one round trip), then, for those that ever had a case or an
    appeal and are not cached at that version, their case ids in the period and appeals (one),
    and their cases (one more, if any)."""
    with no_gc():
        per = _load(r, units, *_bounds(period, tz), cache)
    return [c for _, cs, _ in per.values() for c in cs], [a for _, _, aps in per.values() for a in aps]


def _valid_until(cases: Iterable[Case], now_ms: int) -> int:
    """The last moment (ms) at which these cases' rates are still what they are at now_ms: the
    next deadline ahead, after which a case becomes overdue or closes."""
    ahead = 2**62
    for c in cases:
        if c.state == "new":
            dues: tuple = (c.verify_due, c.rectify_due)
        elif c.state == "verified":
            dues = (c.rectify_due,)
        elif c.state in ANSWERED and c.followup_due is not None:
            dues = (c.followup_due,)
        else:
            continue
        for due in dues:
            if now_ms <= due < ahead:
                ahead = due
    return ahead


Summary = tuple[dict[str, dict], dict[str, dict], dict[str, int]]
Known = tuple[dict[str, str | None], str]  # unit -> its case version, and store.servers()


def summary(r: redis.Redis, units: list[str], category_of: dict[str, str], period: Period, tz: str,
            now_ms: int, cache: CasesCache | None = None, known: Known | None = None) -> Summary:
    """(unit -> its rates, category -> its rates, unit -> its taps taken out by upheld
    appeals) for the period's taps of these units, at now_ms. With a cache, only units whose
    case version moved are read, and rates are worked out again only where a version moved or
    a deadline passed since. known: the units' case versions and the servers' run_ids, if the
    caller has just read them (scoring.period_counts's states): they are not read again."""
    since, until, first, last = _bounds(period, tz)
    with no_gc():
        per = _load(r, units, since, until, first, last, cache, known)
        kept = cache.rates if cache is not None else {}
        per_unit: dict[str, dict] = {}
        nothing = of([], [], now_ms)  # the rates of every unit without a case or an appeal
        for u in units:
            if u not in per:
                per_unit[u] = nothing
                continue
            version, cs, aps = per[u]
            key = ("unit", u, since, until)
            hit = kept.get(key)
            if hit is not None and hit[0] == version and now_ms <= hit[1]:
                per_unit[u] = hit[2]
                continue
            per_unit[u] = of(cs, aps, now_ms)
            if cache is not None and version:
                kept[key] = (version, _valid_until(cs, now_ms), per_unit[u])
        members: dict[str, list[str]] = {}
        for u in units:
            if u in category_of:
                members.setdefault(category_of[u], []).append(u)
        per_cat: dict[str, dict] = {}
        for cat in sorted(members):
            sig = tuple(per[u][0] if u in per else "" for u in members[cat])
            key = ("category", cat, since, until)
            hit = kept.get(key)
            if hit is not None and hit[0] == sig and now_ms <= hit[1]:
                per_cat[cat] = hit[2]
                continue
            cs = [c for u in members[cat] if u in per for c in per[u][1]]
            per_cat[cat] = of(cs, [a for u in members[cat] if u in per for a in per[u][2]], now_ms)
            if cache is not None:
                kept[key] = (sig, _valid_until(cs, now_ms), per_cat[cat])
    return per_unit, per_cat, excluded(a for _, _, aps in per.values() for a in aps)


def _load(r: redis.Redis, units: list[str], since: int, until: int, first: str, last: str,
          cache: CasesCache | None, known: Known | None = None
          ) -> dict[str, tuple[str, list[Case], list[Appeal]]]:
    """unit -> (its case version, its cases, its appeals) of the period, for the units that
    ever had a case or an appeal."""
    entries: dict = {}
    per: dict[str, tuple[str, list[Case], list[Appeal]]] = {}
    for i in range(0, len(units), CHUNK):
        chunk = units[i:i + CHUNK]
        versions: list
        if known is not None:
            versions, server = [known[0].get(u) for u in chunk], known[1]
        else:  # with the first versions, the servers' run_ids
            asked = [("INFO", "server")] if cache is not None and i == 0 else []
            versions = read_many(r, [*asked, *(("GET", UnitKeys(u).case_version) for u in chunk)])
            server = servers(versions.pop(0)) if asked else ""
        if cache is not None and i == 0:
            if server != cache.server or len(cache.entries) + len(cache.rates) > cache.LIMIT:
                cache.server, cache.entries, cache.rates = server, {}, {}
            entries = cache.entries
        todo = []
        for u, v in zip(chunk, versions, strict=True):
            hit = entries.get((u, since, until)) if v is not None else None
            if v is None:
                continue  # never a case nor an appeal
            if hit is not None and hit[0] == v:
                per[u] = hit
            else:
                todo.append((u, v))
        commands: list[tuple] = []
        for u, _ in todo:
            k = UnitKeys(u)
            commands += [("ZRANGEBYSCORE", k.all_cases, since, f"({until}"), ("HGETALL", k.appeals)]
        replies = read_many(r, commands)
        asks = []
        got: dict[str, tuple[list[Case], list[Appeal]]] = {u: ([], []) for u, _ in todo}
        for j, (u, _) in enumerate(todo):
            ids, appealed = replies[2 * j], replies[2 * j + 1]
            if ids:
                asks.append((u, list(ids)))
            pairs = appealed
            if isinstance(appealed, list):  # RESP2: a flat list
                pairs = dict(zip(appealed[::2], appealed[1::2], strict=True))
            got[u][1].extend(a for sid, v in pairs.items() for a in [appeal_store.from_json(u, sid, v)]
                             if first <= a.day <= last)
        raws = read_many(r, [("HMGET", UnitKeys(u).cases, *ids) for u, ids in asks])
        for (u, ids), vs in zip(asks, raws, strict=True):
            got[u][0].extend(case_store.from_json(u, sid, v) for sid, v in zip(ids, vs, strict=True) if v)
        for u, v in todo:
            per[u] = (v, *got[u])
            if cache is not None:
                entries[(u, since, until)] = per[u]
    return per


def excluded(appealed: Iterable[Appeal]) -> dict[str, int]:
    """unit -> its taps taken out of the counts by upheld appeals."""
    out: dict[str, int] = {}
    for a in appealed:
        if a.state == "upheld" and a.taken_out:
            out[a.unit] = out.get(a.unit, 0) + 1
    return out


def table(r: redis.Redis, period: Period, units: list[str], tz: str, now_ms: int,
          cache: CasesCache | None = None, records: list | None = None) -> dict:
    """{"period", "units": [{unit, name, category, **rates}], "categories": {cat: rates}} for
    these units (unknown ones left out); records: the registry's units, if read already."""
    from .. import registry

    wanted = set(units)
    info = {u.id: u for u in (records if records is not None else registry.list_units(r)) if u.id in wanted}
    ids = [uid for uid in units if uid in info]
    category_of = {uid: info[uid].category for uid in ids}
    per_unit, per_cat, _ = summary(r, ids, category_of, period, tz, now_ms, cache)
    return {"period": period.id,
            "units": [{"unit": uid, "name": info[uid].name, "category": info[uid].category, **per_unit[uid]}
                      for uid in ids],
            "categories": per_cat}
