"""Console area: units and their windows, for window managers (their own units only) and the
office (every unit). Printing and revoking: units_print; results and comments: units_results."""

from __future__ import annotations

import math
from datetime import date, datetime

from flask import Blueprint, current_app, redirect, request, url_for

from .. import access, registry, unitstats
from ..extensions import get_redis, get_signing, now
from ..hours import UNIT_HOURS, decompile_hours
from ..rkeys import UnitKeys
from ..timeutil import zone
from . import principal, render, require, whole

bp = Blueprint("console_units", __name__, url_prefix="/console", template_folder="templates")
PAGE = 50


def today() -> date:
    return datetime.fromtimestamp(now(), zone(current_app.config["TIMEZONE"])).date()


def int_arg(name: str, default: int | None = None, source: dict | None = None) -> int | None:
    """A whole number from the query (or a form); anything else reads as the default."""
    value = (source if source is not None else request.args).get(name, "")
    found = whole(value)
    return default if found is None else found


@bp.route("/units")
@require("units.list")
def index():
    account = principal()
    assert account is not None
    r = get_redis()
    scope = access.scope(account)
    ids = unitstats.unit_ids(r) if scope is None else sorted(set(scope))
    units = unitstats.unit_records(r, ids)
    if scope is not None and len(units) == 1:
        return redirect(url_for(".unit", uid=units[0].id))
    q = request.args.get("q", "").strip()
    category = request.args.get("category", "")
    shown = [u for u in units if (not category or u.category == category)
             and (not q or q.lower() in u.id.lower() or q in u.name)]
    pages = max(1, math.ceil(len(shown) / PAGE))
    page = min(max(1, int_arg("page", 1) or 1), pages)
    rows = unitstats.unit_rows(r, shown[(page - 1) * PAGE:page * PAGE], today())
    categories = {c.id: c.name for c in registry.list_categories(r)}
    return render("console/units_index.html", rows=rows, total=len(shown), page=page, pages=pages,
                  q=q, category=category, categories=categories,
                  args={k: v for k, v in (("q", q), ("category", category)) if v})


@bp.route("/units/<uid>")
@require("unit.read", unit_arg="uid")
def unit(uid: str):
    r = get_redis()
    found = registry.get_unit(r, uid)
    windows = registry.list_windows(r, uid)
    taps = unitstats.taps_today(r, uid, today())
    category = next((c.name for c in registry.list_categories(r) if c.id == found.category), found.category)
    kiosks = {w.id: f"/K/{get_signing().kiosk_code(w.id, w.epoch)}" for w in windows}  # README "Kiosks"
    default = decompile_hours(r.hget(UnitKeys(uid).hours, UNIT_HOURS))  # the import's hours column
    return render("console/units_unit.html", unit=found, windows=windows, taps=taps, category=category,
                  kiosks=kiosks,
                  hours_text=unitstats.hours_text, unit_hours=default, notice=notice())


NOTICES = {"revoked": "已作废旧二维码并生成新二维码。旧海报已立即失效，请打印并张贴新海报。"}


def notice() -> str | None:
    return NOTICES.get(request.args.get("done", ""))


from . import units_print, units_results  # noqa: E402,F401  (their routes on bp)
