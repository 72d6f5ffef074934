"""`ratingsvc units import FILE`: categories, units and windows from one table file.

Columns: category_id, category_name, unit_id, unit_name, windows (window names joined by "|"),
and an optional `active` (1/0, 是/否, 启用/停用, true/false, yes/no; empty: leave as it is) and
`hours`: the unit's opening hours, the default of its windows that have none of their own
("1-5 08:30-12:00,14:00-17:30", 1 = Monday; empty: leave as it is).
The file is CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx (ratingsvc.tablefile). Every row
is checked before anything is written; ratingsvc.importplan says what an import would change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .hours import compile_hours, parse_text
from .registry import ID_RE
from .tablefile import Table, TableError, read_table

COLUMNS = ["category_id", "category_name", "unit_id", "unit_name", "windows"]
OPTIONAL = ["active", "hours"]
YES = {"1", "true", "yes", "y", "是", "启用", "有效"}
NO = {"0", "false", "no", "n", "否", "停用", "无效"}
FIELD_ZH = {"category_id": "类别编号", "category_name": "类别名称", "unit_id": "单位编号",
            "unit_name": "单位名称", "windows": "窗口", "active": "启用", "hours": "办公时间"}


class CsvError(TableError):
    """The file is not valid; nothing was written. problems: every one, as (line or None, text)."""

    def __init__(self, message: str, problems: list[tuple[int | None, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [(None, message)]


@dataclass
class Row:
    line: int
    category_id: str
    category_name: str
    unit_id: str
    unit_name: str
    windows: list[str]
    active: bool | None = None  # None: the file does not say
    hours: str | None = None  # the unit's default opening hours, compiled (hours.py); None: not said


@dataclass
class ImportFile:
    table: Table
    rows: list[Row]


def _columns(header: list[str]) -> dict[str, int]:
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL]
    if missing or unknown or len(set(header)) != len(header):
        raise CsvError(f"表头应为 / the header must be: {','.join(COLUMNS)}[,active][,hours]"
                       + (f"；缺少 missing: {','.join(missing)}" if missing else "")
                       + (f"；多余 unknown: {','.join(unknown)}" if unknown else ""))
    return {name: i for i, name in enumerate(header)}


def _active(value: str) -> bool | None | str:
    v = value.strip().lower()
    if not v:
        return None
    return True if v in YES else False if v in NO else "bad"


def parse(table: Table) -> list[Row]:
    at = _columns(table.header)
    rows: list[Row] = []
    problems: list[tuple[int | None, str]] = []
    for line, cells in table.rows:
        cells = cells + [""] * (len(table.header) - len(cells))
        values = {k: cells[i].strip() for k, i in at.items()}
        windows = list(dict.fromkeys(w.strip() for w in values["windows"].split("|") if w.strip()))
        active = _active(values.get("active", ""))
        bad = [k for k in ("category_id", "unit_id") if not ID_RE.match(values[k])]
        bad += [k for k in ("category_name", "unit_name") if not 0 < len(values[k]) <= 100]
        if not windows or any(len(w) > 100 for w in windows):
            bad.append("windows")
        if active == "bad":
            bad.append("active")
        hours = None
        if values.get("hours"):
            try:
                hours = compile_hours(parse_text(values["hours"]))
            except ValueError:
                bad.append("hours")
        if any(c.strip() for c in cells[len(table.header):]):
            bad.append("（表头之外的单元格 cells beyond the header）")
        if bad:
            names = "、".join(FIELD_ZH.get(k, k) for k in bad)
            problems.append((line, f"第 {line} 行 {names} 不合规 (line {line}: bad {', '.join(bad)})"))
            continue
        rows.append(Row(line, values["category_id"], values["category_name"], values["unit_id"],
                        values["unit_name"], windows, active if isinstance(active, bool) else None,
                        hours))
    dupes = [u for u, n in Counter(r.unit_id for r in rows).items() if n > 1]
    if dupes:
        problems.append((None, f"单位重复出现 / units listed twice: {', '.join(dupes[:10])}"))
    if problems:
        raise CsvError("；".join(text for _, text in problems[:20]) + ("……" if len(problems) > 20 else ""),
                       problems)
    return rows


def read_file(path: str | Path) -> ImportFile:
    """Read and check a whole file: CSV in any of its encodings, or .xlsx."""
    return read_data(Path(path).read_bytes())


def read_data(data: bytes) -> ImportFile:
    """Read and check a whole file's bytes (an upload, say)."""
    table = read_table(data)
    return ImportFile(table, parse(table))
