"""The console's score table: the API's compute(), sorted and filtered on the server, paged,
and downloaded as the API's CSV and as an .xlsx of the same rows."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from ratingsvc.scoring import STATUS_NAMES
from ratingsvc.views.sheet import HEADINGS
from tests.console_helpers import PASSWORD, browser_login, shot


@pytest.fixture
def scored(h):
    """Period p1 (1 May to 30 September: current on 1 June); u1 rated 5, 5, 4; u2 rated 1;
    u3 (another category, a formula-looking name) without ratings."""
    h.period("p1")
    a, b = h.window("u1", "A"), h.window("u2", "B")
    h.unit("u3", "c2", name="=HYPERLINK(\"http://x\")")
    for window, level in [(a, 5), (a, 5), (a, 4), (b, 1)]:
        assert h.tap(window, level, rater=h.rater()).status_code == 201
    return h


def units_in(page: str) -> list[str]:
    return re.findall(r"<td><code>(u\d+)</code></td>", page)


def same(cell) -> str | float:
    """A cell as the CSV and the sheet both mean it: a number as a number, empty as ""."""
    if cell is None:
        return ""
    try:
        return float(cell)
    except ValueError:
        return str(cell)


def sheet_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    width = len(rows[0])
    return [[same(c) for c in row + [None] * (width - len(row))] for row in rows]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_staff_see_the_current_periods_table_with_statuses_in_chinese(console, scored):
    page = console.as_role("staff").get("/console/scores").text
    assert "得分排名：p1" in page and units_in(page) == ["u1", "u2", "u3"]
    assert "暂无评价" in page and ">no_ratings<" not in page


def test_sorting_by_a_column_both_ways_none_last(console, scored):
    staff = console.as_role("staff")
    assert units_in(staff.get("/console/scores?sort=score&dir=desc").text) == ["u1", "u2", "u3"]
    assert units_in(staff.get("/console/scores?sort=score&dir=asc").text) == ["u2", "u1", "u3"]
    assert units_in(staff.get("/console/scores?sort=unit&dir=desc").text) == ["u3", "u2", "u1"]
    page = staff.get("/console/scores?sort=score&dir=desc").text
    assert 'href="/console/scores?period=p1&amp;sort=score&amp;dir=asc"' in page  # the header turns it
    assert staff.get("/console/scores?sort=nonsense&page=x").status_code == 200


def test_filters_category_status_and_search(console, scored):
    staff = console.as_role("staff")
    assert units_in(staff.get("/console/scores?category=c2").text) == ["u3"]
    assert units_in(staff.get("/console/scores?status=no_ratings").text) == ["u3"]
    assert units_in(staff.get("/console/scores?q=U2").text) == ["u2"]
    assert units_in(staff.get("/console/scores?q=hyperlink").text) == ["u3"]
    assert "没有符合条件的单位" in staff.get("/console/scores?q=nothing").text
    assert staff.get("/console/scores?period=nope").status_code == 404


def test_the_csv_is_the_apis_and_the_xlsx_holds_the_same_rows(console, scored):
    staff = console.as_role("staff")
    mine = staff.get("/console/scores.csv?period=p1")
    api = scored.client.get("/api/v1/scores?period=p1&format=csv", headers=scored.admin)
    assert mine.status_code == 200 and mine.data == api.data
    rows = csv_rows(mine.data)
    assert rows[3][1] == "'=HYPERLINK(\"http://x\")"  # inert, as in the API's CSV
    book = staff.get("/console/scores.xlsx?period=p1")
    assert 'filename="scores-p1.xlsx"' in book.headers["Content-Disposition"]
    cells = sheet_rows(book.data)  # the CSV's rows, with Chinese headings and statuses in words
    status = rows[0].index("status")
    worded = [[STATUS_NAMES[c] if i == status else c for i, c in enumerate(row)] for row in rows[1:]]
    assert cells[1:] == [[same(c) for c in row] for row in worded] and len(cells) == 4
    assert cells[0] == [HEADINGS[h] for h in rows[0]] and cells[0][:3] == ["单位编号", "单位名称", "类别"]
    assert cells[1][:4] == ["u1", "单位u1", "c1", 3.0] and cells[3][16] == "暂无评价"
    assert cells[3][1] == "'=HYPERLINK(\"http://x\")"  # text, inert as in the CSV
    assert not any(str(v).startswith("=") for row in cells for v in row)


def test_downloads_keep_the_filters_and_the_order(console, scored):
    staff = console.as_role("staff")
    rows = csv_rows(staff.get("/console/scores.csv?period=p1&status=insufficient&sort=score&dir=asc").data)
    assert [r[0] for r in rows[1:]] == ["u2", "u1"]
    assert [row[0] for row in sheet_rows(staff.get("/console/scores.xlsx?q=u3").data)] == ["单位编号", "u3"]


def test_a_city_is_paged_a_hundred_units_at_a_time(console, h):
    h.period("p1")
    for i in range(250):
        h.unit(f"u{i:03d}")
    staff = console.as_role("staff")
    first = staff.get("/console/scores").text
    assert len(units_in(first)) == 100 and "第 1 / 3 页" in first
    last = staff.get("/console/scores?page=3").text
    assert "第 3 / 3 页" in last and last.count("<tr>") - 1 == 50
    assert len(csv_rows(staff.get("/console/scores.csv").data)) == 251  # the download: every unit


def test_managers_get_nothing_of_the_table(console, scored):
    manager = console.as_role("manager", ["u1"])
    for path in ("/console/scores", "/console/scores.csv", "/console/scores.xlsx",
                 "/console/scores?period=p1&q=u1"):
        assert manager.get(path).status_code == 403, path


def test_no_period_yet(console):
    staff = console.as_role("staff")
    assert "还没有评议期" in staff.get("/console/scores").text
    assert staff.get("/console/scores.csv").status_code == 404


def test_the_table_in_a_browser_sorts_by_a_header(browser, live, console, scored):
    console.account("clerk", "staff", password=PASSWORD)
    page = browser.new_page(locale="zh-CN")
    try:
        browser_login(page, live, "clerk")
        page.goto(f"{live}/console/scores")
        shot(page, "scores-table")
        page.click("table.scores th >> text=得分")
        page.wait_for_load_state("networkidle")
        assert "sort=score" in page.url
        first = page.inner_text("table.scores tbody tr:first-child")
        assert "u2" in first  # ascending: u2's 1 before u1's 5, 5, 4
        shot(page, "scores-sorted")
    finally:
        page.close()
