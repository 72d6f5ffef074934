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


@blp.route("/readyz")
def readyz():
    """Redis answers within RATINGSVC_REDIS_TIMEOUT: for sending traffic here."""
    try:
        get_redis().ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        body = jsonify(status="unavailable", redis=str(exc)[:200])
        return body, 503, retry_after(current_app.config["RETRY_AFTER"])
    return jsonify(status="ok", redis="ok")
