"""A case as its citizen sees it (查看处理结果): the state in plain words, the deadlines, the
unit's reply, and whether the handling may still be rated. Nothing of the rater (no reason,
no comment, no identity), nothing of the unit's inner notes (the verification note, the
history's accounts). No Flask here: the JSON answer, the page and the WeChat notice use it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..timeutil import iso_time, zone
from .store import ANSWERED, FOLLOWUPS, Case

#: state -> what the citizen reads (the console's words are store.STATE_NAMES)
STATE_WORDS = {"new": "已受理", "verified": "正在处理", "rectified": "已整改", "explained": "已解释说明",
               "closed": "已办结", "void": "已撤销"}
LEVEL_NAMES = {1: "非常不满意", 2: "不满意", 3: "基本满意", 4: "满意", 5: "非常满意"}
VOID_WORDS = {"held": "您的评价已转入人工复核，此工单撤销。",
              "change": "您已将评价改为非差评，此工单撤销。",
              "appeal": "经复核，这条评价不予计入，此工单撤销。"}
WEEKDAYS = "一二三四五六日"


def day_text(ms: int | None, tz: str, this_year: int | None = None) -> str:
    """A deadline or a date as an older reader reads it: 6月2日（周二）, with the year when it is
    not this_year (2027年1月5日（周二））."""
    if ms is None:
        return ""
    d = datetime.fromtimestamp(ms / 1000, zone(tz))
    year = "" if d.year == this_year else f"{d.year}年"
    return f"{year}{d.month}月{d.day}日（周{WEEKDAYS[d.weekday()]}）"


def year_of(ms: int, tz: str) -> int:
    return datetime.fromtimestamp(ms / 1000, zone(tz)).year


def note(case: Case, state: str, tz: str, now_ms: int) -> str:
    """One sentence: where the case is and what happens next, with the date it is due by."""
    year = year_of(now_ms, tz)

    def by(ms: int | None) -> str:
        return day_text(ms, tz, year) + "前"

    if state == "new":
        return f"单位将在{by(case.verify_due)}核实情况，在{by(case.rectify_due)}处理并答复您。"
    if state == "verified":
        return f"单位已核实情况，将在{by(case.rectify_due)}处理并答复您。"
    if state in ANSWERED:
        return f"单位已答复。请在{by(case.followup_due)}对处理结果作出评价（只能评价一次）。"
    if state == "closed":
        if case.followup is not None:
            return f"您对处理结果的评价：{FOLLOWUPS[case.followup]}。感谢您的监督！"
        return "回访评价期限已过，工单已办结。感谢您的监督！"
    return VOID_WORDS.get(case.why, "此工单已撤销。")


def view(case: Case, now_ms: int, tz: str, unit_name: str, window_name: str) -> dict[str, Any]:
    """The case for its citizen (GET /api/v1/cases/<token>, the page /r/case/<token>)."""
    state = case.state_at(now_ms)
    at = (lambda ms: None if ms is None else iso_time(ms, tz))  # noqa: E731
    replied = case.replied_ms is not None
    return {
        "state": state,
        "state_name": STATE_WORDS[state],
        "note": note(case, state, tz, now_ms),
        "unit": unit_name,
        "window": window_name,
        "level": case.level,
        "level_name": LEVEL_NAMES.get(case.level, ""),
        "tapped_at": at(case.tapped_ms),
        "opened_at": at(case.opened_ms),
        "verify_due": at(case.verify_due),
        "rectify_due": at(case.rectify_due),
        "followup_due": at(case.followup_due),
        "verified_at": at(case.verified_ms),
        "replied_at": at(case.replied_ms),
        "closed_at": at(case.closed_at()) if state == "closed" else None,
        "reply": case.reply if replied else None,
        "cause": case.cause if replied and case.cause else None,
        "act": case.act if replied and case.act else None,
        "followup": case.followup,
        "followup_name": FOLLOWUPS.get(case.followup) if case.followup else None,
        "followup_open": state in ANSWERED,
    }
