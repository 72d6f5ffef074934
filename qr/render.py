"""QR codes as PNG or SVG bytes, at error correction Q, cached (encoding dominates the cost)."""

from __future__ import annotations

import base64
import io
import re
from functools import lru_cache

import qrcode
import qrcode.constants
from PIL import Image
from qrcode.image.svg import SvgPathImage

ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
BORDER = 4  # the quiet zone the standard asks for, in modules


def make(data: str) -> qrcode.QRCode:
    """The smallest QR code for data at level Q (alphanumeric mode when data allows it)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=BORDER)
    code.add_data(data)
    code.make(fit=True)
    return code


def _box_size(code: qrcode.QRCode, size: int) -> int:
    return max(1, size // (code.modules_count + 2 * BORDER))


@lru_cache(maxsize=1024)
def png(data: str, size: int = 512) -> bytes:
    """A size x size PNG: whole pixels per module (crisp for scanners), the rest quiet zone."""
    code = make(data)
    code.box_size = _box_size(code, size)
    drawn = code.make_image().get_image()
    canvas = Image.new("1", (max(size, drawn.width),) * 2, 1)
    offset = (canvas.width - drawn.width) // 2
    canvas.paste(drawn, (offset, offset))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=1024)
def svg(data: str, size: int = 512) -> bytes:
    """An SVG drawn as one path, with width and height of size pixels."""
    code = make(data)
    image = code.make_image(image_factory=SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    text = re.sub(r'width="[^"]*"', f'width="{size}"', out.getvalue().decode(), count=1)
    return re.sub(r'height="[^"]*"', f'height="{size}"', text, count=1).encode()


def svg_data_uri(data: str, size: int = 240) -> str:
    """The SVG as a data: URI, for an <img> in a page (the CSP allows data: images)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg(data, size)).decode()
