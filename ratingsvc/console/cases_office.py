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


def scope_and_period(r) -> tuple[list[str] | None, periods.Period | None]:
    """(the units the account may read, None: all; the period the query names, else the default)."""
    account = principal()
    assert account is not None
    scope = access.scope(account)
    return (sorted(scope) if scope is not None else None), chosen_period(r)


def rates_download(write):
    r = get_redis()
    scope, period = scope_and_period(r)
    if period is None:
        return error_page(404, "no_period", "还没有评议期。")
    units = scope if scope is not None else unitstats.unit_ids(r)
    found = rates.table(r, period, units, current_app.config["TIMEZONE"], now_ms(),
                        current_app.extensions["ratingsvc.cases_cache"])
    return write(rates_rows(found), period.id)


# The list of cases, to download ------------------------------------------------------------
CASES_MAX = 50_000  # rows of one download
CASE_HEADINGS = ["工单编号", "单位编号", "单位名称", "窗口编号", "窗口名称", "评价等级", "评价时间", "状态",
                 "核实期限", "整改答复期限", "核实时间", "答复时间", "办结时间", "是否超期",
                 "评价人选择的问题", "评价人意见（已脱敏）", "核实情况", "问题原因", "整改措施",
                 "给群众的答复", "回访评价", "撤销原因", "申诉"]


def case_rows(cases: list[case_store.Case], units: dict[str, str], windows: dict[int, str],
              at: int) -> list[list]:
    from . import local_time
    from .units_results import LEVEL_NAMES, TAG_NAMES

    rows: list[list] = [list(CASE_HEADINGS)]
    for c in cases[:CASES_MAX]:
        rows.append([c.rating_id, c.unit, units.get(c.unit, ""), c.window, windows.get(c.window, ""),
                     LEVEL_NAMES.get(c.level, c.level), local_time(c.tapped_ms),
                     case_store.STATE_NAMES[c.state_at(at)],
                     local_time(c.verify_due), local_time(c.rectify_due), local_time(c.verified_ms),
                     local_time(c.replied_ms), local_time(c.closed_at()), "是" if c.overdue(at) else "否",
                     "、".join(TAG_NAMES.get(t, t) for t in c.tags), c.comment, c.note, c.cause, c.act,
                     c.reply,
                     case_store.FOLLOWUPS.get(c.followup, "") if c.followup else "",
                     case_store.VOID_WHY.get(c.why, c.why), appeal_store.STATE_NAMES.get(c.appeal, c.appeal)])
    return rows


def cases_download(fmt: str):
    """The cases of the period's taps (state filter as the inbox's, default all) of every unit
    the account may read: a manager's units, the office's all."""
    from datetime import datetime, time, timedelta

    from ..timeutil import zone
    from .cases import FILTERS, chosen

    r = get_redis()
    scope, period = scope_and_period(r)
    if period is None:
        return error_page(404, "no_period", "还没有评议期。")
    tz = zone(current_app.config["TIMEZONE"])
    since = int(datetime.combine(period.start, time(), tz).timestamp() * 1000)
    until = int(datetime.combine(period.end + timedelta(days=1), time(), tz).timestamp() * 1000)
    records = unitstats.unit_records(r, scope) if scope is not None else registry.list_units(r)
    at = now_ms()
    state = request.args.get("state", "all")
    found = case_store.of_units(r, [u.id for u in records], since_ms=since, until_ms=until)
    cases = sorted(chosen(found, state if state in FILTERS else "all", at),
                   key=lambda c: (c.unit, c.tapped_ms))
    names_ = {u.id: u.name for u in records}
    rows = case_rows(cases, names_, window_names(sorted({c.unit for c in cases})), at)
    name = f"cases-{period.id}.{fmt}"
    return xlsx_response(rows, name, "差评工单") if fmt == "xlsx" else csv_response(rows, name)


@bp.route("/cases/list.csv")
@require("cases.read")
def cases_csv():
    return cases_download("csv")


@bp.route("/cases/list.xlsx")
@require("cases.read")
def cases_xlsx():
    """Every case of the period (of the account's units), a row each, as an .xlsx workbook."""
    return cases_download("xlsx")
