"""A table file as an office really has it: CSV in UTF-8 (with or without BOM) or GBK/GB18030
(what Excel on Chinese Windows saves as "CSV (逗号分隔)"), or an Excel .xlsx workbook.

`read_table(data)` finds the format and the encoding, says which it read, and gives the header
and the non-blank rows with their line numbers in the file. No Flask, no Redis here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

XLSX_MAGIC = b"PK\x03\x04"  # a zip file: .xlsx
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (an OLE compound file)
ENCODINGS = [("utf-8", "UTF-8"), ("gb18030", "GB18030 (GBK)")]


class TableError(ValueError):
    """The file cannot be read as a table; nothing was written."""


@dataclass
class Table:
    source: str  # what was read, e.g. "CSV, UTF-8 (BOM)" or "Excel .xlsx, sheet 单位"
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (line or sheet row number, cells), blank rows left out
    blank: int = 0  # blank rows skipped
    notes: list[str] = field(default_factory=list)


def _blank(cells: list[str]) -> bool:
    return all(not c.strip() for c in cells)


def _table(source: str, numbered: list[tuple[int, list[str]]]) -> Table:
    """The first non-blank row is the header; blank rows are counted and left out."""
    kept = [(n, cells) for n, cells in numbered if not _blank(cells)]
    if not kept:
        raise TableError("文件是空的，没有表头 / the file is empty: no header row")
    header = [c.strip() for c in kept[0][1]]
    while header and not header[-1]:  # Excel's trailing empty columns
        header.pop()
    rows = kept[1:]
    return Table(source, header, rows, blank=len(numbered) - len(kept))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding: UTF-8 strictly first, then GB18030 (a superset
    of GBK). Neither: a TableError naming the line where the likelier one failed."""
    failures = []
    for codec, label in ENCODINGS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            failures.append((exc.start, label))
            continue
        if text.startswith("\ufeff"):
            return text[1:], f"{label} (BOM)"
        return text, label
    offset, label = max(failures)  # the encoding that read furthest is the one meant
    line = _line_of(data, offset)
    raise TableError(
        f"第 {line} 行有无法识别的字节（既不是 UTF-8 也不是 GBK/GB18030），请在 Excel 中另存为"
        f"“CSV UTF-8”或 .xlsx / line {line}: bytes that are neither UTF-8 nor GBK/GB18030 "
        f"(read furthest as {label}); save the file as CSV UTF-8 or .xlsx")


def read_csv(data: bytes) -> Table:
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    numbered = []
    try:
        line = 1
        for cells in reader:
            numbered.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise TableError(f"第 {reader.line_num} 行：CSV 格式有误 / line {reader.line_num}: "
                         f"{exc}") from None
    return _table(f"CSV, {encoding}", numbered)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id typed as a number: 1001, not 1001.0
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def read_xlsx(data: bytes) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(f"无法读取 Excel 文件 / not a readable .xlsx workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        numbered = [(n, [_cell(v) for v in row])
                    for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
        table = _table(f"Excel .xlsx, 工作表 sheet {sheet.title!r}", numbered)
        if len(book.worksheets) > 1:
            table.notes.append(f"只读取第一个工作表 / only the first of {len(book.worksheets)} "
                               "sheets was read")
    finally:
        book.close()
    return table


def read_table(data: bytes) -> Table:
    """CSV or .xlsx, told apart by the file's first bytes (not by its name)."""
    if data.startswith(XLSX_MAGIC):
        return read_xlsx(data)
    if data.startswith(XLS_MAGIC):
        raise TableError("不支持旧版 Excel .xls 文件，请另存为 .xlsx 或“CSV UTF-8” / the old .xls "
                         "format is not read: save the file as .xlsx or CSV UTF-8")
    return read_csv(data)
