"""A unit's cases: read, and moved from state to state, each step one case.lua call.

States (README "Cases"): new (待核实) -> verified (已核实) -> rectified (已整改, with the cause,
what was done and a reply to the citizen) -> closed (已办结) by the citizen's follow-up or at
its deadline; or new/verified -> explained (已解释说明: no fault found; the explanation is the
reply) -> closed the same way. void (已撤销): the tap no longer counts as a 差评 (held for
review, changed by its rater, or taken out after an appeal). Which step starts from which
state is said once, in STEPS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis

from .. import comments
from ..recording import rating_id
from ..rkeys import UnitKeys
from ..store import load_script, no_gc, read_many
from .policy import Policy

STATE_NAMES = {"new": "待核实", "verified": "已核实", "rectified": "已整改", "explained": "已解释说明",
               "closed": "已办结", "void": "已撤销"}
OPEN = ("new", "verified", "rectified", "explained")
ANSWERED = ("rectified", "explained")  # replied, awaiting the citizen's follow-up
FOLLOWUPS = {1: "满意", 2: "基本满意", 3: "不满意"}
SATISFIED = (1, 2)
VOID_WHY = {"held": "评价转入人工复核", "change": "评价人已改为非差评", "appeal": "申诉成立，评价已剔除"}
ACTION_NAMES = {"open": "生成工单", "verify": "核实", "rectify": "整改答复", "explain": "解释说明",
                "followup": "群众回访评价", "expire": "回访期满办结", "void": "撤销"}

#: step -> (states it starts from, state it ends in)
STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "verify": (("new",), "verified"),
    "rectify": (("verified",), "rectified"),
    "explain": (("new", "verified"), "explained"),
    "followup": (ANSWERED, "closed"),
    "expire": (ANSWERED, "closed"),
}
LIMITS = {"note": 500, "cause": 500, "act": 1000, "reply": 1000}
MISSING = {"cause": "请填写问题原因。", "act": "请填写整改措施。", "reply": "请填写给群众的答复。",
           "note": "请填写核实情况。"}


#: a refusal's code -> its HTTP status, for the API and the console alike (else 422: bad input)
STATUS = {"unknown_case": 404, "unknown_rating": 404, **{code: 409 for code in (
    "wrong_state", "appeal_exists", "appeal_decided", "not_counted", "appeal_late", "appeal_refused",
    "followup_closed", "not_due")}}


class CaseProblem(ValueError):
    """A step that cannot be taken; code and a Chinese message for the console and API."""

    def __init__(self, code: str, message: str, state: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.state = code, message, state

    @property
    def status(self) -> int:
        """Its HTTP status: 404, 409, else 422 (the console's forms answer bad input with 400)."""
        return STATUS.get(self.code, 422)

    @property
    def form_status(self) -> int:
        return STATUS.get(self.code, 400)


@dataclass(slots=True)
class Case:
    unit: str
    id: str  # the tap's stream id
    window: int
    level: int
    tapped_ms: int
    day: str  # the tap's day, YYYYMMDD
    opened_ms: int
    state: str
    verify_due: int
    rectify_due: int
    followup_due: int | None = None
    verified_ms: int | None = None
    replied_ms: int | None = None
    closed_ms: int | None = None
    note: str = ""
    cause: str = ""
    act: str = ""
    reply: str = ""
    followup: int | None = None
    why: str = ""  # why it was voided
    appeal: str = ""  # pending | upheld | rejected, if its tap was appealed
    history: list[dict] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # the rater's reason, if given
    comment: str = ""  # masked

    @property
    def rating_id(self) -> str:
        return rating_id(self.unit, self.id)

    def state_at(self, now_ms: int) -> str:
        """Its state, counting a reply whose follow-up time has passed as closed."""
        if self.state in ANSWERED and self.followup_due is not None and now_ms > self.followup_due:
            return "closed"
        return self.state

    def closed_at(self) -> int | None:
        if self.closed_ms is not None:
            return self.closed_ms
        return self.followup_due if self.state in ANSWERED else None

    def overdue(self, now_ms: int) -> str | None:
        """verify or rectify: the deadline it has missed and still owes, if any."""
        if self.state == "new" and now_ms > self.verify_due:
            return "verify"
        if self.state in ("new", "verified") and now_ms > self.rectify_due:
            return "rectify"
        return None

    def next_due(self) -> int | None:
        if self.state in ANSWERED:
            return self.followup_due
        return {"new": self.verify_due, "verified": self.rectify_due}.get(self.state)


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def from_json(unit: str, stream_id: str, raw: str | bytes) -> Case:
    """A case as cases.lua keeps it (orjson: a city's 30,000 cases are read for one table)."""
    c = orjson.loads(raw)
    g = c.get
    h = g("h")
    return Case(unit, stream_id, int(c["w"]), int(c["l"]), int(c["t"]), str(c["d"]), int(c["o"]),
                c["s"], int(c["vd"]), int(c["rd"]), _int(g("fd")), _int(g("vt")), _int(g("rt")),
                _int(g("ct")),
                g("note", ""), g("cause", ""), g("act", ""), g("reply", ""), _int(g("fu")), g("why", ""),
                g("ap", ""), h if isinstance(h, list) else [])


def get(r: redis.Redis, unit: str, stream_id: str) -> Case | None:
    keys = UnitKeys(unit)
    raw = r.hget(keys.cases, stream_id)
    if raw is None:
        return None
    case = from_json(unit, stream_id, raw)
    _add_reasons(r, [case])
    return case


def _add_reasons(r: redis.Redis, cases: list[Case]) -> None:
    """The rater's reason (tags and masked comment), where one was given: two round trips."""
    if not cases:
        return
    given = read_many(r, [("HGET", UnitKeys(c.unit).det, c.id) for c in cases])
    found = [(c, g) for c, g in zip(cases, given, strict=True) if g]
    entries = read_many(r, [("XRANGE", UnitKeys(c.unit).log, g, g) for c, g in found])
    for (c, _), entry in zip(found, entries, strict=True):
        if entry:
            f = dict(zip(entry[0][1][::2], entry[0][1][1::2], strict=True))
            f = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                 for k, v in f.items()}
            c.tags = [t for t in f.get("tags", "").split(",") if t]
            c.comment = comments.mask(f.get("c", ""))


CHUNK = 5000  # units per round trip when reading across units


def of_units(r: redis.Redis, units: list[str], *, open_only: bool = False, since_ms: int | None = None,
             until_ms: int | None = None, reasons: bool = True) -> list[Case]:
    """Cases of these units: open ones only, or those whose taps fall in [since, until) (ms).
    Read in chunks of CHUNK units, two round trips a chunk."""
    with no_gc():
        return _of_units(r, units, open_only, since_ms, until_ms, reasons)


def _of_units(r: redis.Redis, units: list[str], open_only: bool, since_ms: int | None, until_ms: int | None,
              reasons: bool) -> list[Case]:
    out: list[Case] = []
    lo = "-inf" if since_ms is None else str(since_ms)
    hi = "+inf" if until_ms is None else f"({until_ms}"
    for i in range(0, len(units), CHUNK):
        chunk = units[i:i + CHUNK]
        if open_only:
            ids = read_many(r, [("ZRANGE", UnitKeys(u).open_cases, 0, -1) for u in chunk])
        else:
            ids = read_many(r, [("ZRANGEBYSCORE", UnitKeys(u).all_cases, lo, hi) for u in chunk])
        asks = [(u, [_s(x) for x in found]) for u, found in zip(chunk, ids, strict=True) if found]
        raws = read_many(r, [("HMGET", UnitKeys(u).cases, *found) for u, found in asks])
        for (u, found), values in zip(asks, raws, strict=True):
            out += [from_json(u, sid, _s(v)) for sid, v in zip(found, values, strict=True) if v]
    if reasons:
        _add_reasons(r, out)
    return out


def overdue(r: redis.Redis, units: list[str], now_ms: int, reasons: bool = False) -> list[Case]:
    """The cases of these units that owe a step past its deadline, the longest overdue first:
    only those are read (cq by its score), CHUNK units a round trip, and then those cases."""
    out: list[Case] = []
    with no_gc():
        for i in range(0, len(units), CHUNK):
            _overdue_chunk(r, units[i:i + CHUNK], now_ms, out)
    if reasons:
        _add_reasons(r, out)
    return inbox_order(out, now_ms)


def overdue_by_unit(r: redis.Redis, units: list[str], now_ms: int) -> dict[str, int]:
    """unit -> how many of its cases owe a step past its deadline (units with none left out):
    a ZCOUNT a unit, nothing read."""
    out: dict[str, int] = {}
    for i in range(0, len(units), CHUNK):
        chunk = units[i:i + CHUNK]
        counts = read_many(r, [("ZCOUNT", UnitKeys(u).open_cases, 0, f"({now_ms}") for u in chunk])
        out.update((u, int(n)) for u, n in zip(chunk, counts, strict=True) if int(n))
    return out


def overdue_count(r: redis.Redis, units: list[str], now_ms: int) -> int:
    """How many cases of these units owe a step past its deadline."""
    return sum(overdue_by_unit(r, units, now_ms).values())


def longest_overdue(r: redis.Redis, units: list[str], now_ms: int, n: int) -> list[Case]:
    """The n cases of these units overdue the longest, longest first: each unit's first n by
    deadline (with the deadlines), then only the n chosen are read."""
    due: list[tuple[float, str, str]] = []
    for i in range(0, len(units), CHUNK):
        chunk = units[i:i + CHUNK]
        found = read_many(r, [("ZRANGEBYSCORE", UnitKeys(u).open_cases, 0, f"({now_ms}", "WITHSCORES",
                               "LIMIT", 0, n) for u in chunk])
        for u, flat in zip(chunk, found, strict=True):
            flat_list = flat and not isinstance(flat[0], list)  # RESP2: sid, score, sid, score, ...
            pairs = zip(flat[::2], flat[1::2], strict=True) if flat_list else flat
            due += [(float(score), u, _s(sid)) for sid, score in pairs]
    chosen = sorted(due)[:n]
    by_unit: dict[str, list[str]] = {}
    for _, u, sid in chosen:
        by_unit.setdefault(u, []).append(sid)
    raws = read_many(r, [("HMGET", UnitKeys(u).cases, *ids) for u, ids in by_unit.items()])
    out = [from_json(u, sid, _s(v)) for (u, ids), vs in zip(by_unit.items(), raws, strict=True)
           for sid, v in zip(ids, vs, strict=True) if v]
    return inbox_order([c for c in out if c.overdue(now_ms)], now_ms)


def _overdue_chunk(r: redis.Redis, chunk: list[str], now_ms: int, out: list[Case]) -> None:
    ids = read_many(r, [("ZRANGEBYSCORE", UnitKeys(u).open_cases, 0, f"({now_ms}") for u in chunk])
    asks = [(u, [_s(x) for x in found]) for u, found in zip(chunk, ids, strict=True) if found]
    raws = read_many(r, [("HMGET", UnitKeys(u).cases, *found) for u, found in asks])
    for (u, found), values in zip(asks, raws, strict=True):
        out += [c for sid, v in zip(found, values, strict=True) if v
                for c in [from_json(u, sid, _s(v))] if c.overdue(now_ms)]


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def inbox_order(cases: list[Case], now_ms: int) -> list[Case]:
    """Overdue first (the longest overdue first), then by the next deadline, then the rest newest first."""
    def key(c: Case) -> tuple:
        due = c.next_due()
        if c.state_at(now_ms) in OPEN and due is not None:
            return (0 if c.overdue(now_ms) else 1, due, c.id)
        return (2, -c.tapped_ms, c.id)
    return sorted(cases, key=key)


def _text(fields: dict[str, str], name: str, required: bool) -> str:
    value = (fields.get(name) or "").strip()
    if required and not value:
        raise CaseProblem("missing_" + name, MISSING[name])
    if len(value) > LIMITS[name]:
        raise CaseProblem("too_long", f"内容过长（最多 {LIMITS[name]} 字）。")
    return value


def step(r: redis.Redis, policy: Policy, unit: str, stream_id: str, action: str, *, by: str, now_ms: int,
         text: dict[str, str] | None = None, followup: int | None = None) -> Case:
    """Take one step of a case (STEPS); returns the case after it. CaseProblem if it cannot be
    taken: unknown case, a state it does not start from, bad text, a follow-up too late."""
    starts, ends = STEPS[action]
    text = text or {}
    fields: list[list[Any]] = []
    due: int | str = ""  # the case's score in cq (see rkeys), "" once closed
    only_before = ""
    not_after = ""
    if action == "verify":
        fields = [["vt", now_ms], ["note", _text(text, "note", False)]]
        due = "rectify"  # its rectify deadline, set below
    elif action in ("rectify", "explain"):
        if action == "rectify":
            fields = [["cause", _text(text, "cause", True)], ["act", _text(text, "act", True)]]
        fd = policy.due(now_ms, policy.followup_days)
        fields += [["reply", _text(text, "reply", True)], ["rt", now_ms], ["fd", fd]]
        due = -fd  # owes no step now: minus its follow-up deadline
    elif action == "followup":
        if followup not in FOLLOWUPS:
            raise CaseProblem("bad_followup", "请选择满意、基本满意或不满意。")
        fields, not_after = [["fu", followup], ["ct", now_ms]], str(now_ms)
    elif action == "expire":
        only_before = str(now_ms)
    before = get(r, unit, stream_id)
    if before is None:
        raise CaseProblem("unknown_case", "没有这个工单。")
    if action == "explain" and before.verified_ms is None:
        fields.append(["vt", now_ms])
    if action == "expire" and before.followup_due is not None:
        fields = [["ct", before.followup_due]]
    if due == "rectify":
        due = before.rectify_due
    keys = UnitKeys(unit)
    status, state = load_script(r, "case.lua")(
        keys=[keys.cases, keys.open_cases, keys.log, keys.case_version, keys.version],
        args=[stream_id, action, ",".join(starts), ends, now_ms, by, json.dumps(fields, ensure_ascii=False),
              due, only_before, not_after])
    if status == "unknown":
        raise CaseProblem("unknown_case", "没有这个工单。")
    if status == "state":
        now_is = STATE_NAMES.get(state, state)
        raise CaseProblem("wrong_state", f"工单现为「{now_is}」，不能{ACTION_NAMES[action]}。", state)
    if status == "late":
        raise CaseProblem("followup_closed", "回访评价期限已过，工单已办结。", state)
    if status == "early":
        raise CaseProblem("not_due", "回访期限未到。", state)
    after = get(r, unit, stream_id)
    assert after is not None
    return after


def sweep(r: redis.Redis, units: list[str], now_ms: int) -> int:
    """Close every answered case whose follow-up time has passed (logged, closed at its
    deadline). Returns how many were closed."""
    closed = 0
    for c in of_units(r, units, open_only=True, reasons=False):
        if c.state in ANSWERED and c.followup_due is not None and c.followup_due < now_ms:
            try:
                step(r, Policy(), c.unit, c.id, "expire", by="", now_ms=now_ms)
                closed += 1
            except CaseProblem:
                pass  # answered by the citizen meanwhile
    return closed
