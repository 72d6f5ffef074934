"""The citizen's WeChat notice of the reply to their case (公众号一次性订阅消息).

On the thanks screen after a 差评 the citizen may allow one notice (WeChat's confirm page);
WeChat sends them back with their openid, which is kept for that case only, sealed (AES-GCM,
bound to the rating id) in the unit's ``ws`` hash: never the raw openid in Redis or a log.
When the unit replies (actions.case_step's on_reply) the openid is taken out (sent or not:
one consent allows one message) and the notice sent with the case link. A sealed openid whose
case closed or was voided before a reply is dropped by forget_finished (the case sweep) or
when the citizen looks at the case. No Flask here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis

from .. import registry, rkeys
from ..rkeys import UnitKeys
from ..signing import Signing
from ..wechat import WeChat, WeChatError
from . import store
from .citizen import STATE_WORDS

log = logging.getLogger(__name__)
SCENE = 1  # WeChat's subscription scene (0-10000): this product has one
OPENID = "wechat-openid"  # sealing purposes
TOKEN = "wechat-access-token"
TOKEN_MARGIN = 300  # seconds before its end that an access token is no longer used
TOKEN_ERRORS = (40001, 40014, 42001)  # invalid or expired access token: get a new one, once
TITLE = "差评处理结果通知"  # WeChat: at most 15 characters
CONTENT_MAX = 200  # WeChat: at most 200 characters
WAITING = ("new", "verified")  # a case still to be replied to


def keep(r: redis.Redis, signing: Signing, case: store.Case, openid: str) -> None:
    """Keep the consenting citizen's openid for the case's reply, sealed."""
    r.hset(UnitKeys(case.unit).wechat_subscribers, case.id, signing.seal(OPENID, openid, case.rating_id))


def is_rater(r: redis.Redis, signing: Signing, case: store.Case, openid: str) -> bool:
    """Whether openid is that of the person who made the case's tap (its rater hash)."""
    found = r.xrange(UnitKeys(case.unit).log, case.id, case.id)
    return bool(found) and found[0][1].get("r") == signing.person_hash("openid", openid)


def subscribed(r: redis.Redis, unit: str, stream_id: str) -> bool:
    return bool(r.hexists(UnitKeys(unit).wechat_subscribers, stream_id))


def forget(r: redis.Redis, unit: str, stream_id: str) -> None:
    r.hdel(UnitKeys(unit).wechat_subscribers, stream_id)


def take(r: redis.Redis, unit: str, stream_id: str) -> str | None:
    """The sealed openid of the case, removed in the same step (at most one notice)."""
    key = UnitKeys(unit).wechat_subscribers
    with r.pipeline(transaction=True) as p:
        p.hget(key, stream_id)
        p.hdel(key, stream_id)
        sealed, _ = p.execute()
    return sealed


def forget_finished(r: redis.Redis, units: list[str]) -> int:
    """Drop the sealed openids of cases no longer waiting for a reply (closed, voided, or
    replied without a notice); run it with the cases' sweep. Returns how many."""
    dropped = 0
    for unit in units:
        keys = UnitKeys(unit)
        waiting = r.hkeys(keys.wechat_subscribers)
        if not waiting:
            continue
        raws = r.hmget(keys.cases, waiting)
        done = [sid for sid, raw in zip(waiting, raws, strict=True)
                if raw is None or store.from_json(unit, sid, raw).state not in WAITING]
        if done:
            dropped += int(r.hdel(keys.wechat_subscribers, *done))
    return dropped


def content(case: store.Case, unit_name: str) -> str:
    """The notice's words: who answered, the reply (cut to fit) and what the citizen may do."""
    head = f"{unit_name}已就您的评价作出答复（{STATE_WORDS.get(case.state, '')}）："
    tail = "。点击查看详情，并对处理结果作出评价。"
    room = CONTENT_MAX - len(head) - len(tail)
    reply = case.reply.strip().rstrip("。")
    if len(reply) > room:
        reply = reply[:room - 1] + "…"
    return head + reply + tail


@dataclass
class Tokens:
    """The official account's access token, kept in Redis (sealed) for every worker until
    TOKEN_MARGIN seconds before it ends: each new one ends the last one within 5 minutes."""

    wechat: WeChat
    signing: Signing

    def get(self, r: redis.Redis, *, fresh: bool = False) -> str:
        if not fresh:
            token = self.signing.unseal(TOKEN, r.get(rkeys.WECHAT_TOKEN), self.wechat.appid)
            if token:
                return token
        token, expires_in = self.wechat.access_token()
        r.set(rkeys.WECHAT_TOKEN, self.signing.seal(TOKEN, token, self.wechat.appid),
              ex=max(60, expires_in - TOKEN_MARGIN))
        return token


@dataclass
class ReplyNotice:
    """on_reply for actions.case_step: the WeChat notice of the reply, if its citizen allowed
    one. Never raises: a notice that fails is logged (without the openid) and counted
    (ratingsvc_case_notices_total), and the unit's step stands."""

    redis: Callable[[], redis.Redis]
    signing: Signing
    wechat: WeChat | None
    template_id: str
    case_url: Callable[[str], str]  # rating id -> the citizen's case link
    count: Callable[[str], None] = lambda outcome: None  # outcome -> counted in a metric

    @property
    def on(self) -> bool:
        return self.wechat is not None and bool(self.template_id)

    def __call__(self, case: store.Case) -> None:
        if not self.on:
            return
        try:
            outcome = self._send(case)
        except WeChatError as exc:
            outcome = "unreachable" if exc.unavailable else "refused"
            log.warning("case %s: WeChat notice not sent: %s", case.rating_id, exc)
        except Exception as exc:  # anything at all: the manager's step must stand
            outcome = "error"
            log.error("case %s: WeChat notice not sent: %s", case.rating_id, type(exc).__name__)
        if outcome:
            self.count(outcome)

    def _send(self, case: store.Case) -> str:
        assert self.wechat is not None
        r = self.redis()
        sealed = take(r, case.unit, case.id)
        if sealed is None:
            return ""  # nobody asked
        openid = self.signing.unseal(OPENID, sealed, case.rating_id)
        if openid is None:
            log.warning("case %s: WeChat notice not sent: the openid does not unseal (SECRET_KEY "
                        "changed?)", case.rating_id)
            return "unsealed"
        try:
            unit_name = registry.get_unit(r, case.unit).name
        except registry.RegistryError:
            unit_name = "办理单位"
        message = {"touser": openid, "template_id": self.template_id, "url": self.case_url(case.rating_id),
                   "scene": str(SCENE), "title": TITLE,
                   "data": {"content": {"value": content(case, unit_name), "color": "#173177"}}}
        tokens = Tokens(self.wechat, self.signing)
        try:
            self.wechat.send_subscribe(tokens.get(r), message)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            self.wechat.send_subscribe(tokens.get(r, fresh=True), message)
        return "sent"
