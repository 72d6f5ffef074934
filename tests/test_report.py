"""The ranking report: best and worst N per category, too few ratings apart; JSON, CSV, and a
printable page (printed to PDF in Chromium and read back)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess

import pytest

from ratingsvc import recording, registry
from ratingsvc.rules import Rules
from ratingsvc.settings import defaults
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import need_binary

RULES = Rules.from_config({**defaults(), **GENEROUS, **SIGNALS_OFF})


@pytest.fixture
def ranked(h):
    """Categories c1 and c2: 8 units each rated 40 times (unit k mostly level 1+k%5), plus
    2 units in c1 with 3 ratings."""
    h.period("p1", "2026-05-01", "2026-09-30")
    now_ms = int(h.clock() * 1000)
    for cat in ("c1", "c2"):
        for k in range(10 if cat == "c1" else 8):
            uid = f"{cat}-{k}"
            h.unit(uid, cat)
            win = h.window(uid)
            taps = 40 if k < 8 else 3
            for i in range(taps):
                level = 5 if i < k * 4 else 3 + (i % 3) - (k == 0)
                recording.record(h.r, recording.Tap(uid, win.id, 1, max(1, min(5, level)),
                                                    f"r{i}", now_ms, f"t-{uid}-{i}"),
                                 RULES, tz="Asia/Shanghai")
    registry.save_category(h.r, registry.Category("c1", "区直机关"), create=False)
    return h


def report(h, query="", n=3):
    resp = h.client.get(f"/api/v1/periods/p1/report?n={n}{query}", headers=h.key("scorer"))
    assert resp.status_code == 200, resp.json if resp.is_json else resp.status
    return resp


def test_best_and_worst_per_category_with_too_few_apart(ranked):
    body = report(ranked).json
    c1 = body["categories"][0]
    assert (c1["id"], c1["name"], c1["ranked"]) == ("c1", "区直机关", 8)
    assert [u["rank"] for u in c1["best"]] == [1, 2, 3]
    assert [u["rank"] for u in c1["worst"]] == [8, 7, 6]  # the worst first
    assert c1["best"][0]["unit"] == "c1-7" and c1["worst"][0]["unit"] == "c1-0"
    assert {u["unit"] for u in c1["insufficient"]} == {"c1-8", "c1-9"}
    assert all({"n", "ci95", "pending", "rejected", "score"} <= set(u) for u in c1["best"])
    assert [c["id"] for c in report(ranked, "&category=c2").json["categories"]] == ["c2"]


def test_csv(ranked):
    text = report(ranked, "&format=csv").data.decode("utf-8").lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["unit"] for r in rows if r["category"] == "c1" and r["list"] == "best"] == \
        ["c1-7", "c1-6", "c1-5"]
    assert len([r for r in rows if r["list"] == "insufficient"]) == 2


def test_the_printable_page_prints(ranked, tmp_path, browser):
    page = report(ranked, "&format=html")
    assert page.mimetype == "text/html"
    html = page.data.decode()
    assert html.count("<svg") == 4 and html.count("<circle") == 12  # 2 charts, 3 dots each, x2
    assert "区直机关" in html and "评价数不足" in html
    pdftotext = need_binary(shutil.which("pdftotext"), "pdftotext is missing (poppler-utils)")
    pdf = tmp_path / "report.pdf"
    tab = browser.new_page()
    tab.set_content(html)
    tab.pdf(path=str(pdf), format="A4")
    tab.close()
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "评价最好的 3 个单位" in text and "区直机关" in text and "单位c1-7" in text
    assert text.count("\f") >= 2  # a page per category
    artifacts = os.path.join(os.path.dirname(__file__), "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), os.path.join(artifacts, "report")],
                       check=True)


def test_a_closed_periods_report_says_so(ranked, clock):
    clock.advance(200 * 86400)
    assert ranked.client.post("/api/v1/periods/p1/close", headers=ranked.admin).status_code == 201
    body = report(ranked).json
    assert body["frozen"] is True and len(body["digest"]) == 64 and "已结束" in body["basis"]


@pytest.mark.parametrize(("query", "status"), [("?format=pdf", 400), ("?n=0", 400)])
def test_bad_report_queries(ranked, query, status):
    resp = ranked.client.get(f"/api/v1/periods/p1/report{query}", headers=ranked.admin)
    assert resp.status_code == status


def test_managers_do_not_get_the_report(ranked):
    m = ranked.key("manager", ("c1-0",))
    assert ranked.client.get("/api/v1/periods/p1/report", headers=m).status_code == 403


def test_best_and_worst_never_share_a_unit_with_fewer_than_2n_ranked(ranked):
    """c1 has 8 ranked units: with n=5 each list has 4 (8 // 2). c2, with one unit
    deactivated, has 7: with n=10 each list has 3, and the middle unit is on neither."""
    registry.save_unit(ranked.r, registry.Unit("c2-7", "单位c2-7", "c2", active=False), create=False)
    ten = report(ranked, "&category=c2", n=10).json["categories"][0]
    assert not {u["unit"] for u in ten["best"]} & {u["unit"] for u in ten["worst"]}
    assert [u["rank"] for u in ten["best"]] == [1, 2, 3] and [u["rank"] for u in ten["worst"]] == [7, 6, 5]
    assert (ten["ranked"], ten["listed"]) == (7, 3)
    c1 = report(ranked, n=5).json["categories"][0]
    assert [u["rank"] for u in c1["best"]] == [1, 2, 3, 4]
    assert [u["rank"] for u in c1["worst"]] == [8, 7, 6, 5]
    assert (c1["ranked"], c1["listed"]) == (8, 4)
    text = report(ranked, "&category=c2&format=csv", n=10).data.decode().lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["ranked"] for r in rows} == {"7"} and len({r["unit"] for r in rows}) == len(rows) == 6
    page = report(ranked, "&category=c2&format=html", n=10).data.decode()
    assert "参与排名 7 个单位" in page and "评价最好的 3 个单位" in page and "评价最差的 3 个单位" in page
    assert "居中的 1 个单位均不列入" in page


def test_a_unit_without_ratings_is_shown_as_having_none(ranked):
    """Not with the category mean and a 0-10 interval: no score, 无评价, set apart."""
    ranked.window("c1-none")
    [unit] = [u for u in ranked.client.get("/api/v1/scores?period=p1", headers=ranked.admin).json["units"]
              if u["unit"] == "c1-none"]
    assert (unit["score"], unit["ci95"], unit["rank"]) == (None, None, None)
    c1 = report(ranked).json["categories"][0]
    listed = {u["unit"]: u for u in c1["best"] + c1["worst"]}
    none = c1["insufficient"][-1]
    assert "c1-none" not in listed and none["unit"] == "c1-none"
    assert (none["score"], none["ci95"], none["n"], none["status"]) == (None, None, 0, "no_ratings")
    text = report(ranked, "&format=csv").data.decode().lstrip("\ufeff")
    [row] = [r for r in csv.DictReader(io.StringIO(text)) if r["unit"] == "c1-none"]
    assert (row["list"], row["score"], row["ci95_low"]) == ("insufficient", "", "")
    assert row["status"] == "no_ratings"
    page = report(ranked, "&format=html").data.decode()
    assert "其中无评价 1 个" in page and '<td>单位c1-none</td><td class="none">无评价</td><td>—</td>' in page
    scores = ranked.client.get("/api/v1/scores?period=p1&format=csv", headers=ranked.admin).data.decode()
    [row] = [r for r in csv.DictReader(io.StringIO(scores.lstrip("\ufeff"))) if r["unit"] == "c1-none"]
    assert (row["score"], row["ci95_low"], row["status"]) == ("", "", "no_ratings")
