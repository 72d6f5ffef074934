"""Printable posters (PDF): unit and window names, a call to action, the QR code large enough
to scan from a metre away, a short code naming the poster, and the evaluation period.

Chinese text uses the Adobe-GB1 CID font STSong-Light, which PDF viewers carry (nothing is
embedded); the QR is drawn as vector paths, so it is sharp at any print size.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import qrcode
import qrcode.constants
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# format -> (page size, QR side). A code scans from about ten times its width: 12 cm on A4.
FORMATS = {"a4": (A4, 120 * mm), "a5": (A5, 90 * mm), "tent": (landscape(A4), 72 * mm)}
CALL = "微信扫一扫，评价本窗口服务"
HINT = "轻触一下即可完成评价，无需注册"


@dataclass(frozen=True)
class Poster:
    unit: str
    window: str
    url: str  # what the QR encodes
    code: str  # names the poster: window and epoch, e.g. "W000123-2"
    period: str  # e.g. "评议期 2026年5月1日至2026年9月30日", or ""


def draw_qr(c: Canvas, data: str, x: float, y: float, side: float) -> None:
    """The QR's dark modules as one path: a rectangle per horizontal run, overlapping the next
    row a hair so that no seams show between rows."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = side / len(matrix)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        top = y + side - (r + 1) * cell
        col = 0
        while col < len(row):
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                path.rect(x + start * cell, top - cell * 0.02, (col - start) * cell, cell * 1.02)
            col += 1
    c.drawPath(path, stroke=0, fill=1)


def _panel(c: Canvas, p: Poster, cx: float, top: float, width: float, qr_side: float) -> None:
    """One poster face, centred on cx, from top downwards."""
    scale = qr_side / (120 * mm)
    c.setFont(FONT, 14 * scale)
    c.drawCentredString(cx, top - 18 * scale, "窗口服务评价")
    c.setFont(FONT, min(34 * scale, width * 0.85 / max(len(p.unit), 1)))
    c.drawCentredString(cx, top - 62 * scale, p.unit)
    c.setFont(FONT, 22 * scale)
    c.drawCentredString(cx, top - 96 * scale, p.window)
    qr_top = top - 116 * scale
    draw_qr(c, p.url, cx - qr_side / 2, qr_top - qr_side, qr_side)
    c.setFont(FONT, 11 * scale)
    c.drawCentredString(cx, qr_top - qr_side - 16 * scale, f"编号 {p.code}")
    c.setFont(FONT, 26 * scale)
    c.drawCentredString(cx, qr_top - qr_side - 52 * scale, CALL)
    c.setFont(FONT, 14 * scale)
    c.drawCentredString(cx, qr_top - qr_side - 76 * scale, HINT)
    if p.period:
        c.drawCentredString(cx, qr_top - qr_side - 98 * scale, p.period)


def _tent_face(c: Canvas, p: Poster, w: float, h: float, qr_side: float) -> None:
    """One face of a table tent (the lower half of the sheet): the QR left, words right."""
    x, top = 22 * mm, h / 2 - 14 * mm
    draw_qr(c, p.url, x, top - qr_side, qr_side)
    tx = x + qr_side + 14 * mm
    width = w - tx - 16 * mm
    c.setFont(FONT, 10)
    c.drawString(tx, top - 10, "窗口服务评价")
    c.setFont(FONT, min(24, width / max(len(p.unit), 1)))
    c.drawString(tx, top - 40, p.unit)
    c.setFont(FONT, 17)
    c.drawString(tx, top - 66, p.window)
    c.setFont(FONT, min(20, width / len(CALL)))
    c.drawString(tx, top - 110, CALL)
    c.setFont(FONT, 11)
    c.drawString(tx, top - 130, HINT)
    c.drawString(tx, top - 150, p.period)
    c.setFont(FONT, 9)
    c.drawString(tx, top - qr_side + 2, f"编号 {p.code}")


def render(posters: Iterable[Poster], fmt: str = "a4") -> bytes:
    """A PDF with one poster a page. 'tent': two faces, the upper one upside down, to fold."""
    size, qr_side = FORMATS[fmt]
    out = io.BytesIO()
    c = Canvas(out, pagesize=size, pageCompression=1)
    c.setTitle("窗口服务评价二维码")
    w, h = size
    for p in posters:
        if fmt == "tent":
            _tent_face(c, p, w, h, qr_side)
            c.saveState()
            c.translate(w, h)
            c.rotate(180)
            _tent_face(c, p, w, h, qr_side)
            c.restoreState()
            c.setDash(3, 3)
            c.line(10 * mm, h / 2, w - 10 * mm, h / 2)  # fold here
        else:
            _panel(c, p, w / 2, h - 20 * mm, w, qr_side)
        c.showPage()
    c.save()
    return out.getvalue()
