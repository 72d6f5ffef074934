"""The change feed for the scoring service: JSON pages, or a server-sent event stream.

Streams are served by gevent workers (RATINGSVC_WORKER_CLASS=gevent: the stream server behind
nginx, and `make run`), where a stream is a greenlet. A sync worker would be held for the
stream's whole life and killed by gunicorn's timeout, so it refuses streams; JSON pages work
everywhere. The streams of one process share a Hub per period (ratingsvc/feedhub.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator

import redis
from flask import Response, current_app, g, request, stream_with_context

from .. import feed, periods
from ..auth import require
from ..errors import BadRequest, Gone, ServiceUnavailable
from ..extensions import ApiBlueprint, get_redis
from ..feedhub import Hub
from ..limiting import per_key_limit
from ..schemas import TEXT, ChangesQuerySchema, ChangesSchema
from ..timeutil import day_key, iso_day, local_day
from .scores import compute, rows_of

blp = ApiBlueprint("changes", __name__, url_prefix="/api/v1", description="Following the counts")
log = logging.getLogger(__name__)
per_key_limit(blp)


ROWS_AT_MOST = 2_000  # units of a poll's changes whose rows are read alone, not with the whole table


class PeriodFeed:
    """The feed of one period on the app's Redis: what a Hub reads (feedhub.Source)."""

    def __init__(self, period: periods.Period) -> None:
        self.period = period
        self.first, self.last = day_key(period.start), day_key(period.end)

    def relay(self) -> None:
        config = current_app.config
        tz = config["TIMEZONE"]
        feed.relay(get_redis(), lambda ms: local_day(ms / 1000, tz), now=config["CLOCK"](),
                   retention=config["FEED_RETENTION_SECONDS"], sweep=config["FEED_SWEEP_SECONDS"])

    def read(self, cursor: str, limit: int) -> tuple[list[feed.Change], str]:
        batch = feed.read(get_redis(), cursor, limit)
        return batch, (batch[-1].id if batch else cursor)

    def scores(self) -> dict[str, dict]:
        return {u["unit"]: u for u in compute(self.period)["units"]}

    def scores_of(self, units: list[str]) -> dict[str, dict]:
        """The rows of these units (exact: a unit's row needs its category's units, not the
        province's, and only its own cases)."""
        return rows_of(self.period, units)

    def items(self, changes: list[feed.Change], scores=None) -> list[dict]:
        """The changes of this period, each with its unit's aggregates now (None for a unit
        that is not scored: deactivated): their rows alone (rows_of), or, for more than
        ROWS_AT_MOST changes, the whole table from scores() if given (a stream's hub's)."""
        relevant = [c for c in changes if self.first <= c.day <= self.last]
        if not relevant:
            return []
        units = sorted({c.unit for c in relevant})
        table = scores() if scores and len(units) > ROWS_AT_MOST else self.scores_of(units)
        return [{"id": c.id, "unit": c.unit, "kind": c.kind, "day": iso_day(c.day),
                 "score": table.get(c.unit)}
                for c in relevant]

    def encode(self, changes: list[feed.Change], scores) -> list[tuple[str, str]]:
        return [(item["id"], event(item)) for item in self.items(changes, scores)]


def event(item: dict) -> str:
    return f"id: {item['id']}\nevent: change\ndata: {json.dumps(item, ensure_ascii=False)}\n\n"


EXPIRED = ("游标已过期：其后的部分变更已超过保留期被清除。"
           "请重新读取成绩表（GET /api/v1/scores），再从 details.cursor 继续跟踪。")
EXPIRED_EN = ("The cursor has expired: some changes after it are past the feed's retention and were "
              "trimmed. Re-read the score table (GET /api/v1/scores), then follow from details.cursor.")


def expired(exc: feed.CursorExpired) -> dict:
    """The error of an expired cursor: where to follow from once the table is read again
    (the feed's end when it was found: any change after the table's read is after it)."""
    return {"code": "cursor_expired", "message": EXPIRED, "message_en": EXPIRED_EN,
            "details": {"cursor": exc.resume, "trimmed": exc.trimmed,
                        "retention_seconds": current_app.config["FEED_RETENTION_SECONDS"]}}


def gone(exc: feed.CursorExpired) -> Gone:
    body = expired(exc)
    return Gone(body["message"], code=body["code"], message_en=body["message_en"], details=body["details"])


def changes_after(period: periods.Period, after: str, limit: int) -> tuple[list[dict], str, bool]:
    """The period's changes after the cursor, each with the unit's aggregates now."""
    source = PeriodFeed(period)
    source.relay()
    batch, cursor = source.read(after, limit)
    return source.items(batch), cursor, len(batch) == limit


_hubs_lock = threading.Lock()


def hub_for(period: periods.Period) -> Hub:
    """This process's hub of the period, made when its first stream comes."""
    hubs: dict[str, Hub] = current_app.extensions.setdefault("ratingsvc.feed_hubs", {})
    with _hubs_lock:
        if period.id not in hubs:
            source = PeriodFeed(period)
            source.relay()
            end = get_redis().xrevrange(feed.CHANGES, count=1)
            config = current_app.config
            hubs[period.id] = Hub(end[0][0] if end else "0", poll=config["SSE_POLL"],
                                  share=config["SSE_CPU_SHARE"])
        return hubs[period.id]


def event_stream(period: periods.Period, cursor: str, hub: Hub) -> Iterator[str]:
    """The stream, until SSE_MAX_SECONDS. Redis failing once it has begun (its 200 is sent)
    ends it, logged: the client comes back after `retry` with Last-Event-ID."""
    yield "retry: 1000\n\n"
    try:
        yield from events(period, cursor, hub)
    except feed.CursorExpired as exc:  # fell behind the retention while streaming: an error event, the end
        yield f"event: error\ndata: {json.dumps(expired(exc), ensure_ascii=False)}\n\n"
    except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as exc:
        log.warning("change stream ended by redis: %s", exc, extra={"fields": {"rid": g.get("request_id")}})


def events(period: periods.Period, cursor: str, hub: Hub) -> Iterator[str]:
    config = current_app.config
    deadline = time.monotonic() + config["SSE_MAX_SECONDS"]
    beat = time.monotonic()
    source = PeriodFeed(period)
    while time.monotonic() < deadline:
        if hub.behind(cursor):  # older than what the hub keeps: catch up alone first
            chunk, cursor, more = hub.catch_up(source, cursor)
        else:
            hub.refresh(source)
            chunk, cursor = hub.after(cursor)
            more = False
        if chunk:
            yield chunk
            beat = time.monotonic()
        elif time.monotonic() - beat >= config["SSE_HEARTBEAT"]:
            yield ": heartbeat\n\n"
            beat = time.monotonic()
        if not more:
            time.sleep(config["SSE_POLL"])


def may_stream() -> bool:
    """Not on a gunicorn sync worker: a stream would hold the whole process."""
    env = request.environ
    gunicorn = str(env.get("SERVER_SOFTWARE", "")).startswith("gunicorn")
    return not (gunicorn and not env.get("wsgi.multithread"))


@blp.route("/scores/changes")
@require("feed.read")
@blp.arguments(ChangesQuerySchema, location="query")
@blp.response(200, ChangesSchema)
@blp.alt_response(200, schema=TEXT, content_type="text/event-stream", success=True,
                  description="with Accept: text/event-stream; Last-Event-ID resumes")
@blp.error(404, "unknown_period")
@blp.error(410, "cursor_expired: changes after the cursor (or Last-Event-ID; 0 once any were "
           "trimmed) are past FEED_RETENTION_SECONDS; re-read GET /api/v1/scores, then follow "
           "from error.details.cursor")
@blp.error(503, "streams_elsewhere: a stream asked of a server that does not serve streams; "
           "or the storage is away")
def changes(args: dict):
    """Units whose aggregates changed after the cursor, in order, each once."""
    period = periods.get_period(get_redis(), args["period"])
    if "text/event-stream" in request.headers.get("Accept", ""):
        cursor = request.headers.get("Last-Event-ID") or args["after"]
        if not feed.valid_cursor(cursor):
            raise BadRequest("Last-Event-ID 不是有效的游标。", code="invalid_request",
                             message_en="Last-Event-ID is not a cursor.")
        if not may_stream():
            raise ServiceUnavailable(
                "此服务器不提供变更推送流，请按页获取 JSON（推送流由 gevent 工作进程提供）。",
                code="streams_elsewhere", message_en=(
                    "Change streams are served by gevent workers (RATINGSVC_WORKER_CLASS=gevent; "
                    "nginx.conf sends /api/v1/scores/changes there). JSON pages work here."))
        hub = hub_for(period)  # before the 200: a storage fault here is a 503
        try:
            feed.read(get_redis(), cursor, 1)  # and an expired cursor a 410
        except feed.CursorExpired as exc:
            raise gone(exc) from None
        return Response(stream_with_context(event_stream(period, cursor, hub)),
                        mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    try:
        items, cursor, more = changes_after(period, args["after"], args["limit"])
    except feed.CursorExpired as exc:
        raise gone(exc) from None
    return {"period": period.id, "changes": items, "cursor": cursor, "more": more}
