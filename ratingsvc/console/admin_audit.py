"""The office admin's audit log: newest first, filtered by actor, action (a prefix), target and
dates, paged by cursor (audit.search); what changed shown field by field; the filtered
entries exported as CSV (the scores' csv_response: UTF-8 with BOM, formulas made inert)."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, request

from .. import audit, unitstats
from ..access import ROLE_NAMES
from ..extensions import get_redis
from ..timeutil import zone
from ..views.scores import csv_response
from ..views.sheet import xlsx_response
from . import ACTOR_KINDS, FormProblem, form_day, local_time, render, require, whole
from .admin import bp

PAGE = 50
EXPORT_MAX = 100_000
FIELDS = {"name": "名称", "role": "角色", "units": "单位", "active": "启用", "totp": "两步验证",
          "username": "用户名", "epoch": "二维码版本", "why": "理由", "decision": "处理编号", "id": "编号",
          "category": "类别", "unit": "单位", "hours": "开放时间", "created": "创建时间", "start": "开始",
          "end": "结束", "taps": "评价条数", "digest": "摘要", "export": "导出文件", "counts": "写入条数"}


def _value(field: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "role" and isinstance(value, str):
        return ROLE_NAMES.get(value, value)
    if field == "created" and isinstance(value, int | float) and value > 1e9:
        return local_time(value * 1000)
    if field == "hours" and isinstance(value, dict):
        return unitstats.hours_text(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field that differs (all of them when only one side is
    there); anything else than two objects as one row."""
    if isinstance(before, list) and len(before) == 1:
        before = before[0]  # a revoked key: the list of the keys it matched
    if isinstance(before, dict | None) and isinstance(after, dict | None) and (before or after):
        b, a = before or {}, after or {}
        keys = [k for k in dict.fromkeys([*b, *a]) if b.get(k) != a.get(k)]
        return [(FIELDS.get(k, k), _value(k, b.get(k)), _value(k, a.get(k))) for k in keys]
    if before is None and after is None:
        return []
    return [("", _value("", before), _value("", after))]


def _day(text: str, end: bool) -> int | None:
    day = form_day(text)
    if day is None:
        return None
    tz = zone(current_app.config["TIMEZONE"])
    moment = datetime.combine(day + timedelta(days=1) if end else day, time(), tz)
    return int(moment.timestamp() * 1000) - (1 if end else 0)


def _filters() -> dict[str, str]:
    return {k: request.args.get(k, "").strip()[:100] for k in ("actor", "action", "target", "since", "until")}


def _search(f: dict[str, str], before: str | None, limit: int) -> tuple[list[audit.Entry], str | None]:
    if before and (before.count("-") != 1 or any(whole(part, 20) is None for part in before.split("-"))):
        raise FormProblem("分页参数有误，请从第一页重新查看。")
    return audit.search(get_redis(), actor=f["actor"], action=f["action"], target=f["target"],
                        since_ms=_day(f["since"], False), until_ms=_day(f["until"], True),
                        before=before or None, limit=limit)


@bp.route("/audit", endpoint="audit")
@require("audit.read")
def audit_page():
    f = _filters()
    before = request.args.get("before", "").strip()
    entries, cursor = _search(f, before, PAGE)
    args = {k: v for k, v in f.items() if v}
    return render("console/admin_audit.html", entries=entries, cursor=cursor, f=f, args=args,
                  first=not before, names=audit.ACTION_NAMES, changes=changes)


@bp.route("/audit.csv")
@require("audit.read")
def audit_csv():
    return csv_response(audit_rows(), "audit.csv")


@bp.route("/audit.xlsx")
@require("audit.read")
def audit_xlsx():
    return xlsx_response(audit_rows(), "audit.xlsx", "审计日志")


def audit_rows() -> list[list]:
    """The entries the filters find (EXPORT_MAX at most), a row each, Chinese headers first."""
    entries, _ = _search(_filters(), None, EXPORT_MAX)
    rows: list[list] = [["时间", "操作者", "操作者名称", "操作者类型", "来源地址（哈希）", "操作", "操作说明",
                         "对象", "之前", "之后"]]
    for e in entries:
        kind = ACTOR_KINDS.get(e.actor_kind, e.actor_kind)
        rows.append([local_time(e.time_ms), e.actor, e.actor_name, kind, e.addr, e.action,
                     audit.ACTION_NAMES.get(e.action, ""), e.target, _json(e.before), _json(e.after)])
    return rows
