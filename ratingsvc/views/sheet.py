"""Tables as .xlsx workbooks (XlsxWriter) for people in the office: the rows of the matching
CSV download (the same function makes both), with the CSV's machine headers turned into
Chinese headings (HEADINGS), the statuses into words, and no cell that a spreadsheet would run:
text that looks like a formula keeps the CSV's leading apostrophe (views.scores.inert), and
the workbook writes every string as a string (no formulas, URLs or numbers read from text).
Numbers stay numbers. Written in constant-memory mode, row by row."""

from __future__ import annotations

import io
import re

from flask import Response

from .. import channels
from ..cases import rates
from ..schemas import LEVELS
from ..scoring import STATUS_NAMES
from .scores import inert, pid_of, table_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADINGS = {
    "unit": "单位编号", "name": "单位名称", "category": "类别", "n": "有效评价数", "pending": "待核",
    "rejected": "已剔除", "raw": "原始得分", "score": "得分（贝叶斯平均）", "ci95_low": "95%区间下限",
    "ci95_high": "95%区间上限", "good_rate": "好评率", "status": "状态", "rank": "排名",
    "excluded": "申诉剔除", "ranked": "参与排名数", "list": "榜单", "position": "位次",
    **{f"level_{lvl}": f"{lvl} 级（{name}）" for lvl, name in LEVELS.items()},
    **{f"cases_{f}": f"差评工单：{rates.NAMES[f]}" for f in rates.FIELDS},
    **{f: rates.NAMES[f] for f in rates.FIELDS},
    "volume": "办件量", "bad_rate": "差评率", "participation": "参评率", "unrated": "未评率",
    **{f"channel_{c}": f"评价数：{name}" for c, name in channels.NAMES.items()},
}
WORDS = {"status": STATUS_NAMES, "list": {"best": "最好", "worst": "最差", "insufficient": "评价数不足"}}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in a sheet's text


def xlsx_response(rows: list[list], filename: str, sheet: str) -> Response:
    """rows (the first: the CSV's headers) as a one-sheet workbook to download."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False,
                                     "in_memory": True})
    page = book.add_worksheet(sheet)
    bold = book.add_format({"bold": True, "bg_color": "#EEF1F6", "border": 1, "text_wrap": True})
    header, *body = rows
    for col, name in enumerate(header):
        heading = HEADINGS.get(name, name)
        page.write_string(0, col, heading, bold)
        page.set_column(col, col, max(8, min(28, 2 * len(heading) + 2)))
    words = [WORDS.get(name, {}) for name in header]
    for r, row in enumerate(body, 1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                page.write_string(r, col, inert(CONTROL.sub("", words[col].get(value, value))))
            elif isinstance(value, bool):
                page.write_boolean(r, col, value)
            else:
                page.write_number(r, col, value)
    page.freeze_panes(1, 0)
    book.close()
    return Response(out.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def as_xlsx(result: dict) -> Response:
    """The score table (its CSV's rows) as an .xlsx."""
    return xlsx_response(table_rows(result), f"scores-{pid_of(result)}.xlsx", "得分表")
