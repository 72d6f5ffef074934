"""A unit's results for a period (the score as the API computes it, counts per window, a trend)
and what citizens said about it (reasons and comments, masked)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, request

from .. import comments, periods, posters, registry, unitstats
from ..extensions import get_redis
from ..recording import TAGS
from ..timeutil import zone
from ..views.scores import compute, csv_response
from ..views.sheet import xlsx_response
from . import FormProblem, form_day, local_time, render, require
from .units import bp, int_arg, today

LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
TAG_NAMES = dict(zip(TAGS, ("落实重点工作", "服务企业", "依法行政", "联系群众", "履职尽责"), strict=True))
STATUS_NAMES = {"ok": "已达最低样本量", "insufficient": "样本不足", "no_ratings": "暂无评价"}
TAP_STATUS = {"counted": ("计入", "tag-ok"), "held": ("待审核", "tag-warn"),
              "released": ("审核放行", "tag-ok"), "rejected": ("审核剔除", "tag-bad"),
              "duplicate": ("重复", "tag-off")}


def chosen_period() -> periods.Period | None:
    r = get_redis()
    pid = request.args.get("period", "")
    if pid:
        return periods.get_period(r, pid)
    return periods.current_period(r, today()) or posters.period_for(r, today())


def chart(trend: list[tuple[str, unitstats.Counts]]) -> str:
    """The ECharts option: counted taps a bar per day (or week), the mean a line (0-10)."""
    labels = [label[5:] for label, _ in trend]
    option = {
        "animation": False, "color": ["#1a56a8", "#d4380d"], "tooltip": {"trigger": "axis"},
        "legend": {"data": ["计入评价数", "平均分（10分制）"]},
        "grid": {"left": 48, "right": 48, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [{"type": "value", "name": "评价数", "minInterval": 1},
                  {"type": "value", "name": "平均分", "min": 0, "max": 10}],
        "series": [{"name": "计入评价数", "type": "bar", "barMaxWidth": 48, "data": [c.n for _, c in trend]},
                   {"name": "平均分（10分制）", "type": "line", "yAxisIndex": 1, "connectNulls": True,
                    "data": [None if c.raw is None else round(c.raw, 2) for _, c in trend]}]}
    return json.dumps(option, ensure_ascii=False).replace("</", "<\\/")


@bp.route("/units/<uid>/results")
@require("unit.read", unit_arg="uid")
def results(uid: str):
    r = get_redis()
    unit = registry.get_unit(r, uid)
    period = chosen_period()
    by = "week" if request.args.get("by") == "week" else "day"
    context: dict[str, Any] = {"unit": unit, "period": period, "periods": periods.list_periods(r), "by": by,
               "level_names": LEVEL_NAMES, "status_names": STATUS_NAMES}
    if period is None:
        return render("console/units_results.html", **context)
    result = compute(period, unit.category, cases=False)
    rows = result["units"]
    score = next((u for u in rows if u["unit"] == uid), None)
    ranked = sum(1 for u in rows if u["rank"] is not None)
    last = min(period.end, max(period.start, today()))
    days = unitstats.period_days(r, uid, period.start, period.end)
    trend = unitstats.trend(days, period.start, last, by)
    windows = {w.id: w for w in registry.list_windows(r, uid)}
    return render("console/units_results.html", **context, score=score, ranked=ranked,
                  units_in_category=len(rows), frozen=result.get("frozen", False),
                  per_window=sorted(unitstats.per_window(days).items()), windows=windows,
                  trend=trend, chart_json=chart(trend))


def day_ms(value: str, tz: str, after: bool = False) -> int | None:
    day = form_day(value)
    if day is None:
        return None
    d = day + timedelta(days=1 if after else 0)
    return int(datetime(d.year, d.month, d.day, tzinfo=zone(tz)).timestamp() * 1000)


def comment_filter() -> comments.Filter:
    """The comments page's filters (its query), as comments.read takes them."""
    tz = current_app.config["TIMEZONE"]
    a = request.args
    tag = a.get("tag", "")
    if tag and tag not in TAGS:
        raise FormProblem("未知的问题标签。")
    return comments.Filter(window=int_arg("window"), level=int_arg("level"), tag=tag or None,
                           since_ms=day_ms(a.get("from", ""), tz), until_ms=day_ms(a.get("to", ""), tz, True))


@bp.route("/units/<uid>/comments")
@require("comments.read", unit_arg="uid")
def comments_page(uid: str):
    r = get_redis()
    unit = registry.get_unit(r, uid)
    a = request.args
    page = comments.read(r, uid, comment_filter(), before=a.get("before") or None)
    windows = {w.id: w for w in registry.list_windows(r, uid)}
    args = {k: a[k] for k in ("window", "level", "tag", "from", "to") if a.get(k)}
    return render("console/units_comments.html", unit=unit, page=page, windows=windows, args=args,
                  level_names=LEVEL_NAMES, tag_names=TAG_NAMES, tap_status=TAP_STATUS,
                  first=not a.get("before"))


COMMENTS_MAX = 5_000  # comments one download holds (newest first, the page's filters)


@bp.route("/units/<uid>/comments.csv")
@require("comments.read", unit_arg="uid")
def comments_csv(uid: str):
    return csv_response(comment_rows(uid), f"comments-{uid}.csv")


@bp.route("/units/<uid>/comments.xlsx")
@require("comments.read", unit_arg="uid")
def comments_xlsx(uid: str):
    return xlsx_response(comment_rows(uid), f"comments-{uid}.xlsx", "群众意见")


def comment_rows(uid: str) -> list[list]:
    """The unit's comments the page's filters keep (COMMENTS_MAX at most, newest first), as the
    page shows them: masked, nothing of the rater."""
    r = get_redis()
    registry.get_unit(r, uid)
    page = comments.read(r, uid, comment_filter(), limit=COMMENTS_MAX)
    windows = {w.id: w.name for w in registry.list_windows(r, uid)}
    rows: list[list] = [["时间", "窗口", "评价", "问题标签", "意见内容", "状态"]]
    for c in page.comments:
        rows.append([local_time(c.time_ms), windows.get(c.window, f"窗口 {c.window}"),
                     LEVEL_NAMES.get(c.level, str(c.level)), "、".join(TAG_NAMES.get(t, t) for t in c.tags),
                     c.text, TAP_STATUS.get(c.status, (c.status, ""))[0]])
    return rows
