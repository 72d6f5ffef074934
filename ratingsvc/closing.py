"""Closing a period: a JSON Lines export of its taps with a SHA-256 chain, and the frozen
result computed from that export, so that anyone holding both can check one against the other.

Each line is one tap of the period: its time, unit, window, level, final status (counted,
held, rejected or duplicate; a released tap is counted), the hashed rater, its log id, and
``chain``: SHA-256 of the previous line's chain and this line without it. A line with
``"kind": "change"`` is a rater changing the level of their tap ``of`` (an earlier line) from
``from`` to ``to`` shortly after it: the tap counts at its last level. A line with
``"kind": "case"`` is a step of the case of tap ``of`` (a 差评), one with ``"kind": "appeal"``
an appeal of tap ``of`` or its decision (ratingsvc.cases.replay); an upheld appeal leaves the
tap out ("excluded"). A tap that came another way than the window's poster names its
``channel`` (visit, kiosk, sms). A line with ``"kind": "volume"`` sets a window's services
done (``services``) on a ``day`` (a later one for the same window and day replaces it).
The first chain value starts from SHA-256 of "ratingsvc/<period id>"; the last is the
export's digest.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import redis

from . import channels, registry, rkeys, scoring
from .cases import rates, replay
from .periods import Period
from .rkeys import UnitKeys
from .timeutil import day_key, iso_time

CHUNK = 10_000
TALLIED = ("kind", "unit", "id", "level", "status", "rater", "of", "from", "to", "channel", "window", "day",
           "services")  # what verify keeps


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


def unit_taps(r: redis.Redis, unit: str, first: str, last: str, tz: str) -> list[dict]:
    """The unit's taps on days first..last (YYYYMMDD), with their final status, and the
    changes of their levels by their raters, in log order; times as iso_time in zone tz."""
    taps, final = [], {}
    for eid, f in _log(r, unit):
        kind = f.get("k")
        if kind in ("tap", "change", "case", "appeal", "vol") and first <= f["d"] <= last:  # all carry a day
            taps.append((eid, f))
        elif kind == "hold":
            final[f["of"]] = "held"
        elif kind == "review":
            final[f["of"]] = "counted" if f["a"] == "release" else "rejected"
    return [_line(eid, f, unit, final, tz) for eid, f in taps]


def _line(eid: str, f: dict, unit: str, final: dict, tz: str) -> dict:
    time, window = iso_time(int(f["t"]), tz), int(f["w"])
    if f["k"] == "vol":
        return {"kind": "volume", "time": time, "unit": unit, "window": window, "day": f["d"],
                "services": int(f["n"]), "id": eid}
    if f["k"] == "change":
        return {"kind": "change", "time": time, "unit": unit, "window": window, "of": f["of"],
                "from": int(f["from"]), "to": int(f["to"]), "rater": f["r"], "id": eid}
    if f["k"] == "case":
        return {"kind": "case", "time": time, "unit": unit, "window": window, "of": f["of"],
                "action": f["a"], "from": f["from"], "to": f["to"], "by": f["by"], "level": int(f["l"]),
                "id": eid, **replay.line_fields(f, tz)}
    if f["k"] == "appeal":
        return {"kind": "appeal", "time": time, "unit": unit, "window": window, "of": f["of"],
                "action": f["a"], "by": f["by"], "level": int(f["l"]), "id": eid, **replay.line_fields(f, tz)}
    channel = f.get("ch", "p")  # a poster's tap says none (as every tap before channels)
    return {"time": time, "unit": unit, "window": window, "level": int(f["l"]),
            "status": final.get(eid, f["s"]), "rater": f["r"], "id": eid,
            **({} if channel == "p" else {"channel": channels.BY_CODE[channel]})}


def is_tap(line: dict) -> bool:
    """A line of a tap (not of a change of its level, a case step or an appeal)."""
    return "kind" not in line


def line_body(tap: dict) -> str:
    return json.dumps(tap, ensure_ascii=False, sort_keys=True)


def export_lines(r: redis.Redis, period: Period, tz: str,
                 on_unit: Callable[[int, int], None] | None = None) -> Iterator[tuple[dict, str, str]]:
    """The export, unit by unit: each tap, its line (with the chain value), the chain value.
    on_unit(units done, units) after each unit."""
    chain = chain_start(period.id)
    first, last = day_key(period.start), day_key(period.end)
    units = sorted(r.smembers(rkeys.UNITS))
    for done, unit in enumerate(units, 1):
        for tap in unit_taps(r, unit, first, last, tz):
            chain = chained(chain, line_body(tap))
            yield tap, line_body({**tap, "chain": chain}), chain
        if on_unit is not None:
            on_unit(done, len(units))


def _misfit(change: dict, tap: dict | None) -> str | None:
    """Why a change line cannot be applied to the tap it names, if it cannot."""
    if tap is None:
        return f"names {change['of']}, which is no tap before it"
    if tap["status"] == "duplicate":
        return f"changes {change['of']}, a duplicate"
    if change.get("rater") != tap.get("rater"):
        return f"is by another rater than tap {change['of']}"
    if change["from"] != tap["level"]:
        return f"changes {change['of']} from {change['from']}, but its level is {tap['level']}"
    return None


def tally(lines: Iterable[dict], problems: list[str] | None = None) -> dict[str, dict]:
    """unit -> {"counts": [c1..c5], "pending": n, "rejected": n, "excluded": n} from export
    lines (status held: still awaiting review, so pending), each tap at its level after its
    changes; a counted tap whose appeal was upheld is excluded. A change that does not fit its
    tap is not applied, and said in problems. Lines come unit by unit: one unit's taps are held
    at a time."""
    out: dict[str, dict] = defaultdict(
        lambda: {"counts": [0] * 5, "pending": 0, "rejected": 0, "excluded": 0, "volume": 0,
                 "channels": [0] * 6 * len(channels.OTHERS)})
    unit: str | None = None
    taps: dict[str, dict] = {}  # the current unit's taps by id, at their level now
    volumes: dict[tuple[int, str], int] = {}  # the current unit's services per window and day

    def count() -> None:
        for tap in taps.values():
            other = channels.OTHERS.index(tap["channel"]) * 6 if tap.get("channel") else None
            mine = out[tap["unit"]]
            if tap["status"] == "counted":
                mine["counts"][tap["level"] - 1] += 1
                if other is not None:
                    mine["channels"][other + tap["level"] - 1] += 1
            elif tap["status"] == "held":
                mine["pending"] += 1
                if other is not None:
                    mine["channels"][other + 5] += 1
            elif tap["status"] == "rejected":
                out[tap["unit"]]["rejected"] += 1
            elif tap["status"] == "excluded":
                out[tap["unit"]]["excluded"] += 1

    for number, line in enumerate(lines, 1):
        if line["unit"] != unit:
            count()
            unit, taps, volumes = line["unit"], {}, {}
        kind = line.get("kind")
        if kind == "case":
            continue
        if kind == "volume":  # a later line for a window's day replaces an earlier one
            key = (line["window"], line["day"])
            out[line["unit"]]["volume"] += line["services"] - volumes.get(key, 0)
            volumes[key] = line["services"]
            continue
        if kind == "appeal":
            tap = taps.get(line["of"])
            if line["action"] == "uphold" and tap is not None and tap["status"] == "counted":
                tap["status"] = "excluded"
            continue
        if kind != "change":
            taps[line["id"]] = dict(line)
            continue
        misfit = _misfit(line, taps.get(line["of"]))
        if misfit is None:
            taps[line["of"]]["level"] = line["to"]
        elif problems is not None:
            problems.append(f"line {number} (unit {unit}): the change {misfit}")
    count()
    return out


def result_from(tallies: dict[str, dict], units: dict[str, tuple[str, str]], *,
                prior_weight: float, min_n: int, cases: dict | None = None) -> dict:
    """The score table and category means from tallies; units: id -> (name, category);
    cases: case_rates() of the export, if it has them."""
    none = {"counts": [0] * 5, "pending": 0, "rejected": 0, "excluded": 0}
    counts = [scoring.UnitCounts(uid, name, cat, t["counts"], pending=t["pending"], rejected=t["rejected"],
                                 volume=t.get("volume", 0), channels=t.get("channels") if any(
                                     t.get("channels") or ()) else None)  # as period.lua's
              for uid, (name, cat) in sorted(units.items()) for t in [tallies.get(uid, none)]]
    scores = scoring.score_units(counts, prior_weight=prior_weight, min_n=min_n)
    return {
        "categories": {c: {"mean": m, "n": n} for c, (m, n) in scoring.category_means(counts).items()},
        "units": [{"unit": s.unit, "name": s.name, "category": s.category, "counts": s.counts,
                   "n": s.n, "pending": s.pending, "rejected": s.rejected, "raw": s.raw, "score": s.score,
                   "ci95": s.ci95 and list(s.ci95),
                   "good_rate": s.good_rate, "status": s.status, "rank": s.rank,
                   "excluded": tallies.get(s.unit, none).get("excluded", 0),
                   "stats": channels.stats(list(s.counts.values()), s.volume),
                   "channels": channels.breakdown(list(s.counts.values()), s.pending, s.volume, s.channels),
                   **({"cases": cases["units"].get(s.unit)} if cases else {})} for s in scores],
        **({"case_categories": cases["categories"]} if cases else {})}


def case_rates(lines: Iterable, units: dict[str, tuple[str, str]], period_id: str, now_ms: int,
               problems: list[str] | None = None, check_taps: bool = False) -> dict:
    """{"units": unit -> its case rates, "categories": category -> theirs}, from the export's
    case and appeal lines (ratingsvc.cases.replay) as of now_ms; check_taps: the lines hold
    the taps too, and each case must open on one before it."""
    cases, appealed = replay.replay(lines, problems, check_taps)
    return {"units": rates.by_unit(cases, appealed, now_ms, "", "99999999", list(units)),
            "categories": rates.by_category(cases, appealed, now_ms, "", "99999999",
                                            {u: cat for u, (_, cat) in units.items()})}


def close(r: redis.Redis, period: Period, path: str, *, prior_weight: float, min_n: int,
          now: float, tz: str, progress: Callable[[int, int, int], None] | None = None) -> dict:
    """Write the export to path, compute the frozen result from it, store both facts. Times
    in zone tz (iso_time), days as ISO dates. progress(units done, units, taps written) after
    each unit."""
    written: dict = {"lines": 0, "digest": chain_start(period.id)}

    def unit_done(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, written["lines"])

    steps: list[dict] = []  # case and appeal lines, for the case rates

    def taps() -> Iterator[dict]:
        with open(path, "w", encoding="utf-8") as out:
            for tap, line, chain in export_lines(r, period, tz, unit_done):
                out.write(line + "\n")
                written["lines"] += is_tap(tap)
                written["digest"] = chain
                if tap.get("kind") in ("case", "appeal"):
                    steps.append(tap)
                yield tap

    tallies = tally(taps())
    units = {u.id: (u.name, u.category) for u in registry.list_units(r) if u.active}
    cases = case_rates(steps, units, period.id, int(now) * 1000)  # to the second, as closed_at
    result = {"period": period.id, "start": period.start.isoformat(), "end": period.end.isoformat(),
              "closed_at": iso_time(now * 1000, tz),
              "taps": written["lines"], "digest": written["digest"], "prior_weight": prior_weight,
              "min_n": min_n,
              **result_from(tallies, units, prior_weight=prior_weight, min_n=min_n, cases=cases)}
    if not r.hsetnx(rkeys.CLOSED, period.id, json.dumps(result, ensure_ascii=False)):
        raise registry.RegistryError("closed period", period.id, "existing")
    return result


def result_text(result: dict) -> str:
    """A result as its file holds it (<id>.result.json, what `ratingsvc verify` reads)."""
    return json.dumps(result, ensure_ascii=False, indent=1)


def stored_result(r: redis.Redis, period_id: str) -> dict | None:
    raw = r.hget(rkeys.CLOSED, period_id)
    return json.loads(raw) if raw else None


def note_progress(r: redis.Redis, period_id: str, done: int, total: int, taps: int) -> None:
    """Where a close is (for the console's progress line): a key that lapses after an hour."""
    r.set(rkeys.closing_progress(period_id), json.dumps({"units_done": done, "units": total, "taps": taps}),
          ex=3600)


def progress_of(r: redis.Redis, period_id: str) -> dict | None:
    """How far the close of this period has come, if one ran within the hour."""
    raw = r.get(rkeys.closing_progress(period_id))
    return json.loads(raw) if raw else None


def closed_ids(r: redis.Redis) -> set[str]:
    """The ids of the periods that are closed (without reading their results)."""
    return set(r.hkeys(rkeys.CLOSED))


def _level(value: object) -> int:
    """A level of an export line: an int 1-5, else ValueError (not a line of an export)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValueError(f"level {value!r}")
    return value


def _entry(line: dict) -> dict:
    """What verify keeps of an export line; ValueError (or KeyError, TypeError) if it is not
    one of an export."""
    kind = line.get("kind")
    if kind in ("case", "appeal"):
        entry = dict(line)
        for name in ("unit", "id", "of", "action", "by"):
            entry[name] = str(line[name])
        entry["window"] = int(line["window"])
        replay.ms(str(line["time"]))
        entry["level"] = _level(line["level"])
        return entry
    entry = {k: line[k] for k in TALLIED if k in line}
    entry["unit"], entry["id"] = str(line["unit"]), str(line["id"])
    if kind == "volume":
        entry["window"], entry["day"] = int(line["window"]), str(line["day"])
        entry["services"] = int(line["services"])
        if entry["services"] < 0:
            raise ValueError("services")
        return entry
    if line.get("channel") is not None and line["channel"] not in channels.OTHERS:
        raise ValueError("channel")
    for name in ("from", "to") if kind == "change" else ("level",):
        entry[name] = _level(line[name])
    if kind != "change":
        entry["status"] = str(line["status"])
    return entry


def verify(lines: Iterable[str], result: dict) -> list[str]:
    """Problems found checking an export against its published result ([] if none)."""
    problems: list[str] = []
    chain, taps = chain_start(result["period"]), []
    for number, line in enumerate(lines, 1):
        try:
            tap = json.loads(line)
            stored = tap.pop("chain", "")
            entry = _entry(tap)
        except (ValueError, KeyError, TypeError, AttributeError):
            problems.append(f"line {number}: not a tap of an export: {line[:60]!r}")
            continue
        if chained(chain, line_body(tap)) != stored:
            problems.append(f"line {number} (unit {tap.get('unit')}): the chain breaks here, so "
                            "this line was changed (or removed, or one was put before it)")
        chain = stored  # go on from the stored value, so each changed line shows by itself
        taps.append(entry)
    if chain != result["digest"]:
        problems.append(f"digest: the export ends at {chain[:16]}…, the result says "
                        f"{result['digest'][:16]}…")
    tapped = sum(is_tap(tap) for tap in taps)
    if tapped != result["taps"]:
        problems.append(f"taps: {tapped} in the export, {result['taps']} in the result")
    units = {u["unit"]: (u["name"], u["category"]) for u in result["units"]}
    cases = None
    if "case_categories" in result:  # a result from before cases has none to check
        closed_ms = int(datetime.fromisoformat(result["closed_at"]).timestamp() * 1000)
        cases = case_rates(enumerate(taps, 1), units, result["period"], closed_ms, problems, check_taps=True)
    again = result_from(tally(taps, problems), units, prior_weight=result["prior_weight"],
                        min_n=result["min_n"], cases=cases)
    published = {u["unit"]: u for u in result["units"]}
    for u in again["units"]:
        p = published[u["unit"]]
        for field in ("counts", "n", "pending", "rejected", "excluded", "cases", "score", "rank", "stats",
                      "channels"):
            if field in p and u[field] != p[field]:  # a result from before: "held", unchecked
                problems.append(f"unit {u['unit']}: {field} is {u[field]} from the export, "
                                f"{p[field]} in the result")
    return problems
