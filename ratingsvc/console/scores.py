"""Console area: the score table of a period (the API's compute()), sorted and filtered on the
server, a page of PAGE units at a time, and downloaded as CSV or .xlsx (the API's rows)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, Response, request

from .. import periods, registry, scoring
from ..extensions import get_redis
from ..views.scores import as_csv, compute
from ..views.sheet import as_xlsx
from . import error_page, render, require
from .periods import today

bp = Blueprint("console_scores", __name__, url_prefix="/console", template_folder="templates")

PAGE = 100  # units a page: 3,000 units make 30 pages of a light table
STATUS = scoring.STATUS_NAMES
STATUS_TAG = {"ok": "tag-ok", "insufficient": "tag-warn", "no_ratings": "tag-off"}
#: column -> its header; every one sorts (None, e.g. no score, always last)
COLUMNS = {"rank": "排名", "unit": "单位编号", "name": "单位名称", "category": "类别", "n": "有效评价",
           "pending": "待审核", "rejected": "已驳回", "raw": "原始分", "score": "得分", "good_rate": "好评率",
           "status": "状态"}


@dataclass
class Query:
    period: str
    category: str
    status: str
    q: str
    sort: str
    dir: str
    page: int

    def args(self, **changes: object) -> dict:
        """The query as URL arguments (empty ones left out), with changes."""
        out = {"period": self.period, "category": self.category, "status": self.status, "q": self.q,
               "sort": self.sort, "dir": self.dir, "page": self.page, **changes}
        return {k: v for k, v in out.items() if v not in ("", None) and not (k == "page" and v == 1)}


def default_period(r) -> periods.Period | None:
    """The current period; else the latest that has started; else the first to come."""
    day = today()
    found = periods.current_period(r, day)
    if found:
        return found
    every = periods.list_periods(r)
    started = [p for p in every if p.start <= day]
    return started[-1] if started else (every[0] if every else None)


def read_query(period: str) -> Query:
    a = request.args
    sort = a.get("sort", "") if a.get("sort", "") in COLUMNS else ""
    try:
        page = max(1, int(a.get("page", "1")))
    except ValueError:
        page = 1
    status = a.get("status", "") if a.get("status") in STATUS else ""
    return Query(period, a.get("category", "").strip(), status, a.get("q", "").strip()[:100], sort,
                 "desc" if a.get("dir") == "desc" else "asc", page)


def chosen(q: Query, units: list[dict]) -> list[dict]:
    """The units the filters keep, in the order asked for."""
    needle = q.q.lower()
    rows = [u for u in units if (not q.status or u["status"] == q.status)
            and (not needle or needle in u["unit"].lower() or needle in u["name"].lower())]
    if not q.sort:
        return rows  # compute()'s order: by category, then rank
    known = [u for u in rows if u[q.sort] is not None]
    known.sort(key=lambda u: (u[q.sort], u["unit"]), reverse=q.dir == "desc")
    return known + [u for u in rows if u[q.sort] is None]


def table():
    """The period's table as the query asks: a page of the console, or a whole download."""
    r = get_redis()
    pid = request.args.get("period", "").strip()
    period = periods.get_period(r, pid) if pid else default_period(r)
    if period is None:
        return None, None, read_query(""), []
    q = read_query(period.id)
    whole = request.endpoint != "console_scores.index"  # the downloads carry the case columns
    result = compute(period, q.category or None, cases=whole)
    return period, result, q, chosen(q, result["units"])


@bp.route("/scores")
@require("scores.read")
def index():
    period, result, q, rows = table()
    pages = max(1, math.ceil(len(rows) / PAGE))
    page = min(q.page, pages)
    r = get_redis()
    categories = registry.list_categories(r)
    return render("console/scores_index.html", period=period, result=result, q=q, total=len(rows),
                  rows=rows[(page - 1) * PAGE:page * PAGE], page=page, pages=pages, first=(page - 1) * PAGE,
                  periods=list(reversed(periods.list_periods(r))), categories=categories,
                  category_names={c.id: c.name for c in categories}, columns=COLUMNS,
                  statuses=STATUS, status_tags=STATUS_TAG)


def download(write) -> Response:
    period, result, q, rows = table()
    if period is None or result is None:
        return error_page(404, "no_period", "还没有评议期。")
    return write({**result, "units": rows})


@bp.route("/scores.csv")
@require("scores.read")
def csv():
    """The rows the filters keep, in the page's order, as the API's CSV."""
    return download(as_csv)


@bp.route("/scores.xlsx")
@require("scores.read")
def xlsx():
    """The same rows and columns as the CSV, as an .xlsx workbook."""
    return download(as_xlsx)
