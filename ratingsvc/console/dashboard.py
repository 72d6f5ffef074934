"""Console area: the evaluation office's dashboard. Taps today (ratingsvc.overview, one round
trip), and from the current period's table as the API computes it (views.scores.compute, so
the numbers are the API's): taps this period, held taps waiting for review, units with too few
ratings, and the best and worst of each category so far; cases past their deadline and
appeals waiting for the office."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app

from .. import overview, periods, registry, unitstats, visits
from ..cases import appeals as appeal_store
from ..cases import store as case_store
from ..extensions import get_redis, now
from ..timeutil import day_key, zone
from ..views.scores import compute
from . import render, require

bp = Blueprint("console_dashboard", __name__, url_prefix="/console", template_folder="templates")

TOP = 3  # best and worst units shown per category
FEW_LISTED = 30  # units with too few ratings listed (the fewest first); all are counted


def summarise(result: dict) -> dict:
    """From a score table (compute's): taps counted and pending, the units with too few
    ratings, and per category its best and worst ranked units."""
    units = result["units"]
    few = sorted((u for u in units if u["status"] in ("insufficient", "no_ratings")),
                 key=lambda u: (u["n"], u["category"], u["unit"]))
    by_category: dict[str, list[dict]] = {}
    for u in units:
        if u["rank"] is not None:
            by_category.setdefault(u["category"], []).append(u)
    tops = []
    for category, ranked in sorted(by_category.items()):
        ranked.sort(key=lambda u: (u["rank"], u["unit"]))
        best = ranked[:TOP]
        worst = [u for u in reversed(ranked[-TOP:]) if u not in best]
        tops.append((category, best, worst))
    return {"counted": sum(u["n"] for u in units), "pending": sum(u["pending"] for u in units),
            "scored": len(units), "few": few, "tops": tops}


@bp.route("/dashboard")
@require("dashboard.read")
def index():
    r, tz = get_redis(), current_app.config["TIMEZONE"]
    today = datetime.fromtimestamp(now(), zone(tz)).date()
    period = periods.current_period(r, today)
    summary = summarise(compute(period, cases=False)) if period else None
    names = {c.id: c.name for c in registry.list_categories(r)}
    ids, at = unitstats.unit_ids(r), int(now() * 1000)
    overdue = case_store.overdue_count(r, ids, at)
    appeals = appeal_store.pending_count(r, ids)
    no_hours, no_hours_units = unitstats.without_hours(r, ids)
    # halls whose own network is not registered: the on-site signals are off on their windows
    no_network = [hall for hall in visits.list_halls(r) if hall.active and not hall.networks]
    return render("console/dashboard_index.html", title="工作台", today=today, period=period,
                  day=overview.today(r, day_key(today)), summary=summary, names=names,
                  few_listed=FEW_LISTED, min_n=current_app.config["SCORE_MIN_N"], overdue=overdue,
                  appeals=appeals, no_hours=no_hours, no_hours_units=no_hours_units,
                  no_network=no_network, default_hours=current_app.config["RULE_DEFAULT_HOURS"])
