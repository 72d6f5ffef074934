"""WeChat, the official account's side of it.

Silent web authorization (scope snsapi_base): the openid becomes the rater. The page is sent
to WeChat's authorize URL; WeChat sends the citizen back with a code; the server exchanges the
code for the openid itself (the page is never trusted with an openid) and refuses
snapshot-mode users (is_snapshotuser=1), who have no real identity.

One-time subscription messages (一次性订阅消息): the citizen is sent to WeChat's confirm page
(subscribe_url), WeChat sends them back with their openid and action=confirm|cancel; one
message may then be sent to that openid (send_subscribe, with an access token of the account,
access_token). Nothing here logs or keeps an openid or a token.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class WeChatError(RuntimeError):
    """WeChat said no, or could not be reached; ``unavailable`` tells which."""

    def __init__(self, message: str, *, unavailable: bool = False, errcode: int = 0) -> None:
        super().__init__(message)
        self.unavailable = unavailable
        self.errcode = errcode


class SnapshotUser(WeChatError):
    """The page was opened in WeChat's snapshot mode: there is no openid to rate with."""


@dataclass(frozen=True)
class WeChat:
    appid: str
    secret: str
    open_url: str  # https://open.weixin.qq.com
    api_url: str  # https://api.weixin.qq.com
    timeout: float
    mp_url: str = "https://mp.weixin.qq.com"  # the subscription confirm page

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urllib.parse.urlencode({
            "appid": self.appid, "redirect_uri": redirect_uri, "response_type": "code",
            "scope": "snsapi_base", "state": state})
        return f"{self.open_url.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"

    def openid(self, code: str) -> str:
        """Exchange an authorization code for the citizen's openid (one HTTPS call)."""
        query = urllib.parse.urlencode({"appid": self.appid, "secret": self.secret, "code": code,
                                        "grant_type": "authorization_code"})
        answer = self._call(f"/sns/oauth2/access_token?{query}")
        if answer.get("is_snapshotuser") == 1:
            raise SnapshotUser("snapshot mode")
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatError("WeChat answered without an openid")
        return openid

    def subscribe_url(self, template_id: str, scene: int, redirect_url: str, reserved: str) -> str:
        """WeChat's confirm page of a one-time subscription to template_id."""
        query = urllib.parse.urlencode({
            "action": "get_confirm", "appid": self.appid, "scene": scene, "template_id": template_id,
            "redirect_url": redirect_url, "reserved": reserved})
        return f"{self.mp_url.rstrip('/')}/mp/subscribemsg?{query}#wechat_redirect"

    def access_token(self) -> tuple[str, int]:
        """A new access token of the official account and its lifetime in seconds (the caller
        keeps it: each new one ends the last one's life within 5 minutes)."""
        query = urllib.parse.urlencode({"grant_type": "client_credential", "appid": self.appid,
                                        "secret": self.secret})
        answer = self._call(f"/cgi-bin/token?{query}")
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatError("WeChat answered without an access token")
        return token, expires_in

    def send_subscribe(self, access_token: str, message: dict) -> None:
        """Send one one-time subscription message (touser, template_id, url, scene, title, data)."""
        query = urllib.parse.urlencode({"access_token": access_token})
        self._call(f"/cgi-bin/message/template/subscribe?{query}", message)

    def _call(self, path: str, body: dict | None = None) -> dict:
        """One call of WeChat's API: GET, or POST of a JSON body; its JSON answer. WeChatError
        when it cannot be reached or answers an errcode (the message names neither the URL nor
        what was sent)."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(f"{self.api_url.rstrip('/')}{path}", data=data,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                answer = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise WeChatError(f"WeChat did not answer: {exc}", unavailable=True) from exc
        if not isinstance(answer, dict):
            raise WeChatError("WeChat answered something that is not an object")
        if answer.get("errcode"):
            code = answer.get("errcode")
            raise WeChatError(f"WeChat error {code}: {answer.get('errmsg')}",
                              errcode=code if isinstance(code, int) else -1)
        return answer
