"""Console sessions, kept in Redis (revocable), not in the cookie: the cookie holds only a random
session id; Redis holds the session under the id's SHA-256, with the account's set of its
sessions so that disabling an account (or resetting its password) ends them all.

A session ends after SESSION_IDLE_MINUTES without a request (the key's TTL) and at the latest
SESSION_MAX_HOURS after it began. Logging in starts a new session (a new id): an id planted
before login is worthless after it. Only /console requests open one; the rest of the app keeps
no session at all."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from .. import rkeys
from ..extensions import get_redis

COOKIE = "rs_console"
ANONYMOUS_SECONDS = 900  # a session with no one logged in (a login form's CSRF token) lasts this long
PREFIX = "/console"


def _key(sid: str) -> str:
    return rkeys.SESSION_PREFIX + hashlib.sha256(sid.encode()).hexdigest()


class ConsoleSession(CallbackDict, SessionMixin):
    def __init__(self, initial: dict | None = None, sid: str | None = None, created: float = 0.0) -> None:
        def changed(_: Any) -> None:
            self.modified = True

        super().__init__(initial, changed)
        self.sid, self.created = sid, created
        self.modified = False
        self.renew = False  # login: a new id

    def regenerate(self) -> None:
        self.renew = True
        self.modified = True


class ConsoleSessions(SessionInterface):
    def _limits(self, app: Flask) -> tuple[int, int]:
        return int(app.config["SESSION_IDLE_MINUTES"]) * 60, int(app.config["SESSION_MAX_HOURS"]) * 3600

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if not request.path.startswith(PREFIX):
            return self.make_null_session(app)
        now = app.config["CLOCK"]()
        sid = request.cookies.get(COOKIE)
        if not sid or len(sid) > 100:
            return ConsoleSession(created=now)
        raw = get_redis().get(_key(sid))
        if raw is None:
            return ConsoleSession(created=now)
        stored = json.loads(raw)
        idle, absolute = self._limits(app)
        if now - stored["last"] > idle or now - stored["created"] >= absolute:
            get_redis().delete(_key(sid))
            return ConsoleSession(created=now)
        session = ConsoleSession(stored["data"], sid=sid, created=stored["created"])
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ConsoleSession):
            return
        r, now = get_redis(), app.config["CLOCK"]()
        secure = app.config["PUBLIC_URL"].startswith("https://") or request.is_secure
        if session.sid and (session.renew or not session):
            r.delete(_key(session.sid))
        if not session:  # logged out, or never anything in it
            if session.sid:
                response.delete_cookie(COOKIE, path=PREFIX, secure=secure, httponly=True, samesite="Lax")
            return
        if session.renew or not session.sid:
            session.sid, session.created = secrets.token_urlsafe(32), now
        idle, absolute = self._limits(app)
        if not session.get("_user_id") and not session.get("pending"):
            idle = min(idle, ANONYMOUS_SECONDS)  # a login form's token: anyone can make these
        ttl = max(1, int(min(idle, session.created + absolute - now)))
        hashed = hashlib.sha256(session.sid.encode()).hexdigest()
        with r.pipeline(transaction=False) as p:
            p.set(rkeys.SESSION_PREFIX + hashed, json.dumps(
                {"data": dict(session), "created": session.created, "last": now}), ex=ttl)
            user = session.get("_user_id")
            if user:
                p.sadd(rkeys.ACCOUNT_SESSIONS + user, hashed)
                p.expire(rkeys.ACCOUNT_SESSIONS + user, absolute)
            p.execute()
        response.set_cookie(COOKIE, session.sid, path=PREFIX, secure=secure, httponly=True,
                            samesite="Lax")
