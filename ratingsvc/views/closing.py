"""Closing a period: frozen, exported with a digest chain, its result published."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from flask import Response, current_app, jsonify, send_file

from .. import actions, closing, periods, registry, report
from ..audit import Actor
from ..auth import actor, require
from ..errors import Conflict, NotFound
from ..extensions import ApiBlueprint, get_redis, now
from ..limiting import per_key_limit
from ..schemas import BINARY, TEXT, ClosedSchema, ReportQuerySchema, ReportSchema, ResultSchema
from ..timeutil import zone
from .scores import compute, csv_response
from .sheet import XLSX, xlsx_response

blp = ApiBlueprint("closing", __name__, url_prefix="/api/v1/periods",
                   description="Closed periods: frozen results and verifiable exports")
per_key_limit(blp)


def export_path(period_id: str) -> Path:
    folder = Path(current_app.config["EXPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{period_id}.jsonl"


def close_period(period: periods.Period, actor: Actor) -> dict:
    """Close a period that has ended: write its export, store its result (also as a file);
    audited."""
    config = current_app.config
    tz = zone(config["TIMEZONE"])
    # A tap of the last day may still change its level for RATING_CHANGE_SECONDS after midnight.
    settled = (datetime.combine(period.end + timedelta(days=1), time(), tz)
               + timedelta(seconds=config["RATING_CHANGE_SECONDS"]))
    if datetime.fromtimestamp(now(), tz) < settled:
        when = settled.isoformat(timespec="seconds")
        raise Conflict(f"评议期 {period.id} 到 {period.end} 结束，最后一天的评价在 {when} 前仍可修改，"
                       "请在此之后再关闭。", code="period_running",
                       message_en=f"Period {period.id} runs until {period.end}, and its last taps "
                                  f"may change until {when}; close it after that.")
    if closing.stored_result(get_redis(), period.id):
        raise Conflict(f"评议期 {period.id} 已经关闭。", code="period_closed",
                       message_en=f"Period {period.id} is closed already.")
    path = export_path(period.id)
    try:
        result = actions.close_period(get_redis(), actor, now(), period, path,
                                      prior_weight=config["SCORE_PRIOR_WEIGHT"], min_n=config["SCORE_MIN_N"],
                                      tz=config["TIMEZONE"])
    except actions.ClosingBusy:
        raise Conflict(f"评议期 {period.id} 正在关闭中，请稍候刷新查看结果。", code="period_closing",
                       message_en=f"Period {period.id} is being closed; look again shortly.") from None
    return {**result, "export": path.name}


def result_download(period_id: str) -> Response:
    """A closed period's result as the file closing wrote, for a person to keep with the export."""
    text = closing.result_text(closed_result(period_id))
    return Response(text, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{period_id}.result.json"'})


def closed_result(period_id: str) -> dict:
    periods.get_period(get_redis(), period_id)
    result = closing.stored_result(get_redis(), period_id)
    if result is None:
        raise Conflict(f"评议期 {period_id} 尚未关闭。", code="period_open",
                       message_en=f"Period {period_id} is not closed.")
    return result


@blp.route("/<pid>/close", methods=["POST"])
@require("periods.edit")
@blp.response(201, ClosedSchema)
@blp.error(409, "period_running: not over yet; or period_closed")
def close(pid: str):
    """Freeze a period that has ended: later taps never change it."""
    return close_period(periods.get_period(get_redis(), pid), actor())


@blp.route("/<pid>/result")
@require("results.read")
@blp.response(200, ResultSchema)
@blp.error(409, "period_open: not closed")
def result(pid: str):
    """The frozen table, with the export's digest."""
    return jsonify(closed_result(pid))  # as stored: the schema documents it


@blp.route("/<pid>/export")
@require("results.read")
@blp.response(200, TEXT, content_type="application/x-ndjson", description="the export, JSON Lines")
@blp.error(404, "export_missing: closed, but the export file is not in EXPORT_DIR here")
@blp.error(409, "period_open: not closed")
def export(pid: str):
    return export_response(pid)


def export_response(pid: str) -> Response:
    """A closed period's export as a download (the API's and the console's)."""
    closed_result(pid)
    path = export_path(pid)
    if not path.is_file():
        raise NotFound(f"评议期 {pid} 已关闭，但导出文件 {path} 不在这台服务器上（RATINGSVC_EXPORT_DIR）。",
                       code="export_missing",
                       message_en=f"Period {pid} is closed, but its export {path} is not on this server.")
    return send_file(path, mimetype="application/x-ndjson", as_attachment=True,
                     download_name=f"{pid}.jsonl")


REPORT_FORMATS = ("JSON; CSV with format=csv; a printable page with format=html; an .xlsx workbook "
                  "(Chinese headings) with format=xlsx")


@blp.route("/<pid>/report")
@require("results.read")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSchema, description=REPORT_FORMATS)
@blp.alt_response(200, schema=TEXT, content_type="text/csv", success=True, description=REPORT_FORMATS)
@blp.alt_response(200, schema=TEXT, content_type="text/html", success=True, description=REPORT_FORMATS)
@blp.alt_response(200, schema=BINARY, content_type=XLSX, success=True, description=REPORT_FORMATS)
def ranking(args: dict, pid: str):
    """Per category the best and worst N by shrunk score; too few ratings set apart."""
    return report_response(pid, args)


def report_response(pid: str, args: dict) -> Response:
    """The ranking report in args["format"] (args as ReportQuerySchema loads them)."""
    r = get_redis()
    period = periods.get_period(r, pid)
    table = compute(period, args.get("category"))
    names = {c.id: c.name for c in registry.list_categories(r)}
    categories = report.build(table, names, args["n"])
    basis = (f"已结束，数据摘要 {table['digest'][:16]}…" if table.get("frozen")
             else "进行中，数据随评价更新")
    subtitle = f"评议期 {period.start} 至 {period.end}（{basis}）；按贝叶斯平均分排名"
    if args["format"] == "csv":
        return csv_response(report.csv_rows(categories), f"report-{pid}.csv")
    if args["format"] == "xlsx":
        return xlsx_response(report.csv_rows(categories), f"report-{pid}.xlsx", "排名报告")
    if args["format"] == "html":
        title = f"{period.name} 移动端评价：评价最好与最差的单位"
        return Response(report.html(title, subtitle, categories, args["n"], table["min_n"]),
                        mimetype="text/html")
    return jsonify(period=pid, frozen=bool(table.get("frozen")), digest=table.get("digest"),
                   n=args["n"], basis=subtitle, categories=categories)  # ReportSchema documents it
