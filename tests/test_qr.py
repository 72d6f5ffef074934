"""QR images decode to the window's URL; revoking and key rotation behave as posters need."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from ratingsvc import create_app, registry


def decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return results[0].text


@pytest.mark.parametrize("size", [64, 300, 1200])
def test_png_decodes_to_the_exact_rating_url(h, size):
    win = h.window()
    resp = h.client.get(f"/api/v1/windows/{win.id}/qr.png?size={size}", headers=h.admin)
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    url = h.client.get(f"/api/v1/windows/{win.id}", headers=h.admin).json["rating_url"]
    assert decode(resp.data) == url
    assert url.startswith("HTTPS://PJ.CAIDIAN.GOV.CN/R/") and url == url.upper()
    assert Image.open(io.BytesIO(resp.data)).size == (size, size)


def test_svg_is_an_svg_of_the_asked_size(h):
    win = h.window()
    resp = h.client.get(f"/api/v1/windows/{win.id}/qr.svg?size=400", headers=h.admin)
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    root = ET.fromstring(resp.data)
    assert root.tag.endswith("svg") and root.get("width") == "400" and root.get("height") == "400"


@pytest.mark.parametrize("size", ["63", "4097", "big", "-1"])
def test_bad_sizes_get_400(h, size):
    win = h.window()
    resp = h.client.get(f"/api/v1/windows/{win.id}/qr.png?size={size}", headers=h.admin)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_request"


def test_revoke_makes_old_posters_410_and_new_ones_work(h):
    win = h.window()
    old = h.token(win)
    resp = h.client.post(f"/api/v1/windows/{win.id}/revoke", headers=h.admin)
    assert resp.status_code == 200 and resp.json["epoch"] == 2
    new = resp.json["rating_url"].rsplit("/", 1)[1]
    assert new != old
    page = h.client.get(f"/r/{old}")
    assert page.status_code == 410 and "已失效" in page.text and page.mimetype == "text/html"
    scan = h.client.get(f"/api/v1/scan/{old}")
    assert scan.status_code == 410 and scan.json["error"]["code"] == "code_revoked"
    assert h.client.get(f"/r/{new}").status_code == 200
    png = h.client.get(f"/api/v1/windows/{win.id}/qr.png", headers=h.admin).data
    assert decode(png).endswith("/R/" + new)


@pytest.mark.parametrize("token", ["AAAA", "A" * 21, "0000", "{}", "A" * 300])
def test_invalid_tokens_get_404_never_500(h, token):
    h.window()
    page = h.client.get(f"/r/{token}")
    assert page.status_code == 404 and "无效" in page.text
    scan = h.client.get(f"/api/v1/scan/{token}")
    assert scan.status_code == 404 and scan.json["error"]["code"] == "invalid_code"


def test_token_of_a_window_that_does_not_exist_gets_404(h):
    h.window()
    assert h.client.get(f"/api/v1/scan/{h.signing.qr_token(999, 1)}").status_code == 404
    assert h.client.get(f"/api/v1/scan/{h.signing.qr_token(1, 9)}").status_code == 404  # future epoch


def test_key_rotation_keeps_old_posters_until_the_key_is_removed(config, r):
    first, second = "1:first-key-0123456789abcdef", "2:second-key-0123456789abcdef"
    old_app = create_app({**config, "QR_KEYS": first})
    r.sadd(registry.rkeys.CATEGORIES, "c")
    registry.save_category(r, registry.Category("c", "c"), create=False)
    registry.save_unit(r, registry.Unit("u1", "u", "c"), create=True)
    win = registry.create_window(r, "u1", "w")
    old_token = old_app.extensions["ratingsvc.signing"].qr_token(win.id, 1)

    rotated = create_app({**config, "QR_KEYS": f"{first},{second}"}).test_client()
    assert rotated.get(f"/api/v1/scan/{old_token}").status_code == 200
    new_token = create_app({**config, "QR_KEYS": f"{first},{second}"}).extensions[
        "ratingsvc.signing"].qr_token(win.id, 1)
    assert new_token != old_token

    removed = create_app({**config, "QR_KEYS": second}).test_client()
    assert removed.get(f"/api/v1/scan/{old_token}").status_code == 404
    assert removed.get(f"/api/v1/scan/{new_token}").status_code == 200


def test_a_window_whose_unit_record_is_gone_gets_404_not_500(h):
    win = h.window()
    h.r.delete(registry.UnitKeys(win.unit).info)
    assert h.client.get(f"/api/v1/scan/{h.token(win)}").status_code == 404
    assert h.client.get(f"/r/{h.token(win)}").status_code == 404
