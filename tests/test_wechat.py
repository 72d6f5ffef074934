"""WeChat identity against a local stand-in that speaks WeChat's documented requests and answers."""

from __future__ import annotations

import http.client
import json
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ratingsvc import create_app, registry
from ratingsvc.embedded import free_port
from tests.conftest import PUBLIC_URL
from tests.helpers import Helper

APPID, SECRET = "wx1234567890abcdef", "a" * 32


class StandIn(ThreadingHTTPServer):
    """open.weixin.qq.com's authorize page and api.weixin.qq.com's sns/oauth2/access_token."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.user = {"openid": "oUser1", "snapshot": False}  # who holds the phone
        self.codes: dict[str, dict] = {}
        self.exchanges: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/connect/oauth2/authorize":
            assert q["appid"] == APPID and q["scope"] == "snsapi_base" and q["response_type"] == "code"
            code = secrets.token_hex(8)
            self.server.codes[code] = dict(self.server.user)
            back = f"{q['redirect_uri']}?{urllib.parse.urlencode({'code': code, 'state': q['state']})}"
            self.send_response(302)
            self.send_header("Location", back)
            self.end_headers()
            return
        if url.path == "/sns/oauth2/access_token":
            self.server.exchanges.append(q)
            user = self.server.codes.pop(q.get("code", ""), None)
            if q.get("appid") != APPID or q.get("secret") != SECRET:
                body = {"errcode": 40125, "errmsg": "invalid appsecret"}
            elif q.get("grant_type") != "authorization_code" or user is None:
                body = {"errcode": 40029, "errmsg": "invalid code"}
            else:
                body = {"access_token": "ACCESS_TOKEN", "expires_in": 7200, "refresh_token": "R",
                        "openid": user["openid"], "scope": "snsapi_base"}
                if user["snapshot"]:
                    body["is_snapshotuser"] = 1
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_error(404)


@pytest.fixture
def wechat():
    server = StandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def wx(config, r, clock, wechat):
    app = create_app({**config, "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
                      "WECHAT_OPEN_URL": wechat.url, "WECHAT_API_URL": wechat.url})
    h = Helper(app, r, clock)
    h.win = h.window()
    return h


def login(h, phone, wechat, token=None):
    """The page sends the phone to WeChat and back; returns the answer to the way back."""
    token = token or h.token(h.win)
    first = phone.get(f"/r/{token}")
    assert first.status_code == 302
    to = urllib.parse.urlsplit(first.headers["Location"])
    assert f"{to.scheme}://{to.netloc}" == wechat.url and to.fragment == "wechat_redirect"
    q = dict(urllib.parse.parse_qsl(to.query))
    assert q["redirect_uri"] == f"{PUBLIC_URL}/r/{token}" and q["state"].isalnum()
    assert SECRET not in first.headers["Location"]
    conn = http.client.HTTPConnection("127.0.0.1", wechat.server_address[1])
    conn.request("GET", f"{to.path}?{to.query}")
    back = conn.getresponse().getheader("Location")
    conn.close()
    back_url = urllib.parse.urlsplit(back)
    return phone.get(f"{back_url.path}?{back_url.query}")


def rate(h, phone, level=5):
    ticket = phone.get(f"/api/v1/scan/{h.token(h.win)}").json["ticket"]
    return phone.post("/api/v1/ratings", json={"ticket": ticket, "level": level})


def test_the_openid_is_the_rater_and_survives_cleared_cookies(wx, wechat):
    phone = wx.rater()
    back = login(wx, phone, wechat)
    assert back.status_code == 302 and back.headers["Location"] == f"/r/{wx.token(wx.win)}"
    assert "rs_wx=" in back.headers["Set-Cookie"] and "HttpOnly" in back.headers["Set-Cookie"]
    assert wechat.exchanges[-1]["secret"] == SECRET  # the server exchanged the code itself
    assert phone.get(f"/r/{wx.token(wx.win)}").status_code == 200
    assert rate(wx, phone).status_code == 201
    log = wx.r.xrange(registry.UnitKeys("u1").log)
    assert log[-1][1]["r"] == wx.signing.person_hash("openid", "oUser1")
    same_person = wx.rater()  # cookies cleared: WeChat still knows who it is
    login(wx, same_person, wechat)
    assert rate(wx, same_person).json["status"] == "duplicate"
    wechat.user = {"openid": "oUser2", "snapshot": False}
    other = wx.rater()
    login(wx, other, wechat)
    assert rate(wx, other).status_code == 201
    assert "oUser1" not in str(wx.r.xrange(registry.UnitKeys("u1").log))


def test_snapshot_users_are_refused(wx, wechat):
    wechat.user = {"openid": "oSnap", "snapshot": True}
    phone = wx.rater()
    back = login(wx, phone, wechat)
    assert back.status_code == 403 and "使用完整服务" in back.text
    assert "Set-Cookie" not in back.headers
    resp = phone.get(f"/api/v1/scan/{wx.token(wx.win)}")
    assert resp.status_code == 403 and resp.json["error"]["code"] == "wechat_required"


def test_without_wechat_identity_there_is_no_ticket(wx):
    phone = wx.rater()
    phone.set_cookie("rs_wx", "forged-openid-cookie")
    resp = phone.get(f"/api/v1/scan/{wx.token(wx.win)}")
    assert resp.status_code == 403 and resp.json["error"]["code"] == "wechat_required"
    page = wx.rater().get(f"/r/{wx.token(wx.win)}")
    assert page.status_code == 302  # off to WeChat, never a page without an identity


def test_a_tampered_state_or_a_used_code_is_refused(wx, wechat):
    token = wx.token(wx.win)
    phone = wx.rater()
    first = phone.get(f"/r/{token}")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(first.headers["Location"]).query))
    bad = phone.get(f"/r/{token}?code=whatever&state={q['state'][:-1]}0")
    assert bad.status_code == 403 and not wechat.exchanges  # never asked WeChat
    used = phone.get(f"/r/{token}?code=unknown&state={q['state']}")
    assert used.status_code == 403 and "授权失败" in used.text


def test_wechat_down_is_503(config, r, clock):
    app = create_app({**config, "WECHAT_APPID": APPID, "WECHAT_SECRET": SECRET,
                      "WECHAT_API_URL": f"http://127.0.0.1:{free_port()}", "WECHAT_TIMEOUT": 0.5})
    h = Helper(app, r, clock)
    win = h.window()
    token = h.token(win)
    state = h.signing.wechat_state(token)
    resp = h.client.get(f"/r/{token}?code=abc&state={state}")
    assert resp.status_code == 503 and "微信服务繁忙" in resp.text


def test_the_page_cannot_send_an_openid(wx, wechat):
    phone = wx.rater()
    login(wx, phone, wechat)
    ticket = phone.get(f"/api/v1/scan/{wx.token(wx.win)}").json["ticket"]
    resp = phone.post("/api/v1/ratings", json={"ticket": ticket, "level": 5, "openid": "oSomeoneElse"})
    assert resp.status_code == 400
