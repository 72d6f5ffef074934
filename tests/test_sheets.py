"""Every table the office downloads comes as an .xlsx (XlsxWriter) too: the CSV's rows, with
Chinese headings, statuses and lists in words, numbers as numbers, and text (a unit named like a
formula) written as text, never a formula. The API's format=xlsx and the console's links."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from ratingsvc.cases import rates
from ratingsvc.views.sheet import HEADINGS, XLSX


@pytest.fixture
def tables(h):
    """p1 (running on 1 June); u1 rated 5, 5, 4 and 1 (a 差评: a case); u2 rated 2; u3 named
    like a formula, in another category, without ratings."""
    h.period("p1")
    a, b = h.window("u1", "A"), h.window("u2", "B")
    h.unit("u3", "c2", name='=HYPERLINK("http://x")')
    for window, level in [(a, 5), (a, 5), (a, 4), (a, 1), (b, 2)]:
        assert h.tap(window, level, rater=h.rater()).status_code == 201
    return h


def book(resp) -> list[list]:
    """The sheet's rows (with their types), checking the download's type and that no cell is a
    formula."""
    assert resp.status_code == 200 and resp.mimetype == XLSX, resp.data[:300]
    sheet = load_workbook(io.BytesIO(resp.data)).active
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_of(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


@pytest.mark.parametrize(("path", "sheet_name"), [
    ("/api/v1/scores?period=p1&format={}", "得分表"),
    ("/api/v1/periods/p1/report?format={}", "排名报告"),
    ("/api/v1/case-rates?period=p1&format={}", "差评工单指标"),
])
def test_the_apis_tables_as_xlsx_are_their_csv_rows_in_chinese(tables, path, sheet_name):
    h = tables
    rows = csv_of(h.client.get(path.format("csv"), headers=h.admin))
    resp = h.client.get(path.format("xlsx"), headers=h.admin)
    cells = book(resp)
    assert load_workbook(io.BytesIO(resp.data)).active.title == sheet_name
    assert cells[0] == [HEADINGS[name] for name in rows[0]]  # every machine header has its heading
    assert len(cells) == len(rows)
    for row, sheet_row in zip(rows[1:], cells[1:], strict=True):
        for name, text, cell in zip(rows[0], row, sheet_row, strict=True):
            if text == "":
                assert cell is None
            elif isinstance(cell, (int, float)):
                assert float(text) == cell  # a number stays a number
            elif name not in ("status", "list"):
                assert cell == text  # text as the CSV has it (a formula-like name inert: '=...)


def test_words_headings_and_a_formula_like_name(tables):
    h = tables
    cells = book(h.client.get("/api/v1/scores?period=p1&format=xlsx", headers=h.admin))
    head = cells[0]
    assert head[:3] == ["单位编号", "单位名称", "类别"] and "5 级（非常满意）" in head
    assert f"差评工单：{rates.NAMES['rectify_rate']}" in head
    by_unit = {row[0]: dict(zip(head, row, strict=True)) for row in cells[1:]}
    assert by_unit["u3"]["单位名称"] == "'=HYPERLINK(\"http://x\")" and by_unit["u3"]["状态"] == "暂无评价"
    assert by_unit["u1"]["有效评价数"] == 4 and by_unit["u1"]["状态"] == "评价数不足"  # (SCORE_MIN_N)
    report = book(h.client.get("/api/v1/periods/p1/report?format=xlsx&n=1", headers=h.admin))
    assert {row[report[0].index("榜单")] for row in report[1:]} <= {"最好", "最差", "评价数不足"}


def test_the_consoles_downloads_as_xlsx(tables, console):
    admin = console.as_role("admin")
    for path in ("/console/scores.xlsx?period=p1", "/console/cases/rates.xlsx?period=p1",
                 "/console/periods/p1/report.xlsx", "/console/audit.xlsx"):
        cells = book(admin.get(path))
        assert cells[0] and all(isinstance(h, str) and not h.isascii() for h in cells[0]), (path, cells[0])
    assert "rates.xlsx" in admin.get("/console/cases?period=p1").text  # the office's view of cases
    assert "audit.xlsx" in admin.get("/console/audit").text
    assert "report.xlsx" in admin.get("/console/periods").text
