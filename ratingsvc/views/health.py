"""Liveness and readiness for load balancers and process managers."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, current_app, jsonify

from .. import durability, topology
from ..errors import retry_after
from ..extensions import get_redis

blp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
PROBE = "rs:{readyz}:probe"


@blp.route("/healthz")
def healthz():
    """The process answers (no Redis): for restarting a stuck worker."""
    return jsonify(status="ok")


def unready(**body: str):
    return jsonify(status="unavailable", **body), 503, retry_after(current_app.config["RETRY_AFTER"])


@blp.route("/readyz")
def readyz():
    """Redis takes a write within RATINGSVC_REDIS_TIMEOUT and can keep taps as durably as
    TAP_DURABILITY asks: for sending traffic here. The write answers as a tap's would: out of
    memory, disk failing, a read-only replica. It also says whether the X-Forwarded-For of
    the requests this worker served fit PROXY_HOPS (a mismatch weakens the per-address limits
    but is no reason to stop taking taps)."""
    wanted = current_app.config["TAP_DURABILITY"]
    try:
        r = get_redis()
        r.set(PROBE, "1", px=10_000)
        problem = topology.cluster_problem(r) or durability.problem(r, wanted,
                                                                   current_app.config["TAP_REPLICAS"])
    except redis.TimeoutError as exc:
        log.warning("readyz: redis timed out: %s", exc)
        return unready(redis="Redis did not answer in time")
    except redis.ConnectionError as exc:  # the address stays in the log, not in the answer
        log.warning("readyz: redis unreachable: %s", exc)
        return unready(redis="Redis is unreachable")
    except redis.ResponseError as exc:
        found = durability.fault(exc)
        if found is None:
            raise
        log.warning("readyz: %s: %s", found[1], exc)
        return unready(redis=found[1], code=found[0])
    proxy = current_app.extensions["ratingsvc.proxy"].state()  # said, but not a reason for 503
    if problem:
        return unready(redis="ok", durability=problem, proxy=proxy)
    return jsonify(status="ok", redis="ok", durability=wanted, proxy=proxy)
