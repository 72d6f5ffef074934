"""The evaluation office's review queue of held taps."""

from __future__ import annotations

from collections import Counter

from flask import current_app

from .. import actions, recording, registry, review
from ..auth import actor, require
from ..errors import Conflict, NotFound
from ..extensions import ApiBlueprint, get_policy, get_redis, now
from ..limiting import per_key_limit
from ..schemas import (
    DecisionAnswerSchema,
    DecisionRecordSchema,
    DecisionSchema,
    ReviewQuerySchema,
    ReviewQueueSchema,
)
from ..timeutil import iso_time

blp = ApiBlueprint("review", __name__, url_prefix="/api/v1/review",
                   description="Held taps: release or reject, audited")
per_key_limit(blp)
DONE = {"release": "released", "reject": "rejected"}
NO_HELD_TAP = "没有这条待核的评价。"


def _units(unit: str | None) -> list[str]:
    r = get_redis()
    if unit:
        registry.get_unit(r, unit)
        return [unit]
    return sorted(r.smembers(registry.rkeys.UNITS))


@blp.route("")
@require("review.decide")
@blp.arguments(ReviewQuerySchema, location="query")
@blp.response(200, ReviewQueueSchema)
@blp.error(404, "unknown_unit")
def queue(args: dict):
    """Held taps, oldest first, with counts by window and reason."""
    tz = current_app.config["TIMEZONE"]
    taps = review.list_held(get_redis(), _units(args.get("unit")), window=args.get("window"),
                            reason=args.get("reason"))
    counts = Counter((t.unit, t.window, reason) for t in taps for reason in t.reasons)
    return {
        "by_window_and_reason": [{"unit": u, "window": w, "reason": why, "count": n}
                                 for (u, w, why), n in sorted(counts.items())],
        "taps": [{**t.__dict__, "time": iso_time(t.time_ms, tz)} for t in taps],
    }


@blp.route("/decisions")
@require("review.decide")
@blp.arguments(ReviewQuerySchema, location="query")
@blp.response(200, DecisionRecordSchema(many=True))
@blp.error(404, "unknown_unit")
def decisions(args: dict):
    """Every decision taken: who, when, why."""
    tz = current_app.config["TIMEZONE"]
    return [review.decision_out(d, tz) for d in review.decisions(get_redis(), _units(args.get("unit")))]


@blp.route("/<rating_id>", methods=["POST"])
@require("review.decide")
@blp.arguments(DecisionSchema)
@blp.response(200, DecisionAnswerSchema)
@blp.error(409, "already_decided; appeal_upheld: a release of a tap taken out after an appeal")
def decide(body: dict, rating_id: str):
    """Release a held tap (counted from today on) or reject it; the tap itself stays."""
    parsed = recording.parse_rating_id(rating_id)
    if parsed is None:
        raise NotFound(NO_HELD_TAP, code="unknown_rating", message_en="No such held tap.")
    status, decision = actions.decide(get_redis(), actor(), now(), parsed[0], parsed[1],
                                      action=body["action"], why=body["why"],
                                      tz=current_app.config["TIMEZONE"], policy=get_policy())
    if status == "unknown":
        raise NotFound(NO_HELD_TAP, code="unknown_rating", message_en="No such held tap.")
    if status == "decided":
        raise Conflict("这条评价已经处理过了。", code="already_decided",
                       message_en="This tap has been decided already.")
    if status == "appealed":
        raise Conflict("这条评价的申诉已成立，已剔除出统计，不能放行。", code="appeal_upheld",
                       message_en="This tap's appeal was upheld: it stays out of the counts.")
    return {"status": DONE[body["action"]], "decision": decision}
