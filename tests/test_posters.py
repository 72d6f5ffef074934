"""Posters: real PDFs, rendered with poppler, read back as text and as a QR code."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from ratingsvc import registry
from tests.conftest import PUBLIC_URL
from tests.helpers import need_binary


def tool(name: str) -> str:
    return need_binary(shutil.which(name), f"{name} is not installed (Debian's poppler-utils)")


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run([tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)


def pdf_text(pdf: Path) -> str:
    out = subprocess.run([tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True)
    return out.stdout


def pdf_qr_codes(pdf: Path, page: int = 1) -> list[str]:
    prefix = pdf.with_suffix("")
    subprocess.run([tool("pdftoppm"), "-f", str(page), "-l", str(page), "-r", "100", "-png",
                    "-singlefile", str(pdf), str(prefix)], check=True)
    return sorted(r.text for r in zxingcpp.read_barcodes(Image.open(f"{prefix}.png")))


@pytest.fixture
def unit(h, tmp_path):
    h.unit("u1", name="蔡甸区政务服务和大数据管理局")
    h.wins = [h.window("u1", name) for name in ("综合受理窗口", "不动产登记窗口", "社保窗口")]
    h.period("p1", "2026-05-01", "2026-09-30")
    h.tmp = tmp_path
    return h


def fetch(h, path: str, name: str = "poster.pdf", headers=None) -> Path:
    resp = h.client.get(path, headers=headers or h.admin)
    assert resp.status_code == 200, resp.json
    assert resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF")
    out = h.tmp / name
    out.write_bytes(resp.data)
    return out


def url_of(h, window) -> str:
    return h.client.get(f"/api/v1/windows/{window.id}", headers=h.admin).json["rating_url"]


def test_a4_poster_says_who_what_and_when_and_its_qr_decodes(unit):
    h, win = unit, unit.wins[0]
    pdf = fetch(h, f"/api/v1/windows/{win.id}/poster.pdf")
    info = pdf_info(pdf)
    assert info["Pages"].strip() == "1" and "595.276 x 841.89" in info["Page size"]
    text = pdf_text(pdf)
    for words in ["蔡甸区政务服务和大数据管理局", "综合受理窗口", "微信扫一扫，评价本窗口服务",
                  f"编号 W{win.id:06d}-1", "评议期 2026年5月1日至2026年9月30日"]:
        assert words in text, words
    assert pdf_qr_codes(pdf) == [url_of(h, win)]
    assert url_of(h, win).startswith(PUBLIC_URL.upper())


@pytest.mark.parametrize(("fmt", "size", "codes"), [("a5", "419.528 x 595.276", 1),
                                                    ("tent", "841.89 x 595.276", 2)])
def test_a5_and_table_tent(unit, fmt, size, codes):
    win = unit.wins[1]
    pdf = fetch(unit, f"/api/v1/windows/{win.id}/poster.pdf?format={fmt}")
    assert size in pdf_info(pdf)["Page size"]
    assert pdf_qr_codes(pdf) == [url_of(unit, win)] * codes  # a tent has a face each side
    assert "不动产登记窗口" in pdf_text(pdf)


def test_a_units_posters_one_active_window_a_page(unit):
    h = unit
    registry.update_window(h.r, h.wins[2].id, active=False)
    pdf = fetch(h, "/api/v1/units/u1/posters.pdf")
    assert pdf_info(pdf)["Pages"].strip() == "2"
    assert pdf_qr_codes(pdf, 2) == [url_of(h, h.wins[1])]


def test_a_revoked_poster_stops_working_and_the_reprint_works(unit):
    h, win = unit, unit.wins[0]
    old = pdf_qr_codes(fetch(h, f"/api/v1/windows/{win.id}/poster.pdf", "old.pdf"))[0]
    path = "/" + old.split("/", 3)[3]  # /R/<token>
    assert h.client.get(path).status_code == 200
    h.client.post(f"/api/v1/windows/{win.id}/revoke", headers=h.admin)
    assert h.client.get(path).status_code == 410
    new = pdf_qr_codes(fetch(h, f"/api/v1/windows/{win.id}/poster.pdf", "new.pdf"))[0]
    assert new != old and h.client.get("/" + new.split("/", 3)[3]).status_code == 200
    assert f"W{win.id:06d}-2" in pdf_text(h.tmp / "new.pdf")


def test_managers_print_only_their_own_units_posters(unit):
    h = unit
    other = h.window("u2", "别的窗口")
    m = h.key("manager", ("u1",))
    assert h.client.get(f"/api/v1/windows/{h.wins[0].id}/poster.pdf", headers=m).status_code == 200
    assert h.client.get("/api/v1/units/u1/posters.pdf", headers=m).status_code == 200
    for path in [f"/api/v1/windows/{other.id}/poster.pdf", "/api/v1/units/u2/posters.pdf"]:
        resp = h.client.get(path, headers=m)
        assert resp.status_code == 403 and resp.json["error"]["code"] == "other_unit"
    assert h.client.get("/api/v1/units/u1/posters.pdf", headers=h.key("scorer")).status_code == 403


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/windows/{wid}/poster.pdf?format=a3", 400), ("/api/v1/windows/999/poster.pdf", 404),
    ("/api/v1/units/ghost/posters.pdf", 404), ("/api/v1/windows/{wid}/poster.pdf?period=ghost", 404)])
def test_bad_poster_requests(unit, path, status):
    resp = unit.client.get(path.format(wid=unit.wins[0].id), headers=unit.admin)
    assert resp.status_code == status and "error" in resp.json


def test_the_command_line_prints_a_units_posters(unit, runner):
    out = unit.tmp / "u1.pdf"
    result = runner.invoke(["posters", "--unit", "u1", "-o", str(out), "--format", "a5"])
    assert result.exit_code == 0 and "3 posters (a5)" in result.output
    assert pdf_info(out)["Pages"].strip() == "3"
    assert runner.invoke(["posters", "--unit", "ghost", "-o", str(out)]).exit_code != 0
