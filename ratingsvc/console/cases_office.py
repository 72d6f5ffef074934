"""The office's view of every unit's cases: the rates of a period per unit and per category
(cases.rates, the API's definitions), units with overdue cases first and the overdue cases
themselves, and the rates table as the API's CSV. A case belongs to the period of its tap's day."""

from __future__ import annotations

import math
from collections import Counter

from flask import current_app, request

from .. import access, periods, registry, unitstats
from ..cases import appeals as appeal_store
from ..cases import rates
from ..cases import store as case_store
from ..extensions import get_redis
from ..views.cases import rates_rows
from ..views.scores import csv_response
from ..views.sheet import xlsx_response
from . import error_page, principal, render, require, whole
from .cases import bp, names, now_ms, window_names
from .scores import default_period

UNITS_PAGE = 100  # units a page of the rates table
OVERDUE_LISTED = 100  # overdue cases listed (the longest overdue first); all are counted
PERCENT = {"reply_rate", "rectify_rate", "satisfaction_rate"}


def shown(field: str, value: object) -> str:
    """A rate as a percentage, a median in days, a count; — where there is nothing."""
    if value is None:
        return "—"
    if field in PERCENT:
        return f"{float(value) * 100:.1f}%"  # type: ignore[arg-type]
    return str(value)


def chosen_period(r) -> periods.Period | None:
    pid = request.args.get("period", "").strip()
    return periods.get_period(r, pid) if pid else default_period(r)


def table(r, units: list[str], period: periods.Period, at: int,
          records: list[registry.Unit] | None = None) -> tuple[dict, dict]:
    """(unit -> its rates, category -> its rates) of the period's cases, as the API's table."""
    found = rates.table(r, period, units, current_app.config["TIMEZONE"], at,
                        current_app.extensions["ratingsvc.cases_cache"], records)
    return {u["unit"]: u for u in found["units"]}, found["categories"]


def overview():
    """Every unit's cases (the office: cases.read without a scope)."""
    r, at = get_redis(), now_ms()
    units = registry.list_units(r)
    ids = [u.id for u in units]
    late = Counter(case_store.overdue_by_unit(r, ids, at))
    period = chosen_period(r)
    per_unit, per_category = table(r, ids, period, at, units) if period else ({}, {})
    active = [u for u in units if late[u.id] or per_unit.get(u.id, {}).get("bad")
              or per_unit.get(u.id, {}).get("appeals")]
    active.sort(key=lambda u: (-late[u.id], -per_unit.get(u.id, {}).get("bad", 0), u.id))
    pages = max(1, math.ceil(len(active) / UNITS_PAGE))
    page = min(whole(request.args.get("page", "1")) or 1, pages)
    shown_units = active[(page - 1) * UNITS_PAGE:page * UNITS_PAGE]
    listed = case_store.longest_overdue(r, ids, at, OVERDUE_LISTED)
    pending = appeal_store.pending_count(r, ids)
    return render("console/cases_office.html", title="差评工单", period=period,
                  periods=list(reversed(periods.list_periods(r))), units=shown_units, unit_names={
                      u.id: u.name for u in units}, quiet=len(units) - len(active), late=late,
                  per_unit=per_unit, per_category=per_category, fields=rates.FIELDS, field_names=rates.NAMES,
                  shown=shown, overdue=listed, overdue_total=sum(late.values()), windows=window_names(
                      sorted({c.unit for c in listed})), now_ms=at, pending=pending,
                  category_names={c.id: c.name for c in registry.list_categories(r)}, page=page, pages=pages,
                  listed_units=len(active), **names())


@bp.route("/cases/rates.csv")
@require("cases.read")
def rates_csv():
    """The period's rates of every unit the account may read, as the API's CSV (case-rates)."""
    return rates_download(lambda rows, pid: csv_response(rows, f"case-rates-{pid}.csv"))


@bp.route("/cases/rates.xlsx")
@require("cases.read")
def rates_xlsx():
    """The same rows as an .xlsx workbook with Chinese headings (the API's format=xlsx)."""
    return rates_download(lambda rows, pid: xlsx_response(rows, f"case-rates-{pid}.xlsx", "差评工单指标"))


def rates_download(write):
    r = get_redis()
    account = principal()
    assert account is not None
    scope = access.scope(account)
    period = chosen_period(r)
    if period is None:
        return error_page(404, "no_period", "还没有评议期。")
    units = sorted(scope) if scope is not None else unitstats.unit_ids(r)
    found = rates.table(r, period, units, current_app.config["TIMEZONE"], now_ms(),
                        current_app.extensions["ratingsvc.cases_cache"])
    return write(rates_rows(found), period.id)
