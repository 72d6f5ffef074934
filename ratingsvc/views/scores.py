"""Scoring: each unit's counts and 10-point mobile score for a period, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import time

import orjson
from flask import Response, current_app
from redis import Redis

from .. import catunits, channels, feed, periods, registry, rkeys, scoring
from ..auth import check_unit, require
from ..cases import rates
from ..extensions import ApiBlueprint, get_redis, now
from ..followed import Follow
from ..limiting import per_key_limit
from ..rkeys import UnitKeys
from ..schemas import BINARY, TEXT, ScoresQuerySchema, ScoresSchema, UnitScoreQuerySchema, UnitScoreSchema
from ..store import no_gc, read_many, servers
from ..timeutil import day_after, day_key

blp = ApiBlueprint("scores", __name__, url_prefix="/api/v1", description="The scoring service")
per_key_limit(blp)

CSV_COLUMNS = ["unit", "name", "category", "n", "pending", "rejected", "level_1", "level_2", "level_3",
               "level_4", "level_5", "raw", "score", "ci95_low", "ci95_high", "good_rate", "status", "rank",
               "excluded", *(f"cases_{f}" for f in rates.FIELDS),
               "volume", "bad_rate", "participation", "unrated", *(f"channel_{c}" for c in channels.CHANNELS)]


NO_INTERVAL = (None, None)  # CSV cells of a unit without ratings: empty


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def unit_out(s: scoring.UnitScore) -> dict:
    raw, good, ci = s.raw, s.good_rate, s.ci95  # rounded inline: this runs once per unit of the table
    levels = list(s.counts.values())
    return {"unit": s.unit, "name": s.name, "category": s.category, "counts": s.counts, "n": s.n,
            "pending": s.pending, "rejected": s.rejected, "raw": None if raw is None else round(raw, 4),
            "score": None if s.score is None else round(s.score, 4),
            "ci95": None if ci is None else [round(ci[0], 4), round(ci[1], 4)],
            "good_rate": None if good is None else round(good, 4), "status": s.status, "rank": s.rank,
            "stats": channels.stats(levels, s.volume),
            "channels": channels.breakdown(levels, s.pending, s.volume, s.channels)}


def before_rejected(row: dict) -> dict:
    """A unit of a result closed before pending and rejected taps were told apart: its "held"
    was both, so it is shown as pending, and rejected as unknown (None)."""
    if "held" not in row:
        return row
    return {**{k: v for k, v in row.items() if k != "held"}, "pending": row["held"], "rejected": None}


def frozen(result: dict, categories: list[str] | None) -> dict:
    """A closed period's stored result (of these categories, if given), shaped as a live one
    (one closed before cases: their fields null)."""
    rows = [before_rejected(r) for r in result["units"] if categories is None or r["category"] in categories]
    case_cats = result.get("case_categories", {})
    return {
        "period": result["period"], "prior_weight": result["prior_weight"],
        "min_n": result["min_n"], "frozen": True, "digest": result["digest"],
        "categories": {c: {"mean": round(v["mean"], 4), "n": v["n"], "cases": case_cats.get(c)}
                       for c, v in result["categories"].items() if categories is None or c in categories},
        "units": [{**row, "raw": _round(row["raw"]), "score": _round(row["score"]),
                   "excluded": row.get("excluded"), "cases": row.get("cases"),
                   "ci95": row["ci95"] and [_round(x) for x in row["ci95"]],
                   "good_rate": _round(row["good_rate"])} for row in rows],
    }


def compute(period: periods.Period, category: str | None = None, cases: bool = True,
            unit: str | None = None, categories: list[str] | None = None) -> dict:
    """Scores of every active unit (of one category, or of the categories listed, if given:
    only their units are read) for a period; a closed period's come from its stored result.
    cases=False: without the live case rates (null), for pages that do not show them. unit (of
    that category): its row alone, as the table has it, with only its cases read (the
    categories' case rates then null)."""
    with no_gc():
        return _compute(period, [category] if category is not None else categories, cases, unit)


TABLES_KEPT = 5_000  # categories x periods whose scored rows are kept (CountsCache.tables)


def _compute(period: periods.Period, categories: list[str] | None, with_cases: bool = True,
             unit: str | None = None) -> dict:
    r, config = get_redis(), current_app.config
    with r.pipeline(transaction=False) as p:  # one round trip: closed?, and the units
        p.hget(registry.rkeys.CLOSED, period.id)
        if categories is None:
            p.smembers(registry.rkeys.UNITS)
        else:
            for category in categories:
                catunits.queue(p, category)
        stored, *units = p.execute()
    if stored is not None:
        done = frozen(json.loads(stored), categories)
        return {**done, "period": period, "units": [u for u in done["units"] if unit in (None, u["unit"])]}
    cache = current_app.extensions["ratingsvc.counts_cache"]
    if categories is None:
        counts = [c for c in scoring.period_counts(r, sorted(units[0]), period.start, period.end, cache)
                  if c.active]
    else:  # only the categories' units (and any that left them: their records tell)
        wanted = set(categories)
        counts = [c for c in scoring.period_counts(r, catunits.members_of(r, categories, units), period.start,
                                                   period.end, cache)
                  if c.active and c.category in wanted]
    means, rows = scored(counts, period, cache, config["SCORE_PRIOR_WEIGHT"], config["SCORE_MIN_N"])
    per_unit: dict[str, dict | None] = {}
    per_cat: dict[str, dict] = {}
    out: dict[str, int] = {}
    if with_cases:
        cased = [c for c in counts if unit in (None, c.unit)]
        known = ({c.unit: c.case_version for c in cased}, cache.server)
        found, per_cat, out = rates.summary(r, [c.unit for c in cased], {c.unit: c.category for c in cased},
                                            period, config["TIMEZONE"], int(now() * 1000),
                                            current_app.extensions["ratingsvc.cases_cache"], known)
        per_unit.update(found)
    return {
        "period": period,
        "prior_weight": config["SCORE_PRIOR_WEIGHT"],
        "min_n": config["SCORE_MIN_N"],
        "categories": {c: {"mean": round(m, 4), "n": n, "cases": None if unit else per_cat.get(c)}
                       for c, (m, n) in means.items()},
        "units": [{**row, "excluded": out.get(row["unit"], 0) if with_cases else None,
                   "cases": per_unit.get(row["unit"])} for row in rows if unit in (None, row["unit"])],
    }


def rows_of(period: periods.Period, units: list[str]) -> dict[str, dict]:
    """unit -> its row as compute(period) has it (counts, score, rank, cases), for these units
    only: ranked in their categories, but only they are scored into rows and only their cases
    read. A unit that is not scored (inactive, unknown) has no row.

    The categories' units are kept and follow the change stream (ratingsvc.followed): a page
    reads again only the units with changes since the last page. Every unit's version is read
    again (state.lua) when the registry changed, the servers did, more than FOLLOW_MAX changes
    came since, or FEED_SWEEP_SECONDS passed (the latest a change whose mark was lost is in the
    stream); a category not kept yet is read so."""
    with no_gc():
        return _rows_of(period, sorted(set(units)))


FOLLOW_MAX = 5_000  # changes since the last page that rows_of follows one by one


def _rows_of(period: periods.Period, ids: list[str]) -> dict[str, dict]:
    r, config = get_redis(), current_app.config
    cache: scoring.CountsCache = current_app.extensions["ratingsvc.counts_cache"]
    span = (day_key(period.start), day_after(period.end))
    follow = cache.follow.get(span)
    asked = [("INFO", "server"), ("HGET", rkeys.CLOSED, period.id), ("GET", rkeys.REGISTRY_VERSION),
             ("XREVRANGE", feed.CHANGES, "+", "-", "COUNT", 1)]
    if follow is not None:
        asked.append(("XRANGE", feed.CHANGES, f"({follow.position}", "+", "COUNT", FOLLOW_MAX))
    replies = read_many(r, [*asked, *(("HGET", UnitKeys(uid).info, "category") for uid in ids)])
    info, stored, version, end = replies[:4]
    since: list = replies[4] if follow is not None else []
    of = dict(zip(ids, replies[len(asked):], strict=True))
    categories = sorted({c for c in of.values() if c})
    if stored is not None:
        done = frozen(json.loads(stored), categories)["units"]
        return {row["unit"]: row for row in done if row["unit"] in of}
    if not categories:
        return {}
    if not (follow is not None and follow.server == servers(info) and follow.registry == version
            and len(since) < FOLLOW_MAX and time.monotonic() - follow.at <= config["FEED_SWEEP_SECONDS"]
            and all(follow.where.get(uid, cat) == cat for uid, cat in of.items())
            and _followed(r, period, follow, since)):
        follow = Follow(end[0][0] if end else "0-0", version, "", time.monotonic())
        follow.add(_exactly(r, period, categories, cache))
        follow.server = cache.server  # read with the versions (which may have started the cache afresh)
        cache.follow[span] = follow
    else:
        missing = [c for c in categories if c not in follow.categories]
        if missing:
            follow.add(_exactly(r, period, missing, cache))
    return _rows(period, follow, list(of))


def _followed(r: Redis, period: periods.Period, follow: Follow, since: list) -> bool:
    """The kept units with changes in since read again (period.lua), the position moved past
    them; False if one is no longer where it was kept."""
    moved = sorted({feed.pairs(fields)["u"] for _, fields in since} & follow.where.keys())
    if moved and not follow.moved(scoring.period_counts(r, moved, period.start, period.end)):
        return False
    if since:
        follow.position = since[-1][0]
    return True


def _exactly(r: Redis, period: periods.Period, categories: list[str],
             cache: scoring.CountsCache) -> dict[str, list[scoring.UnitCounts]]:
    """category -> its active units' counts, every unit's version read (period_counts)."""
    with r.pipeline(transaction=False) as p:
        for category in categories:
            catunits.queue(p, category)
        replies = p.execute()
    cats = set(categories)
    by_category: dict[str, list[scoring.UnitCounts]] = {c: [] for c in categories}
    for c in scoring.period_counts(r, catunits.members_of(r, categories, replies), period.start, period.end,
                                   cache):
        if c.active and c.category in cats:
            by_category[c.category].append(c)
    return by_category


def _rows(period: periods.Period, follow: Follow, ids: list[str]) -> dict[str, dict]:
    """The rows of these units, from the kept categories, with their cases (read now)."""
    config = current_app.config
    prior_weight, min_n = config["SCORE_PRIOR_WEIGHT"], config["SCORE_MIN_N"]
    page = [kept for kept in map(follow.unit, ids) if kept is not None]
    units = [c.unit for c, _ in page]
    per_unit, _, out = rates.summary(get_redis(), units, {c.unit: c.category for c, _ in page}, period,
                                     config["TIMEZONE"], int(now() * 1000),
                                     current_app.extensions["ratingsvc.cases_cache"])
    rows = {}
    for c, ranked in page:
        [s] = scoring.score_units([c], prior_weight=prior_weight, min_n=min_n,
                                  means={c.category: ranked.mean()})
        s.rank = ranked.rank(c, prior_weight, min_n)
        rows[c.unit] = {**unit_out(s), "excluded": out.get(c.unit, 0), "cases": per_unit.get(c.unit)}
    return rows


def scored(counts: list[scoring.UnitCounts], period: periods.Period, cache: scoring.CountsCache,
           prior_weight: float, min_n: int) -> tuple[dict[str, tuple[float, int]], list[dict]]:
    """(category -> (mean, n), the rows of unit_out in the table's order: by category, then
    rank) of these units' counts. A category whose units' counts equal those its rows were last
    scored from keeps those rows (cache.tables): scores and ranks depend on nothing else, so a
    table where little changed scores only where it did."""
    by_category: dict[str, list[scoring.UnitCounts]] = {}
    for c in counts:
        by_category.setdefault(c.category, []).append(c)
    if len(cache.tables) > TABLES_KEPT:
        cache.tables.clear()
    means: dict[str, tuple[float, int]] = {}
    rows: dict[str, list[dict]] = {}
    for category, members in by_category.items():
        key = (period.start, period.end, category, prior_weight, min_n)
        states = members  # the same counts (mostly the very objects: == is fast), or scored anew
        hit = cache.tables.get(key)
        if hit is not None and hit[0] == states:
            means[category], rows[category] = hit[1], hit[2]
            continue
        mean = scoring.category_means(members)
        scores = scoring.score_units(members, prior_weight=prior_weight, min_n=min_n, means=mean)
        scores.sort(key=lambda s: (s.rank is None, s.rank or 0, s.unit))
        means[category], rows[category] = mean[category], [unit_out(s) for s in scores]
        cache.tables[key] = (states, means[category], rows[category])
    return means, [row for category in sorted(rows) for row in rows[category]]


def as_json(result: dict) -> Response:
    """What ScoresSchema dumps (a test holds them equal), written straight by orjson: for
    10,000 units marshmallow's dump took about 250 ms, this takes about 15."""
    p = result["period"]
    doc = {**result, "period": {"id": p.id, "name": p.name, "start": p.start.isoformat(),
                                "end": p.end.isoformat()},
           "prior_weight": float(result["prior_weight"])}
    return Response(orjson.dumps(doc), mimetype="application/json")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(cell):
    """A text cell that a spreadsheet would run as a formula (a unit named
    '=HYPERLINK(...)'), made plain text by a leading apostrophe; numbers stay numbers."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_START) else cell


def csv_response(rows: list[list], name: str) -> Response:
    out = io.StringIO()
    out.write("\ufeff")  # so that spreadsheet programs read the Chinese names as UTF-8
    csv.writer(out).writerows([inert(cell) for cell in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def table_rows(result: dict) -> list[list]:
    """The table as rows of cells, CSV_COLUMNS first (the CSV's and the .xlsx's)."""
    return [CSV_COLUMNS] + [
        [u["unit"], u["name"], u["category"], u["n"], u["pending"], u["rejected"],
         *(u["counts"][str(lvl)] for lvl in range(1, 6)), u["raw"], u["score"],
         *(u["ci95"] or NO_INTERVAL), u["good_rate"], u["status"], u["rank"], u.get("excluded"),
         *((u.get("cases") or {}).get(f) for f in rates.FIELDS), *stat_cells(u)] for u in result["units"]]


def stat_cells(u: dict) -> list:
    """A row's volume, 差评率, 参评率, 未评率 and counted taps per channel (empty: a period
    closed before statistics)."""
    stats, by = u.get("stats"), u.get("channels")
    if stats is None:
        return [None] * (4 + len(channels.CHANNELS))
    if by is None:  # every tap by the poster
        by = {"poster": stats}
    return [stats["volume"], stats["bad_rate"], stats["participation"], stats["unrated"],
            *(by.get(c, {}).get("rated", 0) for c in channels.CHANNELS)]


def pid_of(result: dict) -> str:
    return result["period"] if isinstance(result["period"], str) else result["period"].id


def as_csv(result: dict) -> Response:
    return csv_response(table_rows(result), f"scores-{pid_of(result)}.csv")


SCORES_FORMATS = "JSON; CSV with format=csv; an .xlsx workbook (Chinese headings) with format=xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/scores")
@require("scores.read")
@blp.arguments(ScoresQuerySchema, location="query")
@blp.response(200, ScoresSchema, description=SCORES_FORMATS)
@blp.alt_response(200, schema=TEXT, content_type="text/csv", success=True, description=SCORES_FORMATS)
@blp.alt_response(200, schema=BINARY, content_type=XLSX_TYPE, success=True, description=SCORES_FORMATS)
@blp.error(404, "unknown_period")
def scores(args: dict):
    """Every unit: counts per level, n, raw, shrunk score, interval, good rate, status, rank."""
    period = periods.get_period(get_redis(), args["period"])
    result = compute(period, args.get("category"))
    if args["format"] == "xlsx":
        from .sheet import as_xlsx  # (sheet imports this module)

        return as_xlsx(result)
    return as_csv(result) if args["format"] == "csv" else as_json(result)


@blp.route("/units/<uid>/score")
@require("unit.score")
@blp.arguments(UnitScoreQuerySchema, location="query")
@blp.response(200, UnitScoreSchema)
def unit_score(args: dict, uid: str):
    """One unit, scored and ranked within its category: only that category's units are read."""
    check_unit(uid)
    r = get_redis()
    unit = registry.get_unit(r, uid)
    rows = compute(periods.get_period(r, args["period"]), unit.category, unit=uid)["units"]
    if rows:
        return rows[0]
    raise registry.RegistryError("unit", uid)  # an inactive unit is not scored
