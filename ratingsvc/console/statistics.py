"""Console area: statistics by the national definitions (the API's rows_for), the import of
service volumes (CSV or .xlsx), and the halls whose queue machines make visit tokens."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, redirect, request, url_for

from .. import actions, periods, registry, statistics, visits, volumes
from ..errors import ApiError
from ..extensions import get_redis, get_rules, get_signing, now
from ..tablefile import TableError, read_table
from ..views.statistics import download, rows_for
from . import FormProblem, actor, error_page, render, require, whole
from .scores import default_period

bp = Blueprint("console_statistics", __name__, url_prefix="/console", template_folder="templates")

PAGE = 100  # rows a page
BY = {"category": "按类别", "unit": "按单位", "window": "按窗口"}
MAX_UPLOAD = 8 * 1024 * 1024


def query():
    """(period, by, category, unit, rows, problem) as the page's query asks."""
    r = get_redis()
    a = request.args
    pid = a.get("period", "").strip()
    period = periods.get_period(r, pid) if pid else default_period(r)
    by = a.get("by", "unit") if a.get("by") in BY else "unit"
    category = a.get("category", "").strip() or None
    if period is None:
        return None, by, category, [], None
    try:
        rows = rows_for(period, by, category, None)
    except ApiError as exc:
        return period, by, category, [], exc.message
    return period, by, category, rows, None


@bp.route("/statistics")
@require("scores.read")
def index():
    period, by, category, rows, problem = query()
    r = get_redis()
    lines = [(row, ch, f) for row in rows for ch, f in statistics.figures(row["tally"])]
    pages = max(1, math.ceil(len(lines) / PAGE))
    page = min(max(1, whole(request.args.get("page", "1"), 6) or 1), pages)
    categories = registry.list_categories(r)
    return render("console/statistics_index.html", period=period, by=by, category=category, problem=problem,
                  lines=lines[(page - 1) * PAGE:page * PAGE], total=len(rows), page=page, pages=pages,
                  periods=list(reversed(periods.list_periods(r))), categories=categories,
                  category_names={c.id: c.name for c in categories}, by_names=BY,
                  channel_names=statistics.CHANNEL_NAMES, done=request.args.get("done"),
                  args=_args(period and period.id, by, category))


def _args(period: str | None, by: str, category: str | None) -> dict:
    return {k: v for k, v in {"period": period, "by": by, "category": category}.items() if v}


def _download(fmt: str):
    period, by, _, rows, problem = query()
    if period is None:
        return error_page(404, "no_period", "还没有评议期。")
    if problem:
        return error_page(400, "invalid_query", problem)
    return download(rows, period, by, fmt)


@bp.route("/statistics.xlsx")
@require("scores.read")
def xlsx():
    """The rows of the page's query, a line per row and channel, as an .xlsx workbook."""
    return _download("xlsx")


@bp.route("/statistics.csv")
@require("scores.read")
def csv():
    return _download("csv")


@bp.route("/statistics/volumes", methods=["POST"])
@require("volumes.import")
def import_volumes():
    """Services done per window and day from a CSV or .xlsx file: all rows, or nothing."""
    file = request.files.get("file")
    if file is None or not file.filename:
        raise FormProblem("请选择要导入的办件量文件（CSV 或 .xlsx）。")
    try:
        rows = volumes.from_table(read_table(file.read()))
    except TableError as exc:
        raise FormProblem(f"{file.filename}：{exc} 未导入任何内容。") from None
    try:
        done = actions.import_volumes(get_redis(), actor(), now(), rows, tz=current_app.config["TIMEZONE"],
                                      margin=get_rules().volume_margin)
    except (registry.RegistryError, volumes.Refused) as exc:
        raise FormProblem(f"{file.filename}：{str(exc).split(' (')[0]} 未导入任何内容。") from None
    said = (f"{file.filename[:100]}：{done['rows']} 行，{done['units']} 个单位，{done['days']} 天，"
            f"办件量变化 {done['moved']:+d}"
            + (f"；{done['held']} 条有效评价超过办件量，已转入审核" if done["held"] else ""))
    kept = {k: v for k, v in request.args.items() if k in ("period", "by", "category")}
    return redirect(url_for(".index", **kept, done=said))


import_volumes.max_body = MAX_UPLOAD  # this form only: the app's bodies are small


# Halls -------------------------------------------------------------------------------------
def _windows(text: str) -> list[int]:
    found = [whole(part.strip()) for part in text.replace("，", ",").split(",") if part.strip()]
    if any(w is None for w in found):
        raise FormProblem("窗口编号应为正整数，用逗号分隔，例如 3,4,5。")
    return [w for w in found if w is not None]


def _networks(text: str) -> list[str]:
    try:
        return visits.networks_of(text.replace("，", ",").replace("\n", ",").split(","))
    except ValueError:
        raise FormProblem("大厅网络地址应为 CIDR 格式，用逗号分隔，例如 203.0.113.0/28。") from None


def _minutes(text: str) -> int:
    minutes = whole(text.strip(), 4)
    if minutes is None or not 1 <= minutes <= visits.VALID_MAX:
        raise FormProblem(f"有效时间应为 1 至 {visits.VALID_MAX} 分钟。")
    return minutes


@bp.route("/halls")
@require("halls.read")
def halls():
    return render("console/halls_index.html", halls=visits.list_halls(get_redis()),
                  valid_max=visits.VALID_MAX, done=request.args.get("done"))


def _key_page(hall: visits.Hall, key: str, status: int = 200):
    return render("console/halls_key.html", status, hall=hall, key=key)


@bp.route("/halls", methods=["POST"])
@require("halls.edit")
def create_hall():
    name = request.form.get("name", "").strip()
    if not 1 <= len(name) <= 100:
        raise FormProblem("请填写办事大厅名称（1 至 100 字）。")
    try:
        hall, key = actions.create_hall(get_redis(), get_signing(), actor(), now(), name=name,
                                        windows=_windows(request.form.get("windows", "")),
                                        valid_minutes=_minutes(request.form.get("valid_minutes", "1440")),
                                        networks=_networks(request.form.get("networks", "")))
    except registry.RegistryError as exc:
        raise FormProblem(str(exc).split(" (")[0]) from None
    return _key_page(hall, key, 201)


@bp.route("/halls/<int:hid>", methods=["POST"])
@require("halls.edit")
def update_hall(hid: int):
    try:
        actions.update_hall(get_redis(), actor(), now(), hid,
                            name=request.form.get("name", "").strip() or None,
                            windows=_windows(request.form.get("windows", "")),
                            valid_minutes=_minutes(request.form.get("valid_minutes", "1440")),
                            active=request.form.get("active") == "1",
                            networks=_networks(request.form.get("networks", "")))
    except registry.RegistryError as exc:
        raise FormProblem(str(exc).split(" (")[0]) from None
    return redirect(url_for(".halls", done=hid))


@bp.route("/halls/<int:hid>/key", methods=["POST"])
@require("halls.edit")
def new_hall_key(hid: int):
    try:
        hall, key = actions.new_hall_key(get_redis(), get_signing(), actor(), now(), hid)
    except registry.RegistryError:
        return error_page(404, "unknown_hall", f"没有这个办事大厅：{hid}。")
    return _key_page(hall, key)
