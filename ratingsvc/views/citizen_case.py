"""Citizens: the case of their 差评, through the signed link the thanks screen gave them
(查看处理结果): read it, and rate the handling once after the unit's reply (追评)."""

from __future__ import annotations

import json

import redis
from flask import current_app

from .. import registry
from ..cases import citizen, notify
from ..cases import store as case_store
from ..cases.store import Case, CaseProblem
from ..errors import Conflict, NotFound, Unprocessable
from ..extensions import ApiBlueprint, case_url, get_case_reply, get_policy, get_redis, get_signing, now
from ..limiting import citizen_limit, local_citizen_limit
from ..recording import parse_rating_id
from ..rkeys import UnitKeys
from ..schemas import CitizenCaseSchema, FollowupSchema
from .cases import problem

blp = ApiBlueprint("citizen_case", __name__, url_prefix="/api/v1",
                   description="Citizens: the case of their 差评 (查看处理结果), and rating its handling")

UNKNOWN = "没有找到这个工单，请检查链接是否完整。"


def case_links(rating_id: str, level: int) -> dict[str, str]:
    """What a tap's answer adds for a counted tap at this level: the case link (and the WeChat
    consent link) when it is a 差评 that opens a case; {} otherwise."""
    max_level = get_policy().max_level
    if not 0 < level <= max_level:
        return {}
    links = {"case_url": case_url(rating_id)}
    if get_case_reply().on:
        links["notify_url"] = links["case_url"] + "/notify"
    return links


def has_open_case(r: redis.Redis, unit: str, stream_id: str) -> bool:
    """Whether the tap has a case that is not voided (after its rater changed its level)."""
    raw = r.hget(UnitKeys(unit).cases, stream_id)
    return raw is not None and json.loads(raw).get("s") != "void"


def find(token: str) -> Case:
    """The case behind a citizen's link; NotFound for a forged, cut or unknown one."""
    rating_id = get_signing().read_case_link(token)
    parsed = parse_rating_id(rating_id) if rating_id else None
    case = case_store.get(get_redis(), *parsed) if parsed else None
    if case is None:
        raise NotFound(UNKNOWN, code="unknown_case")
    return case


def names(r: redis.Redis, case: Case) -> tuple[str, str]:
    try:
        unit = registry.get_unit(r, case.unit).name
        window = registry.get_window(r, case.window).name
    except registry.RegistryError:
        return "", ""
    return unit, window


def shown(case: Case) -> dict:
    """The case as its citizen sees it (cases.citizen.view); a sealed openid whose case no
    longer waits for a reply is dropped on the way."""
    r = get_redis()
    view = citizen.view(case, int(now() * 1000), current_app.config["TIMEZONE"], *names(r, case))
    if case.state not in notify.WAITING:
        notify.forget(r, case.unit, case.id)
    return view


def wrong_state(case: Case) -> str:
    if case.state in notify.WAITING:
        return "单位尚未答复，答复后才能评价处理结果。"
    if case.followup is not None:
        return "您已经评价过处理结果，感谢您的监督！"
    if case.state == "void":
        return "此工单已撤销，不能评价。"
    return "工单已办结，不能再评价。"


def rate_handling(case: Case, followup: int) -> Case:
    """The citizen's one rating of the handling (1 满意, 2 基本满意, 3 不满意); ApiError with a
    Chinese message if it cannot be given (422 a bad value, 409 not now)."""
    if followup not in case_store.FOLLOWUPS:
        raise Unprocessable("请选择满意、基本满意或不满意。", code="bad_followup")
    r = get_redis()
    try:
        done = case_store.step(r, get_policy(), case.unit, case.id, "followup", by="citizen",
                               now_ms=int(now() * 1000), followup=followup)
    except CaseProblem as exc:
        if exc.code == "followup_closed":
            raise Conflict("评价期限已过，工单已办结。", code="followup_closed") from None
        if exc.code == "wrong_state":
            raise Conflict(wrong_state(case_store.get(r, case.unit, case.id) or case),
                           code="wrong_state") from None
        raise problem(exc) from None
    notify.forget(r, case.unit, case.id)
    return done


@blp.route("/cases/<token>")
@citizen_limit("LIMIT_SCAN_IP")
@blp.response(200, CitizenCaseSchema)
def get_case(token: str):
    """The case of a 差评, by its rater's link token: its state, deadlines and the unit's reply.
    Nothing of the rater."""
    return shown(find(token))


@blp.route("/cases/<token>/followup", methods=["POST"])
@local_citizen_limit("LIMIT_RATING_IP")
@blp.arguments(FollowupSchema)
@blp.response(200, CitizenCaseSchema)
@blp.error(409, "wrong_state: not replied yet, rated already, voided; followup_closed: too late")
@blp.error(422, "bad_followup: not 1 (满意), 2 (基本满意) or 3 (不满意)")
def followup(body: dict, token: str):
    """The citizen rates the handling once, after the unit's reply; the case closes. It does not
    change the rating's count; it feeds the satisfaction rates."""
    return shown(rate_handling(find(token), body["followup"]))
