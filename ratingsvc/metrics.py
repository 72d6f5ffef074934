"""Prometheus metrics, correct under several gunicorn workers (prometheus_client's
multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set, as gunicorn.conf.py does)."""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

TAPS = Counter("ratingsvc_taps_total", "Rating requests by outcome", ["status"])
CHANGES = Counter("ratingsvc_level_changes_total", "Requests to change a tap's level by outcome",
                  ["status"])
HELD = Counter("ratingsvc_held_total", "Held taps by the rule that held them", ["rule"])
CASE_NOTICES = Counter("ratingsvc_case_notices_total", "WeChat notices of a case's reply to its citizen, "
                       "by outcome: sent, refused (WeChat said no), unreachable, unsealed, error",
                       ["outcome"])
REDIS_ERRORS = Counter("ratingsvc_redis_errors_total", "Requests that found Redis unreachable")
LATENCY = Histogram("ratingsvc_request_seconds", "Request latency by route", ["route", "method"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"  # never the raw path
            LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
        return response

    @app.route("/metrics")
    def metrics() -> Response:
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
