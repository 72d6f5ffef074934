"""WeChat silent web authorization (scope snsapi_base): the openid becomes the rater.

The page is sent to WeChat's authorize URL; WeChat sends the citizen back with a code; the
server exchanges the code for the openid itself (the page is never trusted with an openid)
and refuses snapshot-mode users (is_snapshotuser=1), who have no real identity.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class WeChatError(RuntimeError):
    """WeChat said no, or could not be reached; ``unavailable`` tells which."""

    def __init__(self, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.unavailable = unavailable


class SnapshotUser(WeChatError):
    """The page was opened in WeChat's snapshot mode: there is no openid to rate with."""


@dataclass(frozen=True)
class WeChat:
    appid: str
    secret: str
    open_url: str  # https://open.weixin.qq.com
    api_url: str  # https://api.weixin.qq.com
    timeout: float

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urllib.parse.urlencode({
            "appid": self.appid, "redirect_uri": redirect_uri, "response_type": "code",
            "scope": "snsapi_base", "state": state})
        return f"{self.open_url.rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"

    def openid(self, code: str) -> str:
        """Exchange an authorization code for the citizen's openid (one HTTPS call)."""
        query = urllib.parse.urlencode({"appid": self.appid, "secret": self.secret, "code": code,
                                        "grant_type": "authorization_code"})
        url = f"{self.api_url.rstrip('/')}/sns/oauth2/access_token?{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:  # noqa: S310
                answer = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise WeChatError(f"WeChat did not answer: {exc}", unavailable=True) from exc
        if answer.get("errcode"):
            raise WeChatError(f"WeChat error {answer.get('errcode')}: {answer.get('errmsg')}")
        if answer.get("is_snapshotuser") == 1:
            raise SnapshotUser("snapshot mode")
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatError("WeChat answered without an openid")
        return openid
