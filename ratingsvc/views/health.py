"""Liveness and readiness for load balancers and process managers."""

from __future__ import annotations

import redis
from flask import Blueprint, current_app, jsonify

from ..errors import retry_after
from ..extensions import get_redis

blp = Blueprint("health", __name__)


@blp.route("/healthz")
def healthz():
    """The process answers (no Redis): for restarting a stuck worker."""
    return jsonify(status="ok")


def durability_problem(r: redis.Redis, durability: str) -> str | None:
    """Why the server cannot give the TAP_DURABILITY asked for, or None."""
    if durability == "always":
        try:
            config = r.config_get("append*")
        except redis.ResponseError as exc:  # CONFIG renamed or refused: cannot tell
            return f"cannot read the server's appendfsync: {exc}"
        if config.get("appendonly") != "yes" or config.get("appendfsync") != "always":
            return (f"TAP_DURABILITY=always needs appendonly yes and appendfsync always; the server "
                    f"has appendonly {config.get('appendonly')}, appendfsync {config.get('appendfsync')}")
    if durability == "waitaof":
        info = r.info()
        release = str(info.get("redis_version", "0"))
        if tuple(int(x) for x in release.split(".")[:2]) < (7, 2):
            return f"TAP_DURABILITY=waitaof needs Redis 7.2+ (WAITAOF); the server is {release}"
        if not info.get("aof_enabled"):
            return "TAP_DURABILITY=waitaof needs appendonly yes"
    return None


def unready() -> dict[str, str]:
    return retry_after(current_app.config["RETRY_AFTER"])


@blp.route("/readyz")
def readyz():
    """Redis answers within RATINGSVC_REDIS_TIMEOUT and can keep taps as durably as
    TAP_DURABILITY asks: for sending traffic here."""
    try:
        r = get_redis()
        r.ping()
        problem = durability_problem(r, current_app.config["TAP_DURABILITY"])
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return jsonify(status="unavailable", redis=str(exc)[:200]), 503, unready()
    if problem:
        return jsonify(status="unavailable", redis="ok", durability=problem), 503, unready()
    return jsonify(status="ok", redis="ok", durability=current_app.config["TAP_DURABILITY"])
