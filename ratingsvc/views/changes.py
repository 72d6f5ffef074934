"""The change feed for the scoring service: JSON pages, or a server-sent event stream."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Response, current_app, request, stream_with_context

from .. import feed, periods, registry
from ..auth import require
from ..errors import BadRequest
from ..extensions import ApiBlueprint, get_redis
from ..limiting import per_key_limit
from ..schemas import ChangesQuerySchema, ChangesSchema
from ..timeutil import day_key, local_day
from .scores import compute

blp = ApiBlueprint("changes", __name__, url_prefix="/api/v1", description="Following the counts")
per_key_limit(blp)


def changes_after(period: periods.Period, after: str, limit: int) -> tuple[list[dict], str, bool]:
    """The period's changes after the cursor, each with the unit's aggregates now."""
    r, tz = get_redis(), current_app.config["TIMEZONE"]
    feed.relay(r, lambda ms: local_day(ms / 1000, tz))
    batch = feed.read(r, after, limit)
    first, last = day_key(period.start), day_key(period.end)
    relevant = [c for c in batch if first <= c.day <= last]
    scores: dict[str, dict] = {}
    for category in {registry.get_unit(r, c.unit).category for c in relevant}:
        scores.update({u["unit"]: u for u in compute(period, category)["units"]})
    items = [{"id": c.id, "unit": c.unit, "kind": c.kind, "day": c.day, "score": scores.get(c.unit)}
             for c in relevant]
    return items, (batch[-1].id if batch else after), len(batch) == limit


def event_stream(period: periods.Period, cursor: str) -> Iterator[str]:
    config = current_app.config
    deadline = time.monotonic() + config["SSE_MAX_SECONDS"]
    beat = time.monotonic()
    yield "retry: 1000\n\n"
    while time.monotonic() < deadline:
        items, cursor, more = changes_after(period, cursor, 500)
        for item in items:
            yield f"id: {item['id']}\nevent: change\ndata: {json.dumps(item, ensure_ascii=False)}\n\n"
        if items:
            beat = time.monotonic()
        elif time.monotonic() - beat >= config["SSE_HEARTBEAT"]:
            yield ": heartbeat\n\n"
            beat = time.monotonic()
        if not more:
            time.sleep(config["SSE_POLL"])


@blp.route("/scores/changes")
@require("admin", "scorer")
@blp.arguments(ChangesQuerySchema, location="query")
@blp.response(200, ChangesSchema)
@blp.alt_response(200, content_type="text/event-stream", success=True,
                  description="with Accept: text/event-stream; Last-Event-ID resumes")
def changes(args: dict):
    """Units whose aggregates changed after the cursor, in order, each once."""
    period = periods.get_period(get_redis(), args["period"])
    if "text/event-stream" in request.headers.get("Accept", ""):
        cursor = request.headers.get("Last-Event-ID") or args["after"]
        if not feed.valid_cursor(cursor):
            raise BadRequest("Last-Event-ID is not a cursor.", code="invalid_request")
        return Response(stream_with_context(event_stream(period, cursor)),
                        mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    items, cursor, more = changes_after(period, args["after"], args["limit"])
    return {"period": period.id, "changes": items, "cursor": cursor, "more": more}


