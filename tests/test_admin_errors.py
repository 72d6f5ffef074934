"""The office's errors answer in Chinese (`message`), the English kept as `message_en`, with
the same stable codes: keys, the registry, periods, review, closing, scores' queries, bodies,
methods, sizes."""

from __future__ import annotations

import re

import pytest

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def office(h):
    h.window("u1")
    h.unit("u2")
    h.period("p1")
    return h


def call(h, method, path, key="admin", **kwargs):
    headers = {"admin": h.admin, "none": {}, "bad": {"Authorization": "Bearer rsk_not-a-key"},
               "scorer": h.key("scorer") if key == "scorer" else {},
               "manager": h.key("manager", ("u1",)) if key == "manager" else {}}[key]
    return getattr(h.client, method)(path, headers=headers, **kwargs)


CASES = [  # (name, method, path, key, request, status, code, words in the message)
    ("missing key", "get", "/api/v1/units", "none", {}, 401, "unauthorized", "API 密钥"),
    ("bad key", "get", "/api/v1/units", "bad", {}, 401, "invalid_key", "无效"),
    ("wrong role", "post", "/api/v1/units", "scorer", {"json": {}}, 403, "wrong_role", "admin"),
    ("another unit", "get", "/api/v1/units/u2", "manager", {}, 403, "other_unit", "无权"),
    ("unknown unit", "get", "/api/v1/units/ghost", "admin", {}, 404, "unknown_unit", "单位：ghost"),
    ("unknown window", "get", "/api/v1/windows/999", "admin", {}, 404, "unknown_window", "窗口"),
    ("unknown category", "patch", "/api/v1/categories/ghost", "admin", {"json": {"name": "x"}},
     404, "unknown_category", "类别"),
    ("unknown period", "get", "/api/v1/periods/p9/result", "admin", {}, 404, "unknown_period",
     "评议期"),
    ("existing unit", "post", "/api/v1/units", "admin",
     {"json": {"id": "u1", "name": "x", "category": "c1"}}, 409, "unit_exists", "已存在"),
    ("bad body", "post", "/api/v1/units", "admin", {"json": {"id": "u 3", "name": 5}}, 400,
     "invalid_request", "category（缺少必填字段）"),
    ("bad period body", "post", "/api/v1/periods", "admin",
     {"json": {"id": "p2", "name": "x", "start": "2026-09-01", "end": "2026-01-01"}}, 400,
     "invalid_request", "结束日期早于开始日期"),
    ("bad query", "get", "/api/v1/scores?format=xml", "admin", {}, 400, "invalid_request",
     "查询参数 period（缺少必填字段）"),
    ("not json", "post", "/api/v1/units", "admin", {"data": "x", "content_type": "text/plain"},
     415, "unsupported_media_type", "application/json"),
    ("wrong method", "delete", "/api/v1/units", "admin", {}, 405, "method_not_allowed", "请求方法"),
    ("unknown path", "get", "/api/v1/nowhere", "admin", {}, 404, "not_found", "没有"),
    ("too large", "post", "/api/v1/units", "admin",
     {"data": b'{"id": "' + b"x" * 70_000 + b'"}', "content_type": "application/json"}, 413,
     "body_too_large", "过大"),
    ("unknown held tap", "post", "/api/v1/review/bogus", "admin",
     {"json": {"action": "reject", "why": "x"}}, 404, "unknown_rating", "待核"),
    ("period running", "post", "/api/v1/periods/p1/close", "admin", {}, 409, "period_running",
     "结束"),
    ("period open", "get", "/api/v1/periods/p1/result", "admin", {}, 409, "period_open", "尚未关闭"),
]


@pytest.mark.parametrize(("method", "path", "key", "request_", "status", "code", "words"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_office_error_is_chinese_with_its_code(office, method, path, key, request_, status,
                                                     code, words):
    resp = call(office, method, path, key, **request_)
    error = resp.json["error"]
    assert (resp.status_code, error["code"]) == (status, code), error
    assert CHINESE.search(error["message"]) and words in error["message"], error
    assert "message_en" not in error or not CHINESE.search(error["message_en"]), error


def test_a_bad_body_keeps_its_field_details_and_the_english(office):
    error = call(office, "post", "/api/v1/units", json={"id": "u 3", "name": 5}).json["error"]
    assert set(error["details"]["json"]) == {"id", "name", "category"}
    assert error["message"].startswith("请求的内容或参数不合规：")
    assert all(f in error["message"] for f in ("id（", "name（应为字符串）", "category（"))
    assert error["message_en"] == "The request body or parameters are not valid."


def test_a_key_over_its_limit_is_told_in_chinese(rules, r):
    h = rules(LIMIT_API_KEY="1/minute")
    assert h.client.get("/api/v1/units", headers=h.admin).status_code == 200
    error = h.client.get("/api/v1/units", headers=h.admin).json["error"]
    assert error["code"] == "too_many_requests" and "API 密钥" in error["message"]


def test_the_command_line_tells_the_office_in_chinese(office, runner):
    result = runner.invoke(["keys", "revoke", "abc"])
    assert result.exit_code == 1 and "12 位编号" in result.output
    result = runner.invoke(["keys", "create", "--role", "manager", "--name", "m"])
    assert result.exit_code == 1 and "至少要指定一个单位" in result.output
    result = runner.invoke(["posters", "--unit", "ghost", "-o", "/dev/null"])
    assert result.exit_code == 1 and "没有这个单位：ghost" in result.output
