"""Console area: evaluation periods. The list with each period's state; create; correct one
before it starts; close one that has ended (the API's close_period, with a confirmation page
and a progress note); a closed period's export, result and ranking report (the API's code)."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, current_app, jsonify, redirect, request, url_for
from marshmallow import ValidationError

from .. import actions, closing, errortext, periods
from ..errors import ApiError
from ..extensions import get_redis, now
from ..registry import RegistryError
from ..schemas import PeriodSchema, ReportQuerySchema
from ..timeutil import zone
from ..views import closing as closing_views
from ..views.scores import compute
from . import FormProblem, actor, is_htmx, render, require

bp = Blueprint("console_periods", __name__, url_prefix="/console", template_folder="templates")

#: state -> (what a person reads, tag class)
STATES = {"upcoming": ("未开始", "tag-off"), "running": ("进行中", "tag-ok"),
          "ended": ("已结束待关闭", "tag-warn"), "closed": ("已关闭", "tag-bad")}
LABELS = {"id": "编号", "name": "名称", "start": "开始日期", "end": "结束日期"}
FIELDS = ("id", "name", "start", "end")


def today() -> date:
    """Today in the office's time zone, on the app's clock."""
    return datetime.fromtimestamp(now(), zone(current_app.config["TIMEZONE"])).date()


def state(period: periods.Period, day: date, closed: set[str]) -> str:
    if period.id in closed:
        return "closed"
    if day < period.start:
        return "upcoming"
    return "running" if day <= period.end else "ended"


def explain(exc: ValidationError) -> str:
    """PeriodSchema's field errors in Chinese, fields by their labels."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    parts = []
    for field, texts in messages.items():
        text = errortext._field_text(texts)
        if field == "id" and text == "不合规":
            text = "应为 1–40 个字母、数字、- 或 _"
        parts.append(f"{LABELS.get(field, '表单')}：{text}")
    return "表单有误：" + "；".join(parts) + "。"


def form_values() -> dict[str, str]:
    return {k: request.form.get(k, "").strip() for k in FIELDS}


def validated(form: dict[str, str]) -> dict:
    """The form through the API's PeriodSchema (an empty field is a missing one)."""
    body = PeriodSchema().load({k: v for k, v in form.items() if v})
    return dict(body)


def listing(status: int = 200, **context):
    r, day = get_redis(), today()
    closed = closing.closed_ids(r)
    rows = [(p, state(p, day, closed)) for p in reversed(periods.list_periods(r))]
    return render("console/periods_index.html", status, rows=rows, states=STATES, today=day,
                  public=periods.public_ids(r),
                  form=context.pop("form", {}), **context)


NOTICES = {"created": "已创建评议期 {}。", "updated": "已更正评议期 {}。",
           "closed": "评议期 {} 已关闭，得分已冻结。",
           "public": "评议期 {} 的结果已在公示页公开。", "private": "评议期 {} 的结果已停止公开。"}


@bp.route("/periods")
@require("periods.read")
def index():
    done, pid = request.args.get("done", ""), request.args.get("pid", "")
    known = {p.id for p in periods.list_periods(get_redis())}
    notice = NOTICES[done].format(pid) if done in NOTICES and pid in known else None
    return listing(notice=notice)


@bp.route("/periods", methods=["POST"])
@require("periods.edit")
def create():
    form = form_values()
    try:
        body = validated(form)
        actions.create_period(get_redis(), actor(), now(), periods.Period(**body))
    except ValidationError as exc:
        return listing(400, error=explain(exc), form=form)
    except RegistryError:
        return listing(409, error=f"编号为 {form['id']} 的评议期已存在，请换一个编号。", form=form)
    return redirect(url_for(".index", done="created", pid=body["id"]))


@bp.route("/periods/<pid>/public", methods=["POST"])
@require("periods.edit")
def public(pid: str):
    """Show the running period on the public results page (public=1), or stop (public=0)."""
    shown = request.form.get("public") == "1"
    actions.set_period_public(get_redis(), actor(), now(), pid, shown)
    return redirect(url_for(".index", done="public" if shown else "private", pid=pid))


@bp.route("/periods/<pid>/edit", methods=["GET", "POST"])
@require("periods.edit")
def edit(pid: str):
    r = get_redis()
    period = periods.get_period(r, pid)
    started = period.start <= today()
    form = {"id": pid, "name": period.name, "start": period.start.isoformat(), "end": period.end.isoformat()}
    if request.method == "GET":
        return render("console/periods_edit.html", period=period, form=form, started=started)
    form = {**form_values(), "id": pid}
    try:
        body = validated(form)
        actions.update_period(r, actor(), now(), pid, tz=current_app.config["TIMEZONE"],
                              name=body["name"], start=body["start"], end=body["end"])
    except ValidationError as exc:
        return render("console/periods_edit.html", 400, period=period, form=form, started=started,
                      error=explain(exc))
    except periods.PeriodStarted as exc:
        return render("console/periods_edit.html", 409, period=period, form=form, started=True,
                      error=exc.message)
    return redirect(url_for(".index", done="updated", pid=pid))


def close_page(period: periods.Period, status: int = 200, **context):
    closed = closing.closed_ids(get_redis())
    taps = None
    if period.id not in closed:  # how big the export will be: every counted, held, rejected tap
        units = compute(period, cases=False)["units"]
        taps = sum(u["n"] + u["pending"] + (u["rejected"] or 0) for u in units)
    return render("console/periods_close.html", status, period=period, taps=taps,
                  state=state(period, today(), closed), states=STATES, **context)


@bp.route("/periods/<pid>/close", methods=["GET", "POST"])
@require("periods.edit")
def close(pid: str):
    period = periods.get_period(get_redis(), pid)
    if request.method == "GET":
        return close_page(period)
    try:
        closing_views.close_period(period, actor())
    except ApiError as exc:  # not over yet, or closed already (409)
        return close_page(period, 200 if is_htmx() else exc.status, close_error=exc.message)
    target = url_for(".index", done="closed", pid=pid)
    if is_htmx():
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target)


@bp.route("/periods/<pid>/close/progress")
@require("periods.edit")
def close_progress(pid: str):
    """How far a running close has come: {units_done, units, taps}, or {} (console.js polls)."""
    periods.get_period(get_redis(), pid)
    return jsonify(closing.progress_of(get_redis(), pid) or {})


@bp.route("/periods/<pid>/export")
@require("results.read")
def export(pid: str):
    """The export, JSON Lines: what `ratingsvc verify` checks against the result."""
    return closing_views.export_response(pid)


@bp.route("/periods/<pid>/result")
@require("results.read")
def result(pid: str):
    """The frozen result, as the file closing wrote (<id>.result.json)."""
    return closing_views.result_download(pid)


@bp.route("/periods/<pid>/report")
@require("results.read")
def report(pid: str):
    """The printable ranking report, the API's format=html page."""
    return report_as(pid, "html")


@bp.route("/periods/<pid>/report.xlsx")
@require("results.read")
def report_xlsx(pid: str):
    """The ranking report's rows as an .xlsx workbook (the API's format=xlsx)."""
    return report_as(pid, "xlsx")


def report_as(pid: str, form: str):
    try:
        args = ReportQuerySchema().load({**request.args.to_dict(), "format": form})
    except ValidationError as exc:
        raise FormProblem("报告参数有误（n 应为 1–50，category 为类别编号）。") from exc
    return closing_views.report_response(pid, args)
