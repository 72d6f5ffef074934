"""Cases and appeals for units and the office: a unit's cases and their steps, appeals of
counted taps, the office's decisions, and the rates of a period (README "Cases")."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, fields, validate

from .. import actions, periods, recording, registry
from ..auth import actor, check_unit, current_key, require
from ..cases import appeals, rates
from ..cases import store as case_store
from ..cases.store import CaseProblem
from ..errors import ApiError, Conflict, NotFound, Unprocessable
from ..extensions import ApiBlueprint, get_case_reply, get_policy, get_redis, now
from ..limiting import per_key_limit
from ..rkeys import UNITS, parse_stream_id
from ..schemas import BINARY, SLUG, TEXT, RatesSchema
from ..timeutil import iso_time
from .scores import csv_response
from .sheet import XLSX, xlsx_response

blp = ApiBlueprint("cases", __name__, url_prefix="/api/v1", description="Cases, appeals and their rates")
per_key_limit(blp)

def problem(exc: CaseProblem) -> ApiError:
    """The API's error for a step that cannot be taken (its status: CaseProblem.status)."""
    if exc.status == 404:
        return NotFound(exc.message, code=exc.code)
    if exc.status == 409:
        return Conflict(exc.message, code=exc.code, details={"state": exc.state} if exc.state else None)
    return Unprocessable(exc.message, code=exc.code)


def _ms(value: int | None, tz: str) -> str | None:
    return None if value is None else iso_time(value, tz)


def case_out(c: case_store.Case, now_ms: int, tz: str) -> dict:
    return {
        "rating_id": c.rating_id, "unit": c.unit, "window": c.window, "level": c.level,
        "tapped": iso_time(c.tapped_ms, tz), "opened": iso_time(c.opened_ms, tz),
        "state": c.state_at(now_ms), "state_name": case_store.STATE_NAMES[c.state_at(now_ms)],
        "overdue": c.overdue(now_ms),
        "verify_due": iso_time(c.verify_due, tz), "rectify_due": iso_time(c.rectify_due, tz),
        "followup_due": _ms(c.followup_due, tz), "verified": _ms(c.verified_ms, tz),
        "replied": _ms(c.replied_ms, tz),
        "closed": _ms(c.closed_at() if c.state_at(now_ms) == "closed" else None, tz),
        "note": c.note, "cause": c.cause, "act": c.act, "reply": c.reply, "followup": c.followup,
        "void_reason": c.why or None, "appeal": c.appeal or None, "tags": c.tags, "comment": c.comment,
        "history": [{"action": h.get("a"), "by": h.get("by") or None,
                     "time": iso_time(int(h.get("t", 0)), tz), **({"why": h["why"]} if h.get("why") else {})}
                    for h in c.history]}


def appeal_out(a: appeals.Appeal, tz: str) -> dict:
    return {"rating_id": a.rating_id, "unit": a.unit, "window": a.window, "level": a.level,
            "tapped": iso_time(a.tapped_ms, tz), "state": a.state, "state_name": appeals.STATE_NAMES[a.state],
            "filed": iso_time(a.filed_ms, tz), "by": a.by, "reason": a.reason, "evidence": a.evidence,
            "decided": _ms(a.decided_ms, tz), "decided_by": a.decided_by or None, "note": a.note,
            "taken_out": a.taken_out}


def _stream_id(value: str) -> str:
    if parse_stream_id(value) is None:
        raise NotFound("没有这个工单。", code="unknown_case")
    return value


def _visible_units(unit: str | None) -> list[str]:
    """The units the request concerns: one (checked), else all the key may see."""
    r = get_redis()
    if unit:
        registry.get_unit(r, unit)
        check_unit(unit)
        return [unit]
    scope = current_key().units if current_key().role == "manager" else None
    return sorted(scope if scope is not None else r.smembers(UNITS))


class HistorySchema(Schema):
    action = fields.String()
    by = fields.String(allow_none=True, metadata={"description": "who: account:<name>, key:<id>, citizen"})
    time = fields.String()
    why = fields.String()


class CaseSchema(Schema):
    rating_id = fields.String()
    unit = fields.String()
    window = fields.Integer()
    level = fields.Integer()
    tapped = fields.String()
    opened = fields.String()
    state = fields.String(metadata={"description": "new, verified, rectified, explained, closed, void"})
    state_name = fields.String()
    overdue = fields.String(allow_none=True, metadata={"description": "verify or rectify: a deadline missed"})
    verify_due = fields.String()
    rectify_due = fields.String()
    followup_due = fields.String(allow_none=True)
    verified = fields.String(allow_none=True)
    replied = fields.String(allow_none=True)
    closed = fields.String(allow_none=True)
    note = fields.String()
    cause = fields.String()
    act = fields.String()
    reply = fields.String()
    followup = fields.Integer(allow_none=True, metadata={"description": "1 满意, 2 基本满意, 3 不满意"})
    void_reason = fields.String(allow_none=True, metadata={"description": "held, change or appeal"})
    appeal = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    comment = fields.String(metadata={"description": "the rater's comment, masked"})
    history = fields.List(fields.Nested(HistorySchema))


class CaseListSchema(Schema):
    cases = fields.List(fields.Nested(CaseSchema))


class AppealOutSchema(Schema):
    rating_id = fields.String()
    unit = fields.String()
    window = fields.Integer()
    level = fields.Integer()
    tapped = fields.String()
    state = fields.String(metadata={"description": "pending, upheld or rejected"})
    state_name = fields.String()
    filed = fields.String()
    by = fields.String()
    reason = fields.String()
    evidence = fields.String()
    decided = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    note = fields.String()
    taken_out = fields.Boolean(metadata={"description": "upheld, and the tap was counted until then"})


class AppealListSchema(Schema):
    appeals = fields.List(fields.Nested(AppealOutSchema))


class UnitRatesSchema(RatesSchema):
    unit = fields.String()
    name = fields.String()
    category = fields.String()


class RatesTableSchema(Schema):
    period = fields.String()
    units = fields.List(fields.Nested(UnitRatesSchema))
    categories = fields.Dict(keys=fields.String(), values=fields.Nested(RatesSchema))


class CaseQuerySchema(Schema):
    unit = fields.String(validate=SLUG)
    state = fields.String(validate=validate.OneOf([*case_store.STATE_NAMES, "open", "overdue"]))
    period = fields.String(validate=SLUG)


class StepSchema(Schema):
    note = fields.String(load_default="",
                         metadata={"description": "verify: how the rater was reached (optional)"})
    cause = fields.String(load_default="", metadata={"description": "rectify: the root cause"})
    act = fields.String(load_default="", metadata={"description": "rectify: the action taken"})
    reply = fields.String(load_default="",
                          metadata={"description": "rectify, explain: the reply the citizen sees"})


class AppealSchema(Schema):
    reason = fields.String(required=True)
    evidence = fields.String(load_default="")


class AppealDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["uphold", "reject"]))
    note = fields.String(load_default="")


class AppealQuerySchema(Schema):
    unit = fields.String(validate=SLUG)
    state = fields.String(validate=validate.OneOf([*appeals.STATE_NAMES]))


class RatesQuerySchema(Schema):
    period = fields.String(required=True, validate=SLUG)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


@blp.route("/cases")
@require("cases.read")
@blp.arguments(CaseQuerySchema, location="query")
@blp.response(200, CaseListSchema)
@blp.error(404, "unknown_unit")
def list_cases(args: dict):
    """Cases, overdue first, then by their next deadline; state=open|overdue|<state>; period:
    only those of the period's taps."""
    r, tz, now_ms = get_redis(), current_app.config["TIMEZONE"], int(now() * 1000)
    units = _visible_units(args.get("unit"))
    state = args.get("state")
    if args.get("period"):
        cases, _ = rates.load(r, units, periods.get_period(r, args["period"]), tz)
    elif state == "overdue":
        cases = case_store.overdue(r, units, now_ms, reasons=True)
    else:
        cases = case_store.of_units(r, units, open_only=state == "open")
    if state == "overdue":
        cases = [c for c in cases if c.overdue(now_ms)]
    elif state == "open":
        cases = [c for c in cases if c.state_at(now_ms) in case_store.OPEN]
    elif state:
        cases = [c for c in cases if c.state_at(now_ms) == state]
    return {"cases": [case_out(c, now_ms, tz) for c in case_store.inbox_order(cases, now_ms)]}


def _case(uid: str, sid: str) -> case_store.Case:
    registry.get_unit(get_redis(), uid)
    check_unit(uid)
    found = case_store.get(get_redis(), uid, _stream_id(sid))
    if found is None:
        raise NotFound("没有这个工单。", code="unknown_case")
    return found


@blp.route("/units/<uid>/cases/<sid>")
@require("cases.read")
@blp.response(200, CaseSchema)
@blp.error(404, "unknown_case")
def get_case(uid: str, sid: str):
    """One case with its history."""
    return case_out(_case(uid, sid), int(now() * 1000), current_app.config["TIMEZONE"])


@blp.route("/units/<uid>/cases/<sid>/<any(verify, rectify, explain):step>", methods=["POST"])
@require("cases.handle")
@blp.arguments(StepSchema)
@blp.response(200, CaseSchema)
@blp.error(409, "wrong_state")
@blp.error(422, "missing_reply")
def take_step(body: dict, uid: str, sid: str, step: str):
    """verify (核实), rectify (整改: cause, act and reply required) or explain (解释说明: reply)."""
    _case(uid, sid)
    try:
        c = actions.case_step(get_redis(), actor(), now(), get_policy(), uid, sid, step, text=body,
                              on_reply=get_case_reply())
    except CaseProblem as exc:
        raise problem(exc) from None
    return case_out(c, int(now() * 1000), current_app.config["TIMEZONE"])


def _rating(rating_id: str) -> tuple[str, str]:
    parsed = recording.parse_rating_id(rating_id)
    if parsed is None:
        raise NotFound("没有这条评价。", code="unknown_rating")
    registry.get_unit(get_redis(), parsed[0])
    check_unit(parsed[0])
    return parsed


@blp.route("/ratings/<rating_id>/appeal", methods=["POST"])
@require("appeals.file")
@blp.arguments(AppealSchema)
@blp.response(201, AppealOutSchema)
@blp.error(409, "appeal_exists")
@blp.error(422, "missing_reason")
def file_appeal(body: dict, rating_id: str):
    """A unit appeals a counted tap of its own (申诉), within APPEAL_DAYS working days."""
    uid, sid = _rating(rating_id)
    try:
        a = actions.file_appeal(get_redis(), actor(), now(), get_policy(), uid, sid, reason=body["reason"],
                                evidence=body["evidence"])
    except CaseProblem as exc:
        raise problem(exc) from None
    return appeal_out(a, current_app.config["TIMEZONE"])


@blp.route("/appeals")
@require("cases.read")
@blp.arguments(AppealQuerySchema, location="query")
@blp.response(200, AppealListSchema)
@blp.error(404, "unknown_unit")
def list_appeals(args: dict):
    """Appeals, oldest first (state=pending: the office's queue)."""
    tz = current_app.config["TIMEZONE"]
    units = _visible_units(args.get("unit"))
    found = appeals.of_units(get_redis(), units, pending_only=args.get("state") == "pending")
    return {"appeals": [appeal_out(a, tz) for a in found if args.get("state") in (None, a.state)]}


@blp.route("/appeals/<rating_id>", methods=["POST"])
@require("appeals.decide")
@blp.arguments(AppealDecisionSchema)
@blp.response(200, AppealOutSchema)
@blp.error(409, "appeal_decided")
@blp.error(422, "missing_note")
def decide_appeal(body: dict, rating_id: str):
    """uphold (the tap leaves the counts from now on; a note is required) or reject."""
    uid, sid = _rating(rating_id)
    try:
        a = actions.decide_appeal(get_redis(), actor(), now(), get_policy(), uid, sid,
                                  uphold=body["decision"] == "uphold", note=body["note"])
    except CaseProblem as exc:
        raise problem(exc) from None
    return appeal_out(a, current_app.config["TIMEZONE"])


@blp.route("/case-rates")
@require("cases.read")
@blp.arguments(RatesQuerySchema, location="query")
@blp.response(200, RatesTableSchema, description="JSON; CSV with format=csv; .xlsx with format=xlsx")
@blp.alt_response(200, schema=TEXT, content_type="text/csv", success=True, description="CSV with format=csv")
@blp.alt_response(200, schema=BINARY, content_type=XLSX, success=True, description=".xlsx with format=xlsx")
@blp.error(404, "unknown_period")
def case_rates(args: dict):
    """Each unit's and category's rates for a period (差评回复率, 整改率, 回访整改满意率, ...);
    CSV with format=csv."""
    r, tz, now_ms = get_redis(), current_app.config["TIMEZONE"], int(now() * 1000)
    period = periods.get_period(r, args["period"])
    table = rates.table(r, period, _visible_units(None), tz, now_ms,
                        current_app.extensions["ratingsvc.cases_cache"])
    if args["format"] == "csv":
        return csv_response(rates_rows(table), f"case-rates-{period.id}.csv")
    if args["format"] == "xlsx":
        return xlsx_response(rates_rows(table), f"case-rates-{period.id}.xlsx", "差评工单指标")
    return table


def rates_rows(table: dict) -> list[list]:
    return [["unit", "name", "category", *rates.FIELDS]] + [
        [u["unit"], u["name"], u["category"], *(u[f] for f in rates.FIELDS)] for u in table["units"]]
