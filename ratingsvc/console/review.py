"""Console area: the review queue. Held taps with unit and window names, local times and the
rules that fired in Chinese, grouped by window and reason; one tap or a whole filtered group
released or rejected with one reason (actions.decide / decide_many, each decision audited);
the decisions taken."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from flask import Blueprint, current_app, redirect, request, url_for

from .. import actions, recording, registry, review
from ..extensions import get_policy, get_redis, now
from ..rules import REASONS, reason_name
from ..schemas import LEVELS
from . import FormProblem, actor, render, require, whole

bp = Blueprint("console_review", __name__, url_prefix="/console", template_folder="templates")
PAGE = 50
VERBS = {"release": "放行", "reject": "驳回"}


def _filters(source: Any) -> dict[str, Any]:
    """unit, window (int or None), reason: the queue's filters, from the query or a form."""
    unit, window, reason = (source.get(k, "").strip() for k in ("unit", "window", "reason"))
    if window and whole(window) is None:
        raise FormProblem("窗口编号应为数字。")
    if reason and reason not in REASONS:
        raise FormProblem("没有这种待核原因。")
    if unit:
        registry.get_unit(get_redis(), unit)  # unknown: the 404 page
    return {"unit": unit, "window": whole(window) if window else None, "reason": reason}


def _args(f: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in f.items() if v}


def digest(taps: list[review.HeldTap]) -> str:
    """What a bulk form was shown: the group's ids, hashed (the group must not change meanwhile)."""
    return hashlib.sha256("\n".join(t.rating_id for t in taps).encode()).hexdigest()[:16]


def _queue(f: dict[str, Any]) -> dict[str, Any]:
    """Everything held (for the filters' choices), the filtered group, and the names."""
    r = get_redis()
    units = {u.id: u.name for u in registry.list_units(r)}
    held = review.list_held(r, sorted(units))
    taps = [t for t in held if (not f["unit"] or t.unit == f["unit"])
            and (f["window"] is None or t.window == f["window"])
            and (not f["reason"] or f["reason"] in t.reasons)]
    windows: dict[int, str] = {}
    for uid in sorted({t.unit for t in held}):
        windows.update((w.id, w.name) for w in registry.list_windows(r, uid))
    return {"held": held, "taps": taps, "units": units, "windows": windows}


APPEALED = "这条评价的申诉已成立，已剔除出统计，不能放行（可作不计入处理）。"


def _page(f: dict[str, Any], *, error: str | None = None, status: int = 200, notice: str | None = None):
    q = _queue(f)
    taps, held = q["taps"], q["held"]
    groups = Counter((t.unit, t.window, why) for t in taps for why in t.reasons)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    pages = max(1, -(-len(taps) // PAGE))
    page = min(page, pages)
    held_units = sorted({t.unit for t in held} | ({f["unit"]} if f["unit"] else set()))
    window_choices = sorted({(t.window, t.unit) for t in held if not f["unit"] or t.unit == f["unit"]})
    if f["window"] is not None and f["window"] not in {w for w, _ in window_choices}:
        window_choices.append(_chosen_window(f["window"], q["windows"]))  # shown as chosen, now empty
    return render(
        "console/review_index.html", status, f=f, args=_args(f), q=q, total=len(held), count=len(taps),
        shown=taps[(page - 1) * PAGE: page * PAGE], page=page, pages=pages,
        groups=sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])), digest=digest(taps),
        bulk=bool(f["unit"] or f["window"] is not None), reasons=REASONS, reason_name=reason_name,
        levels=LEVELS, verbs=VERBS, error=error, notice=notice,
        unit_choices=[(u, f"{q['units'].get(u, u)}（{u}）") for u in held_units],
        window_choices=[(w, " · ".join(filter(None, [q["windows"].get(w, str(w)), q["units"].get(u, u)])))
                        for w, u in window_choices])


def _chosen_window(wid: int, names: dict[int, str]) -> tuple[int, str]:
    """A window chosen in the filter that has no held tap (left): its name and unit."""
    try:
        window = registry.get_window(get_redis(), wid)
    except registry.RegistryError:
        return wid, ""
    names[wid] = window.name
    return wid, window.unit


def _done_notice() -> str | None:
    verb = VERBS.get(request.args.get("done", ""))
    if not verb:
        return None
    n, already = request.args.get("n", 0, type=int), request.args.get("already", 0, type=int)
    extra = f"；另有 {already} 条此前已被处理，未重复处理" if already else ""
    return f"已{verb} {n} 条评价{extra}。"


@bp.route("/review")
@require("review.decide")
def index():
    return _page(_filters(request.args), notice=_done_notice())


def _decision_form() -> tuple[str, str]:
    action, why = request.form.get("action", ""), request.form.get("why", "").strip()
    if action not in VERBS:
        raise FormProblem("请选择放行或驳回。")
    if len(why) > 500:
        raise FormProblem("处理理由最多 500 字。")
    return action, why


@bp.route("/review/decide", methods=["POST"])
@require("review.decide")
def decide():
    """One held tap."""
    f = _filters(request.form)
    action, why = _decision_form()
    if not why:
        return _page(f, error="请填写处理理由。", status=400)
    parsed = recording.parse_rating_id(request.form.get("rating_id", ""))
    if parsed is None:
        raise FormProblem("没有这条待核的评价。")
    status, _ = actions.decide(get_redis(), actor(), now(), parsed[0], parsed[1], action=action, why=why,
                               tz=current_app.config["TIMEZONE"], policy=get_policy())
    if status != "done":
        message = {"decided": "这条评价已经处理过了。", "appealed": APPEALED}.get(status,
                                                                               "没有这条待核的评价。")
        return _page(f, error=message, status=404 if status == "unknown" else 409)
    return redirect(url_for(".index", **_args(f), done=action, n=1))


@bp.route("/review/bulk", methods=["POST"])
@require("review.decide")
def bulk():
    """The whole filtered group (one unit or window at least), if it is still what was shown."""
    f = _filters(request.form)
    action, why = _decision_form()
    if not (f["unit"] or f["window"] is not None):
        raise FormProblem("批量处理需先按单位或窗口筛选。")
    if not why:
        return _page(f, error="批量处理必须填写理由。", status=400)
    taps = _queue(f)["taps"]
    shown = request.form.get("count", "")
    if shown != str(len(taps)) or request.form.get("digest", "") != digest(taps):
        return _page(f, status=409, error=(
            f"待核评价在您查看后已有变化（页面显示 {shown or '?'} 条，现在 {len(taps)} 条），"
            "未做任何处理。请核对后重新提交。"))
    counts = actions.decide_many(get_redis(), actor(), now(), taps, action=action, why=why,
                                 tz=current_app.config["TIMEZONE"], policy=get_policy())
    return redirect(url_for(".index", **_args(f), done=action, n=counts["done"], already=counts["decided"]))


@bp.route("/review/decisions")
@require("review.decide")
def decisions():
    """Every decision taken, newest first, paged."""
    r, tz = get_redis(), current_app.config["TIMEZONE"]
    unit = request.args.get("unit", "").strip()
    units = {u.id: u.name for u in registry.list_units(r)}
    if unit:
        registry.get_unit(r, unit)
    made = sorted(review.decisions(r, [unit] if unit else sorted(units)), reverse=True,
                  key=lambda d: (d["t"], d["decision"]))  # newest first; at one time, the last made first
    pages = max(1, -(-len(made) // PAGE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    rows = [(d, review.decision_out(d, tz)) for d in made[(page - 1) * PAGE: page * PAGE]]
    windows: dict[int, str] = {}
    for uid in sorted({d["rating_id"].rpartition(".")[0] for d, _ in rows}):
        windows.update((w.id, w.name) for w in registry.list_windows(r, uid))
    return render("console/review_decisions.html", rows=rows, units=units, windows=windows, unit=unit,
                  total=len(made), page=page, pages=pages, args={"unit": unit} if unit else {},
                  verbs=VERBS, reason_name=reason_name, levels=LEVELS)
