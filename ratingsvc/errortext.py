"""The Chinese texts of errors the office reads (the English stays as `message_en`): objects'
names, HTTP statuses, and a summary of a request's field errors. No Flask here."""

from __future__ import annotations

from typing import Any

KIND = {"category": "类别", "unit": "单位", "window": "窗口", "period": "评议期",
        "closed period": "已关闭的评议期", "key": "API 密钥", "hall": "办事大厅"}

HTTP = {
    400: "请求格式有误。",
    401: "需要 API 密钥：Authorization: Bearer <密钥>。",
    403: "无权访问。",
    404: "没有这个地址或对象。",
    405: "此地址不支持这种请求方法。",
    406: "无法提供所要求的格式。",
    408: "请求超时。",
    409: "与现有数据冲突。",
    410: "已失效。",
    411: "请求缺少内容长度。",
    413: "提交的内容过大。",
    414: "请求地址过长。",
    415: "请以 application/json 格式提交。",
    416: "请求的范围无效。",
    422: "请求无法执行。",
    429: "操作太频繁，请稍后再试。",
    431: "请求头过大。",
    500: "服务器内部错误，请稍后再试或联系管理员。",
    501: "不支持此请求方法。",
    503: "服务繁忙，请稍后再试。",
}

#: marshmallow's and our schemas' field messages, matched by their start
FIELD = [
    ("Missing data for required field", "缺少必填字段"),
    ("Unknown field", "未知字段"),
    ("Field may not be null", "不能为空"),
    ("Not a valid integer", "应为整数"),
    ("Not a valid number", "应为数字"),
    ("Not a valid string", "应为字符串"),
    ("Not a valid boolean", "应为 true 或 false"),
    ("Not a valid list", "应为列表"),
    ("Not a valid mapping", "应为对象"),
    ("Not a valid date", "应为日期 YYYY-MM-DD"),
    ("Invalid input type", "类型不对"),
    ("Invalid value", "取值无效"),
    ("Length must be", "长度不合规"),
    ("Shorter than", "太短"),
    ("Longer than", "太长"),
    ("Must be greater", "超出范围"),
    ("Must be less", "超出范围"),
    ("Must be one of", "不是允许的取值"),
    ("String does not match expected pattern", "格式不对"),
    ("end is before start", "结束日期早于开始日期"),
    ("give at least one", "至少给出一项"),
    ("expected a cursor", "应为之前答复中的游标，或 0"),
    ("days are weekdays", "星期应为 1（周一）到 7（周日）"),
    ("Nested too deeply", "嵌套过深或数字过长"),
    ("A string holds a lone surrogate", "字符串含无效字符"),
]
PLACE = {"json": "", "query": "查询参数 ", "headers": "请求头 ", "path": "路径 "}
SHOWN = 8  # fields named in the summary; details has them all


def _field_text(messages: Any) -> str:
    first = messages[0] if isinstance(messages, list) and messages else messages
    if isinstance(first, str):
        for english, chinese in FIELD:
            if first.startswith(english):
                return chinese
    return "不合规"


def _walk(messages: Any, path: tuple) -> list[tuple[tuple, str]]:
    if isinstance(messages, dict):
        return [leaf for key, value in messages.items() for leaf in _walk(value, (*path, key))]
    return [(path, _field_text(messages))]


def _fields(messages: Any) -> list[str]:
    out = []
    for path, text in _walk(messages, ()):
        place = PLACE.get(path[0], "") if path and isinstance(path[0], str) else ""
        rest = path[1:] if path and isinstance(path[0], str) and path[0] in PLACE else path
        name = ".".join(str(p) for p in rest if p != "_schema") or "请求内容"
        out.append(f"{place}{name}（{text}）")
    return out


def invalid_request(messages: Any) -> str:
    """"请求的内容或参数不合规：name（缺少必填字段）；查询参数 n（超出范围）" from webargs'
    {"json": {"name": ["Missing data for required field."]}, "query": {...}}."""
    named = _fields(messages)
    more = f" 等 {len(named)} 项" if len(named) > SHOWN else ""
    return "请求的内容或参数不合规：" + "；".join(named[:SHOWN]) + more + "。"


def lookup(kind: str, ident: object, problem: str) -> tuple[str, str]:
    """A RegistryError's (Chinese, English) text: an unknown or an existing object."""
    zh = KIND.get(kind, kind)
    if problem == "existing":
        return f"{zh} {ident} 已存在。", f"{kind} {ident} exists already."
    if problem == "in_other_hall":
        return f"窗口 {ident} 已属于另一个办事大厅。", f"Window {ident} is in another hall."
    if problem == "not_in_hall":
        return f"窗口 {ident} 不属于这个办事大厅。", f"Window {ident} is not in this hall."
    return f"没有这个{zh}：{ident}。", f"No {kind} {ident}."
