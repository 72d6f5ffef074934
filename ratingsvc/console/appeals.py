"""Console area: the office's appeal queue (申诉复核). Pending appeals of every unit, oldest
first, each with its tap and the case's reason; decided one by one or several at once with one
note (actions.decide_appeal / decide_appeals, each decision audited); the decided, newest first."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, redirect, request, url_for

from .. import actions, recording, registry
from ..cases import appeals as appeal_store
from ..cases import store as case_store
from ..cases.store import CaseProblem
from ..extensions import get_policy, get_redis, now
from . import actor, render, require, whole
from .cases import names, window_names

bp = Blueprint("console_appeals", __name__, url_prefix="/console", template_folder="templates")
PAGE = 50
DECIDED_LISTED = 50
VERBS = {"uphold": "认定申诉成立", "reject": "认定申诉不成立"}


def _page(*, error: str | None = None, status: int = 200, values: dict[str, str] | None = None,
          notice: str | None = None):
    r = get_redis()
    units = {u.id: u.name for u in registry.list_units(r)}
    pending = appeal_store.of_units(r, sorted(units), pending_only=True)
    pages = max(1, math.ceil(len(pending) / PAGE))
    page = min(max(1, whole(request.args.get("page", "1")) or 1), pages)
    shown = pending[(page - 1) * PAGE:page * PAGE]
    cases = {a.rating_id: case_store.get(r, a.unit, a.id) for a in shown}
    decided = sorted((a for a in appeal_store.of_units(r, sorted(units)) if a.state != "pending"),
                     key=lambda a: (a.decided_ms or 0, a.rating_id), reverse=True)
    listed = decided[:DECIDED_LISTED]
    return render("console/appeals_index.html", status, title="申诉复核", pending=shown, total=len(pending),
                  page=page, pages=pages, cases=cases, decided=listed, decided_total=len(decided),
                  units=units, windows=window_names(sorted({a.unit for a in shown + listed})),
                  verbs=VERBS, values=values or {}, error=error, notice=notice, **names())


def _done_notice() -> str | None:
    verb = VERBS.get(request.args.get("done", ""))
    if not verb:
        return None
    n, refused = whole(request.args.get("n", "0")) or 0, whole(request.args.get("refused", "0")) or 0
    extra = f"；另有 {refused} 项此前已有复核结论或已不存在，未处理" if refused else ""
    return f"已{verb} {n} 项{extra}。"


@bp.route("/appeals")
@require("appeals.decide")
def index():
    return _page(notice=_done_notice())


def _decision() -> tuple[bool, str]:
    decision = request.form.get("decision", "")
    if decision not in VERBS:
        return _bad("请选择申诉成立或不成立。")
    return decision == "uphold", request.form.get("note", "")


class _Bad(Exception):
    pass


def _bad(message: str) -> Any:
    raise _Bad(message)


bp.register_error_handler(_Bad, lambda exc: _page(error=str(exc), status=400))


def _rating(value: str) -> tuple[str, str]:
    parsed = recording.parse_rating_id(value)
    if parsed is None:
        _bad("没有这项申诉。")
    assert parsed is not None
    return parsed


@bp.route("/appeals/decide", methods=["POST"])
@require("appeals.decide")
def decide():
    """One appeal: upheld (the tap leaves the counts; a note is required) or rejected."""
    uphold, note = _decision()
    rid = request.form.get("rating_id", "")
    unit, sid = _rating(rid)
    try:
        actions.decide_appeal(get_redis(), actor(), now(), get_policy(), unit, sid, uphold=uphold, note=note)
    except CaseProblem as problem:
        return _page(error=problem.message, status=problem.form_status, values={rid: note})
    return redirect(url_for(".index", done=request.form["decision"], n=1))


@bp.route("/appeals/bulk", methods=["POST"])
@require("appeals.decide")
def bulk():
    """The ticked appeals with one decision and one note, each decided and audited on its own
    (a note the domain refuses is said before any is decided)."""
    uphold, note = _decision()
    ids = list(dict.fromkeys(request.form.getlist("ids")))
    if not ids:
        _bad("请先勾选要复核的申诉。")
    for rid in ids:
        _rating(rid)
    try:
        counts = actions.decide_appeals(get_redis(), actor(), now(), get_policy(), ids, uphold=uphold,
                                        note=note)
    except CaseProblem as problem:
        return _page(error=f"批量复核未处理：{problem.message}", status=problem.form_status)
    return redirect(url_for(".index", done=request.form["decision"], n=counts["done"],
                            refused=counts["refused"]))
