"""The printed report of a district the size of the demo (examples/units.csv: 330 units in two
categories): each category starts a page, and no page ends with a heading. Printed to PDF in
Chromium and read back page by page with pdftotext."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from ratingsvc import recording, registry
from ratingsvc.rules import Rules
from ratingsvc.settings import defaults
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import need_binary

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "units.csv"
RULES = Rules.from_config({**defaults(), **GENEROUS, **SIGNALS_OFF})
MIN_N = 5
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def taps_for(i: int) -> int:
    """Of every 20 units: 14 ranked (5-9 taps), 4 with too few (1-4), 2 without any."""
    k = i % 20
    return 5 + i % 5 if k < 14 else 1 + i % 4 if k < 18 else 0


@pytest.fixture
def district(rules):
    """The example district's units, one window each, rated as taps_for says."""
    h = rules(SCORE_MIN_N=MIN_N)
    h.period("p1", "2026-05-01", "2026-09-30")
    now_ms = int(h.clock() * 1000)
    with EXAMPLE.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for cid in dict.fromkeys(row["category_id"] for row in rows):
        name = next(row["category_name"] for row in rows if row["category_id"] == cid)
        registry.save_category(h.r, registry.Category(cid, name), create=True)
    for i, row in enumerate(rows):
        registry.save_unit(h.r, registry.Unit(row["unit_id"], row["unit_name"], row["category_id"]),
                           create=True)
        win = registry.create_window(h.r, row["unit_id"], row["windows"].split("|")[0])
        for t in range(taps_for(i)):
            level = max(1, min(5, i % 5 + t % 3))
            recording.record(h.r, recording.Tap(row["unit_id"], win.id, 1, level, f"r{t}", now_ms,
                                                f"n{i}-{t}"), RULES, tz="Asia/Shanghai")
    h.categories = {cid: next(row["category_name"] for row in rows if row["category_id"] == cid)
                    for cid in dict.fromkeys(row["category_id"] for row in rows)}
    return h


def pages_of(pdf: Path) -> list[list[str]]:
    """Each page's non-empty lines, as pdftotext -layout reads them."""
    pdftotext = need_binary(shutil.which("pdftotext"), "pdftotext is missing (poppler-utils)")
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [[line.strip() for line in page.splitlines() if line.strip()] for page in text.split("\f")]
    return [p for p in pages if p]


def test_each_category_starts_a_page_and_no_page_ends_with_a_heading(district, browser):
    h = district
    resp = h.client.get("/api/v1/periods/p1/report?format=html", headers=h.admin)
    assert resp.status_code == 200
    tab = browser.new_page()
    tab.set_content(resp.data.decode())
    headings = [t.strip() for t in tab.locator("h1, h2, h3").all_inner_texts()]
    ARTIFACTS.mkdir(exist_ok=True)
    tab.set_viewport_size({"width": 900, "height": 1400})
    tab.screenshot(path=str(ARTIFACTS / "report-screen.png"))  # to look at, as on screen
    pdf = ARTIFACTS / "report-print.pdf"
    tab.pdf(path=str(pdf), format="A4")
    tab.close()
    pages = pages_of(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(ARTIFACTS / "report-print")],
                       check=True)
    assert len(headings) >= 2 + 2 * 3
    starts = [i for i, page in enumerate(pages) for name in h.categories.values() if name in page[:4]]
    assert len(starts) == len(h.categories), [page[:3] for page in pages]
    assert starts[0] == 0 and starts == sorted(set(starts))  # the first on page 1, each on its own
    for number, page in enumerate(pages, 1):
        assert page[-1] not in headings, f"page {number} of {len(pages)} ends with the heading {page[-1]!r}"
