"""The registry's forms: values read from a posted form, loaded through the API's marshmallow
schemas (the same rules as the API), and their errors said in Chinese per field; opening hours
as weekday boxes and a few from/to rows, made into the API's hours shape."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from . import whole

WEEKDAYS = [(1, "一"), (2, "二"), (3, "三"), (4, "四"), (5, "五"), (6, "六"), (7, "日")]
HOUR_ROWS = 4

#: an English message of the schemas (a part of it) -> what the form says
MESSAGES = [
    ("Missing data", "必填。"),
    ("letters, digits", "只能由 1-40 个英文字母、数字、“-”或“_”组成。"),
    ("Length must be between 1 and 100", "须为 1-100 个字。"),
    ("Length must be between 1 and 6", "开放时间最多 6 段。"),
    ("Length must be between 1 and 7", "请至少勾选一天。"),
    ("ends before it starts", "结束时间须晚于开始时间。"),
    ("HH:MM", "时间格式应为 时:分，例如 08:30。"),
    ("does not match", "时间格式应为 时:分，例如 08:30。"),
    ("at least one opening time", "请至少填写一段开放时间。"),
    ("greater than or equal to 1", "星期应为周一至周日。"),
    ("days are weekdays", "星期应为周一至周日。"),
    ("Not a valid boolean", "应为是或否。"),
    ("Unknown field", "不认识的字段。"),
]


def _first(messages: Any) -> str:
    """The first message in marshmallow's nested errors (dicts and lists of them)."""
    if isinstance(messages, dict):
        return _first(next(iter(messages.values()), ""))
    if isinstance(messages, list | tuple):
        return _first(messages[0]) if messages else ""
    return str(messages)


def chinese(message: str) -> str:
    for part, said in MESSAGES:
        if part in message:
            return said
    return f"不合规（{message}）。"


def field_errors(exc: ValidationError, data: dict) -> dict[str, str]:
    """{form field: what is wrong with it, in Chinese}; a field left empty is said to be."""
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {name: "必填。" if data.get(name) == "" else chinese(_first(value))
            for name, value in messages.items()}


def load(schema: Schema, data: dict) -> tuple[dict, dict[str, str]]:
    """(the loaded values, {}) or ({}, field errors)."""
    try:
        return schema.load(data), {}
    except ValidationError as exc:
        return {}, field_errors(exc, data)


def text(form: MultiDict, name: str) -> str:
    return (form.get(name) or "").strip()


def flag(form: MultiDict, name: str) -> bool:
    """A checkbox: sent (any value) means yes."""
    return name in form


def hours_rows(hours: dict | None) -> dict:
    """A stored hours dict as the form shows it: the days ticked, HOUR_ROWS from/to pairs."""
    rows = [tuple(r.split("-")) for r in (hours or {}).get("open", [])]
    rows += [("", "")] * (HOUR_ROWS - len(rows))
    return {"days": set((hours or {}).get("days", [])), "rows": rows}


def posted_hours(form: MultiDict) -> dict:
    """The hours as posted, to show the form again as it was sent."""
    days = {n for n in (whole(d, 1) for d in form.getlist("day")) if n is not None}
    rows = [(text(form, f"from{i}"), text(form, f"to{i}")) for i in range(HOUR_ROWS)]
    return {"days": days, "rows": rows}


def hours_value(form: MultiDict) -> tuple[Any, str]:
    """The posted hours in the API's shape: {"days": [...], "open": ["HH:MM-HH:MM", ...]}, or
    None (nothing ticked or filled: always open); and a Chinese problem, or "" if none. What
    the form can tell alone is said here; the schema checks the rest."""
    days = []
    for d in form.getlist("day"):
        n = whole(d, 1)
        if n is None:
            return None, "星期应为周一至周日。"
        days.append(n)
    ranges = []
    for i in range(HOUR_ROWS):
        start, end = text(form, f"from{i}"), text(form, f"to{i}")
        if bool(start) != bool(end):
            return None, f"第 {i + 1} 段开放时间要同时填写开始和结束时间。"
        if start:
            ranges.append(f"{start}-{end}")
    if not days and not ranges:
        return None, ""
    if not days:
        return None, "填写了开放时间，请勾选适用的星期。"
    if not ranges:
        return None, "勾选了星期，请至少填写一段开放时间。"
    return {"days": days, "open": ranges}, ""


def hours_text(hours: dict | None) -> str:
    """Opening hours as a person reads them: 周一至周五 08:30-12:00、14:00-17:30."""
    if not hours:
        return "不限（全天）"
    days = sorted(hours["days"])
    names = dict(WEEKDAYS)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        said = f"周{names[days[0]]}至周{names[days[-1]]}"
    else:
        said = "、".join(f"周{names[d]}" for d in days)
    return f"{said} {'、'.join(hours['open'])}"
