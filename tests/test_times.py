"""Every time in an answer or a file has one form: ISO 8601 to the second with the offset of
TIMEZONE (+08:00 by default); every calendar day is an ISO date."""

from __future__ import annotations

import csv
import io
import json
import logging
import re

import pytest

from ratingsvc import create_app
from ratingsvc.logs import JsonFormatter
from tests.helpers import Helper, tap_from

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAYS = {"day", "start", "end"}  # calendar days (counted in TIMEZONE)
# Opaque values that hold digits: log and stream ids, hashes; and a window's opening hours
# (times of day, not points in time).
OPAQUE = {"id", "cursor", "rating_id", "decision", "chain", "digest", "rater", "ticket", "open",
          "export"}
# A day or a time written any way, inside any text; a run of 8+ digits (a YYYYMMDD day, a
# millisecond epoch) that is not part of a hexadecimal hash.
TIMEISH = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"
                     r"|(?<![0-9a-f])\d{8,}(?![0-9a-f])|\d{1,2}:\d{2}")


def bad_tokens(text: str) -> list[str]:
    return [t for t in TIMEISH.findall(text) if not (ISO_TIME.match(t) or ISO_DATE.match(t))]
TIME_NAMES = re.compile(r"^(t|time|day|start|end|at|created|as_of|until)$|_(at|ms|until|time)$")


def problems(value, where: str = "") -> list[str]:
    """Where a time-like value is not in the one form."""
    key = re.sub(r"(\[\d+\])+$", "", where.rsplit(".", 1)[-1])
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in problems(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in problems(v, f"{where}[{i}]")]
    if key in OPAQUE or value is None:
        return []
    if isinstance(value, str):
        if key in DAYS:
            return [] if ISO_DATE.match(value) else [f"{where}: {value!r} is not an ISO date"]
        if bad_tokens(value) or (TIME_NAMES.search(key) and not ISO_TIME.match(value)):
            return [f"{where}: {value!r} is not an ISO time with +08:00"]
        return []
    if isinstance(value, int | float) and not isinstance(value, bool) and (
            TIME_NAMES.search(key) or 10**9 < value < 10**14):
        return [f"{where}: {value!r} looks like a time as a number"]
    return []


def csv_problems(text: str, where: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return [f"{where} line {n} {cell!r}: not an ISO date or time" for n, row in enumerate(rows, 1)
            for cell in row if bad_tokens(cell)]


@pytest.fixture
def th(config, r, clock, tmp_path):
    """A period with counted taps, held taps, decisions; the export goes to tmp_path."""
    h = Helper(create_app({**config, "EXPORT_DIR": str(tmp_path), "RULE_MIN_TAP_MS": 800}), r, clock)
    h.tmp = tmp_path
    h.period("p1", "2026-05-01", "2026-06-01")
    a = h.window("u1", "A")
    h.client.patch(f"/api/v1/windows/{a.id}", headers=h.admin,
                   json={"hours": {"days": [1, 2, 3, 4, 5], "open": ["08:30-12:00"]}})
    tap_from(h, a, level=5)
    held = [tap_from(h, a, level=n, wait=0.1).json["rating_id"] for n in (1, 2)]
    h.client.post(f"/api/v1/review/{held[0]}", headers=h.admin, json={"action": "reject", "why": "x"})
    return h


def test_every_time_in_the_answers_and_files_has_one_form(th, clock):
    h = th
    scorer = h.key("scorer")
    seen: dict[str, object] = {}
    for path in ("/api/v1/review", "/api/v1/review/decisions", "/api/v1/periods",
                 "/api/v1/units/u1/windows", "/api/v1/scores?period=p1",
                 "/api/v1/units/u1/score?period=p1", "/api/v1/scores/changes?period=p1"):
        resp = h.client.get(path, headers=h.admin)
        assert resp.status_code == 200, (path, resp.json)
        seen[path] = resp.json
    assert seen["/api/v1/review"]["taps"] and seen["/api/v1/review/decisions"]
    assert seen["/api/v1/scores/changes?period=p1"]["changes"]

    clock.advance(86400)
    closed = h.client.post("/api/v1/periods/p1/close", headers=h.admin)
    assert closed.status_code == 201
    seen["close"] = closed.json
    for path in ("/api/v1/periods/p1/result", "/api/v1/periods/p1/report",
                 "/api/v1/scores?period=p1"):
        seen[path] = h.client.get(path, headers=scorer).json
    with h.client.get("/api/v1/periods/p1/export", headers=scorer) as resp:
        export = resp.data.decode()
    seen["export"] = [json.loads(line) for line in export.splitlines()]
    seen["p1.jsonl"] = [json.loads(line) for line in (h.tmp / "p1.jsonl").read_text().splitlines()]
    seen["p1.result.json"] = json.loads((h.tmp / "p1.result.json").read_text())
    assert seen["export"] and "closed_at" in seen["close"]

    found = [p for name, doc in seen.items() for p in problems(doc, name)]
    for path in ("/api/v1/scores?period=p1&format=csv", "/api/v1/periods/p1/report?format=csv"):
        found += csv_problems(h.client.get(path, headers=scorer).data.decode("utf-8"), path)
    assert found == [], "\n".join(found)
    assert seen["export"][0]["time"] == "2026-06-01T10:00:05+08:00"  # START + the tap's wait
    assert seen["close"]["closed_at"] == "2026-06-02T10:00:05+08:00"
    assert [c["day"] for c in seen["/api/v1/scores/changes?period=p1"]["changes"]][0] == "2026-06-01"


def test_a_log_line_has_its_time_with_the_offset():
    record = logging.LogRecord("ratingsvc.access", logging.INFO, __file__, 1, "request", None, None)
    record.created = 1780279205.25  # 2026-06-01T02:00:05Z
    line = json.loads(JsonFormatter("Asia/Shanghai").format(record))
    assert line["t"] == "2026-06-01T10:00:05+08:00"


def test_the_walker_finds_the_old_forms():
    assert problems({"time": "2026-06-01T02:00:05+00:00", "day": "20260601", "t": 1780279205000,
                     "closed_at": "2026-06-01T02:00:05.123Z", "held": "1|2|x|1780279205000",
                     "id": "1780279205000-0", "start": "2026-05-01"}) == [
        ".time: '2026-06-01T02:00:05+00:00' is not an ISO time with +08:00",
        ".day: '20260601' is not an ISO date", ".t: 1780279205000 looks like a time as a number",
        ".closed_at: '2026-06-01T02:00:05.123Z' is not an ISO time with +08:00",
        ".held: '1|2|x|1780279205000' is not an ISO time with +08:00"]
