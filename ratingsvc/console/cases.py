"""Console area: 差评工单 (README "Cases"). A unit manager's inbox (overdue first, as
cases.store.inbox_order puts them), each case with its history and the forms of the steps its
state allows (actions.case_step), and the appeal of its tap (actions.file_appeal). The office's
view of every unit's cases and rates: cases_office; the appeal queue: appeals."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, redirect, request, url_for

from .. import access, actions, recording, registry, unitstats
from ..cases import appeals as appeal_store
from ..cases import store as case_store
from ..cases.store import ACTION_NAMES, FOLLOWUPS, OPEN, STATE_NAMES, STEPS, VOID_WHY, Case, CaseProblem
from ..extensions import get_case_reply, get_policy, get_redis, now
from . import actor, check_unit, error_page, principal, render, require, who, whole
from .units_results import LEVEL_NAMES, TAG_NAMES

bp = Blueprint("console_cases", __name__, url_prefix="/console", template_folder="templates")
PAGE = 50
#: the inbox's state filter: value -> its name (the states, and three groups of them)
FILTERS = {"open": "未办结（全部）", "overdue": "已超期", **{s: STATE_NAMES[s] for s in OPEN},
           "closed": STATE_NAMES["closed"], "void": STATE_NAMES["void"], "all": "全部工单"}
#: a step the manager takes here -> the fields of its form (the domain says which are required)
STEP_FIELDS = {"verify": ("note",), "rectify": ("cause", "act", "reply"), "explain": ("reply",)}
DONE = {"verify": "已核实。", "rectify": "已提交整改情况和给群众的答复。", "explain": "已提交解释说明。",
        "appeal": "已提交申诉，等待评议办复核。"}
def now_ms() -> int:
    return int(now() * 1000)


def window_names(units: list[str]) -> dict[int, str]:
    r = get_redis()
    return {w.id: w.name for u in units for w in registry.list_windows(r, u)}


def parse(rid: str) -> tuple[str, str]:
    """(unit, tap id) of a case's rating id; the 404 page if it is none."""
    parsed = recording.parse_rating_id(rid)
    if parsed is None:
        raise NoCase()
    return parsed


class NoCase(Exception):
    """404: no such case (or no such appeal)."""


bp.register_error_handler(NoCase, lambda exc: error_page(404, "unknown_case", "没有这个工单。"))


def chosen(cases: list[Case], state: str, at: int) -> list[Case]:
    """The cases the state filter keeps (a reply whose follow-up time passed counts as closed)."""
    if state == "all":
        return cases
    if state == "open":
        return [c for c in cases if c.state_at(at) in OPEN]
    if state == "overdue":
        return [c for c in cases if c.overdue(at)]
    return [c for c in cases if c.state_at(at) == state]


def inbox(units: list[registry.Unit], unit: registry.Unit | None):
    state = request.args.get("state", "open")
    state = state if state in FILTERS else "open"
    ids = [u.id for u in units]
    at = now_ms()
    found = case_store.of_units(get_redis(), ids, open_only=state not in ("all", "closed", "void"))
    cases = case_store.inbox_order(chosen(found, state, at), at)
    pages = max(1, math.ceil(len(cases) / PAGE))
    page = min(max(1, whole(request.args.get("page", "1")) or 1), pages)
    shown = cases[(page - 1) * PAGE:page * PAGE]
    return render("console/cases_inbox.html", unit=unit, units={u.id: u.name for u in units}, cases=shown,
                  total=len(cases), page=page, pages=pages, state=state, filters=FILTERS,
                  args={"state": state} if state != "open" else {}, now_ms=at,
                  windows=window_names(sorted({c.unit for c in shown})), **names())


def names() -> dict[str, Any]:
    return {"state_names": STATE_NAMES, "level_names": LEVEL_NAMES, "tag_names": TAG_NAMES,
            "appeal_names": appeal_store.STATE_NAMES, "followup_names": FOLLOWUPS}


@bp.route("/cases")
@require("cases.read")
def index():
    """The office: every unit's cases and rates (cases_office); a manager: their inbox."""
    account = principal()
    assert account is not None
    scope = access.scope(account)
    if scope is None:
        from .cases_office import overview
        return overview()
    units = unitstats.unit_records(get_redis(), sorted(set(scope)))
    if len(units) == 1:
        return redirect(url_for(".unit_cases", uid=units[0].id, **request.args))
    return inbox(units, None)


@bp.route("/units/<uid>/cases")
@require("cases.read", unit_arg="uid")
def unit_cases(uid: str):
    unit = registry.get_unit(get_redis(), uid)
    return inbox([unit], unit)


def history(case: Case) -> list[tuple[int, str, str, list[tuple[str, str]]]]:
    """The case's steps as shown: (when, what, who, what was said)."""
    said = {"verify": [("核实情况", case.note)],
            "rectify": [("问题原因", case.cause), ("整改措施", case.act), ("答复群众", case.reply)],
            "explain": [("解释说明（答复群众）", case.reply)],
            "followup": [("群众评价", FOLLOWUPS.get(case.followup or 0, ""))]}
    rows = []
    for h in case.history:
        action = h.get("a", "")
        texts = [(k, v) for k, v in said.get(action, []) if v]
        if action == "void":
            texts = [("原因", VOID_WHY.get(h.get("why", ""), h.get("why", "")))]
        by = "系统" if not h.get("by") else "评价群众" if action == "followup" else who(h["by"])
        rows.append((int(h.get("t", 0)), ACTION_NAMES.get(action, action), by, texts))
    return rows


def case_page(unit: str, sid: str, *, errors: dict[str, str] | None = None, values: Any = None,
              status: int = 200, notice: str | None = None):
    r = get_redis()
    case = case_store.get(r, unit, sid)
    if case is None:
        raise NoCase()
    policy, at = get_policy(), now_ms()
    appeal_due = appeal_store.deadline(get_redis(), policy, case.unit, case.id) or 0
    steps = [s for s in STEP_FIELDS if case.state in STEPS[s][0]] if check("cases.handle", unit) else []
    appeal = appeal_store.get(r, unit, sid)
    may_appeal = check("appeals.file", unit) and case.state != "void"
    forms = [*steps, *(["appeal"] if may_appeal and appeal is None and at <= appeal_due else [])]
    errors = errors or {}
    error = next((message for form, message in errors.items() if form not in forms), None)  # no form shown
    return render("console/cases_case.html", status, case=case, unit=registry.get_unit(r, unit),
                  window=window_names([unit]).get(case.window, f"窗口 {case.window}"),
                  appeal=appeal, history=history(case), steps=steps, may_appeal=may_appeal,
                  appeal_due=appeal_due, appeal_late=at > appeal_due, now_ms=at, overdue=case.overdue(at),
                  errors=errors, error=error, values=values or {}, notice=notice, **names())


def check(action: str, unit: str) -> bool:
    return access.may(principal(), action, unit)


@bp.route("/cases/<rid>")
@require("cases.read")
def case(rid: str):
    unit, sid = parse(rid)
    check_unit("cases.read", unit)
    return case_page(unit, sid, notice=DONE.get(request.args.get("done", "")))


@bp.route("/cases/<rid>/appeal", methods=["POST"])
@require("appeals.file")
def appeal(rid: str):
    unit, sid = parse(rid)
    check_unit("appeals.file", unit)
    try:
        actions.file_appeal(get_redis(), actor(), now(), get_policy(), unit, sid,
                            reason=request.form.get("reason", ""), evidence=request.form.get("evidence", ""))
    except CaseProblem as problem:
        return case_page(unit, sid, errors={"appeal": problem.message}, values=request.form,
                         status=problem.form_status)
    return redirect(url_for(".case", rid=rid, done="appeal"))


@bp.route("/cases/<rid>/<action>", methods=["POST"])
@require("cases.handle")
def step(rid: str, action: str):
    """verify, rectify or explain, with the form's texts (the domain checks them)."""
    unit, sid = parse(rid)
    check_unit("cases.handle", unit)
    if action not in STEP_FIELDS:
        raise NoCase()
    text = {name: request.form.get(name, "") for name in STEP_FIELDS[action]}
    try:
        actions.case_step(get_redis(), actor(), now(), get_policy(), unit, sid, action, text=text,
                          on_reply=get_case_reply())
    except CaseProblem as problem:
        return case_page(unit, sid, errors={action: problem.message}, values=request.form,
                         status=problem.form_status)
    return redirect(url_for(".case", rid=rid, done=action))


from . import cases_office  # noqa: E402,F401  (its routes on bp)
