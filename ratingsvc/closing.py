"""Closing a period: a JSON Lines export of its taps with a SHA-256 chain, and the frozen
result computed from that export, so that anyone holding both can check one against the other.

Each line is one tap of the period: its time, unit, window, level, final status (counted,
held, rejected or duplicate; a released tap is counted), the hashed rater, its log id, and
``chain``: SHA-256 of the previous line's chain and this line without it. The first chain
value starts from SHA-256 of "ratingsvc/<period id>"; the last is the export's digest.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import redis

from . import registry, rkeys, scoring
from .periods import Period
from .rkeys import UnitKeys
from .timeutil import day_key

CHUNK = 10_000


def chain_start(period_id: str) -> str:
    return hashlib.sha256(f"ratingsvc/{period_id}".encode()).hexdigest()


def chained(prev: str, line: str) -> str:
    return hashlib.sha256((prev + line).encode()).hexdigest()


def _log(r: redis.Redis, unit: str) -> Iterator[tuple[str, dict]]:
    start = "-"
    while True:
        batch = r.xrange(UnitKeys(unit).log, min=start, count=CHUNK)
        yield from batch
        if len(batch) < CHUNK:
            return
        start = f"({batch[-1][0]}"


def unit_taps(r: redis.Redis, unit: str, first: str, last: str) -> list[dict]:
    """The unit's taps on days first..last (YYYYMMDD), with their final status, in log order."""
    taps, final = [], {}
    for eid, f in _log(r, unit):
        kind = f.get("k")
        if kind == "tap" and first <= f["d"] <= last:
            taps.append((eid, f))
        elif kind == "hold":
            final[f["of"]] = "held"
        elif kind == "review":
            final[f["of"]] = "counted" if f["a"] == "release" else "rejected"
    return [{"time": datetime.fromtimestamp(int(f["t"]) / 1000, UTC).isoformat(timespec="milliseconds"),
             "unit": unit, "window": int(f["w"]), "level": int(f["l"]),
             "status": final.get(eid, f["s"]), "rater": f["r"], "id": eid} for eid, f in taps]


def line_body(tap: dict) -> str:
    return json.dumps(tap, ensure_ascii=False, sort_keys=True)


def export_lines(r: redis.Redis, period: Period) -> Iterator[tuple[dict, str, str]]:
    """The export, unit by unit: each tap, its line (with the chain value), the chain value."""
    chain = chain_start(period.id)
    first, last = day_key(period.start), day_key(period.end)
    for unit in sorted(r.smembers(rkeys.UNITS)):
        for tap in unit_taps(r, unit, first, last):
            chain = chained(chain, line_body(tap))
            yield tap, line_body({**tap, "chain": chain}), chain


def tally(taps: Iterable[dict]) -> dict[str, dict]:
    """unit -> {"counts": [c1..c5], "pending": n, "rejected": n} from export lines (status
    held: still awaiting review, so pending)."""
    out: dict[str, dict] = defaultdict(lambda: {"counts": [0] * 5, "pending": 0, "rejected": 0})
    for tap in taps:
        if tap["status"] == "counted":
            out[tap["unit"]]["counts"][tap["level"] - 1] += 1
        elif tap["status"] == "held":
            out[tap["unit"]]["pending"] += 1
        elif tap["status"] == "rejected":
            out[tap["unit"]]["rejected"] += 1
    return out


def result_from(tallies: dict[str, dict], units: dict[str, tuple[str, str]], *,
                prior_weight: float, min_n: int) -> dict:
    """The score table and category means from tallies; units: id -> (name, category)."""
    none = {"counts": [0] * 5, "pending": 0, "rejected": 0}
    counts = [scoring.UnitCounts(uid, name, cat, t["counts"], pending=t["pending"], rejected=t["rejected"])
              for uid, (name, cat) in sorted(units.items()) for t in [tallies.get(uid, none)]]
    scores = scoring.score_units(counts, prior_weight=prior_weight, min_n=min_n)
    return {
        "categories": {c: {"mean": m, "n": n} for c, (m, n) in scoring.category_means(counts).items()},
        "units": [{"unit": s.unit, "name": s.name, "category": s.category, "counts": s.counts,
                   "n": s.n, "pending": s.pending, "rejected": s.rejected, "raw": s.raw, "score": s.score,
                   "ci95": s.ci95 and list(s.ci95),
                   "good_rate": s.good_rate, "status": s.status, "rank": s.rank} for s in scores]}


def close(r: redis.Redis, period: Period, path: str, *, prior_weight: float, min_n: int,
          now: float) -> dict:
    """Write the export to path, compute the frozen result from it, store both facts."""
    written: dict = {"lines": 0, "digest": chain_start(period.id)}

    def taps() -> Iterator[dict]:
        with open(path, "w", encoding="utf-8") as out:
            for tap, line, chain in export_lines(r, period):
                out.write(line + "\n")
                written["lines"] += 1
                written["digest"] = chain
                yield tap

    tallies = tally(taps())
    units = {u.id: (u.name, u.category) for u in registry.list_units(r) if u.active}
    result = {"period": period.id, "start": period.start.isoformat(), "end": period.end.isoformat(),
              "closed_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
              "taps": written["lines"], "digest": written["digest"], "prior_weight": prior_weight,
              "min_n": min_n, **result_from(tallies, units, prior_weight=prior_weight, min_n=min_n)}
    if not r.hsetnx(rkeys.CLOSED, period.id, json.dumps(result, ensure_ascii=False)):
        raise registry.RegistryError("closed period", period.id, "existing")
    return result


def stored_result(r: redis.Redis, period_id: str) -> dict | None:
    raw = r.hget(rkeys.CLOSED, period_id)
    return json.loads(raw) if raw else None


def verify(lines: Iterable[str], result: dict) -> list[str]:
    """Problems found checking an export against its published result ([] if none)."""
    problems: list[str] = []
    chain, taps = chain_start(result["period"]), []
    for number, line in enumerate(lines, 1):
        tap = json.loads(line)
        stored = tap.pop("chain", "")
        if chained(chain, line_body(tap)) != stored:
            problems.append(f"line {number} (unit {tap.get('unit')}): the chain breaks here, so "
                            "this line was changed (or removed, or one was put before it)")
        chain = stored  # go on from the stored value, so each changed line shows by itself
        taps.append({"unit": tap["unit"], "level": tap["level"], "status": tap["status"]})
    if chain != result["digest"]:
        problems.append(f"digest: the export ends at {chain[:16]}…, the result says "
                        f"{result['digest'][:16]}…")
    if len(taps) != result["taps"]:
        problems.append(f"taps: {len(taps)} in the export, {result['taps']} in the result")
    units = {u["unit"]: (u["name"], u["category"]) for u in result["units"]}
    again = result_from(tally(taps), units, prior_weight=result["prior_weight"],
                        min_n=result["min_n"])
    published = {u["unit"]: u for u in result["units"]}
    for u in again["units"]:
        p = published[u["unit"]]
        for field in ("counts", "n", "pending", "rejected", "score", "rank"):
            if field in p and u[field] != p[field]:  # a result from before: "held", unchecked
                problems.append(f"unit {u['unit']}: {field} is {u[field]} from the export, "
                                f"{p[field]} in the result")
    return problems
