"""The public results page (/results/<period>): no login, mobile first, Chinese. Per category,
its units ranked by shrunk score, with the interval, the taps counted, the 差评 rectification
rate and the status; a closed period also its digest, the export and the result to download,
and how to check one against the other (`ratingsvc verify`). A running period is shown only if
the office chose to (periods.set_public); a closed one always. The numbers are the score
table's (views.scores.compute): the API's, the console's and this page's are one computation.
"""

from __future__ import annotations

import flask
from flask import current_app, render_template

from .. import closing, periods, registry, scoring
from ..errors import ApiError
from ..extensions import get_redis
from ..limiting import citizen_limit
from . import closing as closing_views
from .scores import compute

bp = flask.Blueprint("results", __name__, template_folder="templates")

HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                      "script-src 'none'; form-action 'none'; frame-ancestors 'none'",
           "Cache-Control": "public, max-age=60"}
NOT_SHOWN = "没有这个评议期，或者它的结果还没有公开。"


def page(status: int = 200, **context) -> flask.Response:
    html = render_template("results/page.html", office=current_app.config["EVALUATION_OFFICE"], **context)
    headers = HEADERS if status == 200 else {**HEADERS, "Cache-Control": "no-store"}
    return flask.Response(html, status=status, mimetype="text/html", headers=headers)


def problem(status: int, message: str) -> flask.Response:
    return page(status, problem=message)


def shown(pid: str) -> tuple[periods.Period, bool] | None:
    """The period and whether it is closed, if the public page shows it."""
    r = get_redis()
    try:
        period = periods.get_period(r, pid)
    except registry.RegistryError:
        return None
    closed = pid in closing.closed_ids(r)
    return (period, closed) if closed or periods.is_public(r, pid) else None


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@bp.route("/results/<pid>")
@citizen_limit("LIMIT_SCAN_IP", page=problem)
def results(pid: str):
    found = shown(pid)
    if found is None:
        return problem(404, NOT_SHOWN)
    period, closed = found
    result = compute(period)
    names = {c.id: c.name for c in registry.list_categories(get_redis())}
    groups: dict[str, list[dict]] = {}
    for row in sorted(result["units"], key=lambda u: (u["rank"] is None, u["rank"] or 0, u["unit"])):
        groups.setdefault(row["category"], []).append(row)  # as the live table orders (a closed one's: by id)
    means = result["categories"]
    categories = [{"id": cid, "name": names.get(cid, cid), "mean": means.get(cid, {}).get("mean"),
                   "n": means.get(cid, {}).get("n"), "units": rows}
                  for cid, rows in sorted(groups.items(), key=lambda kv: names.get(kv[0], kv[0]))]
    return page(period=period, closed=closed, categories=categories, status_names=scoring.STATUS_NAMES,
                percent=percent,
                digest=result.get("digest"), prior_weight=result["prior_weight"], min_n=result["min_n"])


@bp.route("/results/<pid>/export.jsonl")
@citizen_limit("LIMIT_SCAN_IP", page=problem)
def export(pid: str):
    """A closed period's export (JSON Lines), as the console downloads it."""
    return _closed_download(pid, closing_views.export_response)


@bp.route("/results/<pid>/result.json")
@citizen_limit("LIMIT_SCAN_IP", page=problem)
def result_file(pid: str):
    """A closed period's result, as closing wrote it."""
    return _closed_download(pid, closing_views.result_download)


def _closed_download(pid: str, download) -> flask.Response:
    found = shown(pid)
    if found is None or not found[1]:
        return problem(404, "只有已结束的评议期才能下载导出文件和结果文件。" if found else NOT_SHOWN)
    try:
        return download(pid)
    except ApiError as exc:  # closed, but its export is not on this server
        return problem(exc.status, exc.message)
