"""JSON request logs: one line a request, with a request id; the route, never the path (no
tokens), and the client address only as a keyed hash."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time

from flask import Flask, Response, g, request

from .extensions import client_hash
from .settings import SETTINGS
from .timeutil import iso_time

log = logging.getLogger("ratingsvc.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class JsonFormatter(logging.Formatter):
    """A JSON object a line; "t" as every time in ratingsvc (iso_time in zone tz)."""

    def __init__(self, tz: str = SETTINGS["TIMEZONE"][0]) -> None:
        super().__init__()
        self.tz = tz

    def format(self, record: logging.LogRecord) -> str:
        body = {"t": iso_time(record.created * 1000, self.tz),
                "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        body.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            body.setdefault("exc", record.exc_info[0].__name__)
            body["traceback"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def init_app(app: Flask) -> None:
    if not app.config.get("TESTING") and not logging.getLogger("ratingsvc").handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter(app.config["TIMEZONE"]))
        logging.getLogger("ratingsvc").addHandler(handler)
        logging.getLogger("ratingsvc").setLevel(logging.INFO)

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID.match(given) else secrets.token_hex(8)

    @app.after_request
    def _log(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        started = g.get("started")
        log.info("request", extra={"fields": {
            "rid": g.get("request_id"), "method": request.method,
            "route": request.url_rule.rule if request.url_rule else "unmatched",
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "ip": client_hash()[:16]}})
        return response
