"""Citizens: changing the level of one's own tap shortly after it (a mistaken face)."""

from __future__ import annotations

from flask import current_app

from .. import metrics, recording
from ..errors import Conflict, Forbidden, Unprocessable
from ..extensions import ApiBlueprint, get_policy, get_redis, get_signing, now
from ..limiting import local_citizen_limit
from ..schemas import LEVELS, LevelChangeAnswerSchema, LevelChangeSchema
from .citizen import REFUSED, Refusals, durable_ack, not_durable, refused
from .citizen_case import case_links, has_open_case
from .identity import current_rater

blp = ApiBlueprint("level", __name__, url_prefix="/api/v1",
                   description="Citizens: change a tap's level shortly after it")


CHANGE_REFUSED: Refusals = {**REFUSED, "closed": (Forbidden, "修改评价的时间已过。", "change_closed"),
                  "not_changeable": (Conflict, "这条评价不能再修改。", "not_changeable")}


@blp.route("/ratings/<rating_id>/level", methods=["POST"])
@local_citizen_limit("LIMIT_RATING_IP")
@blp.arguments(LevelChangeSchema)
@blp.response(200, LevelChangeAnswerSchema)
@blp.error(403, "not_your_rating, or change_closed: more than RATING_CHANGE_SECONDS after the tap")
@blp.error(409, "not_changeable: a duplicate, or a held tap already decided in review")
@blp.error(422, "bad_level: the level is not 1-5")
def change_level(body: dict, rating_id: str):
    """A rater changes the level of their own tap shortly after it (a mistaken face): counted
    once, at the new level; logged. The level it has already answers "unchanged"."""
    if body["level"] not in LEVELS:
        raise Unprocessable("请选择1到5之间的评价等级。", code="bad_level")
    parsed = recording.parse_rating_id(rating_id)
    if parsed is None:
        raise refused("unknown")
    rater = current_rater()
    if rater is None:
        raise refused("forbidden")
    r = get_redis()
    ack = durable_ack(r)
    try:
        done = recording.change_level(
            r, parsed[0], parsed[1], rater=get_signing().person_hash(*rater), level=body["level"],
            now_ms=int(now() * 1000), window_ms=current_app.config["RATING_CHANGE_SECONDS"] * 1000,
            ack=ack, case=get_policy().open_args(int(now() * 1000)),
            return_window=current_app.config["RULE_RETURN_WINDOW"])
    except recording.NotDurable as exc:
        raise not_durable(f"change not confirmed: {exc}") from None
    metrics.CHANGES.labels(done.status).inc()
    if done.status in CHANGE_REFUSED:
        raise refused(done.status, CHANGE_REFUSED)
    config = current_app.config
    answer = {"status": done.status, "rating_id": rating_id, "level": done.level,
              "change_until": recording.change_until(done.tapped_ms or 0, config["RATING_CHANGE_SECONDS"],
                                                     config["TIMEZONE"])}
    links = case_links(rating_id, done.level or 0)
    if links and has_open_case(r, *parsed):  # a counted tap now in the 差评 levels has its case
        answer.update(links)
    return answer
