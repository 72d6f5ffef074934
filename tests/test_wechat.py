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
    """open.weixin.qq.com's authorize page and api.weixin.qq.com's sns/oauth2/access_token; for
    one-time subscription messages, mp.weixin.qq.com's confirm page (mp/subscribemsg) and
    api.weixin.qq.com's cgi-bin/token and cgi-bin/message/template/subscribe."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.user = {"openid": "oUser1", "snapshot": False}  # who holds the phone
        self.codes: dict[str, dict] = {}
        self.exchanges: list[dict] = []
        self.subscribe = "confirm"  # what the phone's holder taps on the confirm page (or "cancel")
        self.consents: list[tuple[str, str, str]] = []  # (openid, template id, scene) confirmed, unused
        self.tokens: list[str] = []  # access tokens given, the last one valid
        self.messages: list[dict] = []  # subscription messages accepted
        self.fail = ""  # "token" or "send": answer WeChat's system error (-1), "down": HTTP 502


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
        if url.path == "/mp/subscribemsg":
            assert q["action"] == "get_confirm" and q["appid"] == APPID and q["reserved"].isalnum()
            assert 0 <= int(q["scene"]) <= 10000 and len(q["reserved"]) <= 128
            if self.server.subscribe == "confirm":
                self.server.consents.append((self.server.user["openid"], q["template_id"], q["scene"]))
            back = {"openid": self.server.user["openid"], "template_id": q["template_id"],
                    "action": self.server.subscribe, "scene": q["scene"], "reserved": q["reserved"]}
            self.send_response(302)
            self.send_header("Location", f"{q['redirect_url']}?{urllib.parse.urlencode(back)}")
            self.end_headers()
            return
        if url.path == "/cgi-bin/token":
            if self.server.fail in ("token", "down"):
                status = 502 if self.server.fail == "down" else 200
                return self.answer({"errcode": -1, "errmsg": "system error"}, status)
            if q.get("appid") != APPID or q.get("secret") != SECRET:
                return self.answer({"errcode": 40125, "errmsg": "invalid appsecret"})
            if q.get("grant_type") != "client_credential":
                return self.answer({"errcode": 40002, "errmsg": "invalid grant_type"})
            self.server.tokens.append(secrets.token_hex(16))
            return self.answer({"access_token": self.server.tokens[-1], "expires_in": 7200})
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

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if url.path != "/cgi-bin/message/template/subscribe":
            return self.send_error(404)
        if self.server.fail == "down":
            return self.answer({"errcode": -1, "errmsg": "system error"}, 502)
        if self.server.fail == "send":
            return self.answer({"errcode": -1, "errmsg": "system error"})
        if not self.server.tokens or q.get("access_token") != self.server.tokens[-1]:
            return self.answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        missing = [k for k in ("touser", "template_id", "url", "scene", "title", "data") if k not in body]
        if missing or not isinstance(body["data"].get("content", {}).get("value"), str) \
                or len(body["title"]) > 15 or len(body["data"]["content"]["value"]) > 200:
            return self.answer({"errcode": 47003, "errmsg": f"argument invalid! {missing}"})
        consent = (body["touser"], body["template_id"], body["scene"])
        if consent not in self.server.consents:
            return self.answer({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        self.server.consents.remove(consent)  # one consent, one message
        self.server.messages.append(body)
        return self.answer({"errcode": 0, "errmsg": "ok"})

    def answer(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


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
