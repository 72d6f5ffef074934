"""The score table as an .xlsx workbook: the CSV's rows and columns (views/scores.py table_rows)."""

from __future__ import annotations

import io

from flask import Response

from .scores import inert, pid_of, table_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def as_xlsx(result: dict) -> Response:
    """The CSV's rows as an .xlsx (a write-only workbook: rows streamed, not held as cells);
    text that looks like a formula made inert as in the CSV."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def cell(value):  # control characters have no place in a sheet (openpyxl refuses them)
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    book = Workbook(write_only=True)
    sheet = book.create_sheet("scores")
    for row in table_rows(result):
        sheet.append([inert(cell(value)) for value in row])
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="scores-{pid_of(result)}.xlsx"'})
