"""Appeals (申诉复核): a unit asks the office to take a counted tap out as mistaken or
malicious, within APPEAL_DAYS working days of the tap; the office upholds (the tap leaves the
counts, its case is voided) or rejects. One appeal per tap, one appeal.lua call a step."""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from .. import feed
from ..recording import rating_id
from ..rkeys import UnitKeys
from ..store import load_script, read_many
from ..timeutil import local_day
from .policy import Policy
from .store import CHUNK, CaseProblem

STATE_NAMES = {"pending": "待复核", "upheld": "申诉成立", "rejected": "申诉不成立"}
LIMITS = {"reason": 500, "evidence": 2000, "note": 500}
REFUSED = {
    "unknown": ("unknown_rating", "没有这条评价。"),
    "exists": ("appeal_exists", "这条评价已申诉过，每条评价只能申诉一次。"),
    "not_counted": ("not_counted", "这条评价现不计入统计，无需申诉。"),
    "late": ("appeal_late", "已超过申诉期限。"),
    "decided": ("appeal_decided", "这项申诉已有复核结论。"),
}


@dataclass
class Appeal:
    unit: str
    id: str  # the tap's stream id
    state: str
    window: int
    level: int
    tapped_ms: int
    day: str
    filed_ms: int
    by: str
    reason: str
    evidence: str = ""
    decided_ms: int | None = None
    decided_by: str = ""
    note: str = ""
    taken_out: bool = False  # upheld, and the tap was counted until then

    @property
    def rating_id(self) -> str:
        return rating_id(self.unit, self.id)


def from_json(unit: str, stream_id: str, raw: str) -> Appeal:
    a = json.loads(raw)
    return Appeal(unit, stream_id, a["s"], int(a["w"]), int(a["l"]), int(a["t"]), str(a["d"]), int(a["ft"]),
                  a.get("by", ""), a.get("reason", ""), a.get("evidence", ""),
                  int(a["dt"]) if a.get("dt") is not None else None, a.get("dby", ""), a.get("note", ""),
                  bool(a.get("out")))


def _text(value: str | None, name: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CaseProblem("missing_" + name, "请填写申诉理由。" if name == "reason" else "请填写复核意见。")
    if len(value) > LIMITS[name]:
        raise CaseProblem("too_long", f"内容过长（最多 {LIMITS[name]} 字）。")
    return value


def _last(policy: Policy, tap: dict, decided: dict) -> int:
    """The last moment to appeal a tap: APPEAL_DAYS working days from when it began to count
    (its release, if it was held)."""
    since = int(decided["t"]) if decided.get("action") == "release" else int(tap["t"])
    return policy.due(since, policy.appeal_days)


def deadline(r: redis.Redis, policy: Policy, unit: str, stream_id: str) -> int | None:
    """The last moment to appeal this tap (ms), None if there is no such tap."""
    keys = UnitKeys(unit)
    found = r.xrange(keys.log, stream_id, stream_id)
    if not found or found[0][1].get("k") != "tap":
        return None
    raw = r.hget(keys.decided, stream_id)
    return _last(policy, found[0][1], json.loads(raw) if raw else {})


def _run(r: redis.Redis, policy: Policy, unit: str, stream_id: str, mode: str, *, by: str, now_ms: int,
         said: list[list[str]]) -> str:
    keys = UnitKeys(unit)
    found = r.xrange(keys.log, stream_id, stream_id)
    if not found or found[0][1].get("k") != "tap":
        raise CaseProblem(*REFUSED["unknown"])
    tap = found[0][1]
    day = tap["d"]
    raw = r.hget(keys.decided, stream_id)
    decided = json.loads(raw) if raw else {}
    released = decided.get("action") == "release"
    # A release counts the tap from the day of the decision (kept with it since cases; before,
    # the day of its time).
    release_day = local_day(int(decided["t"]) / 1000, policy.tz) if released else day
    count_day = (decided.get("day") or release_day) if released else day
    last = _last(policy, tap, decided)
    for _ in range(2):
        status, value = load_script(r, "appeal.lua")(
            keys=[keys.appeals, keys.pending_appeals, keys.log, keys.held, keys.decided, keys.dedupe(day),
                  keys.tot, keys.day(count_day), keys.days, keys.snap, keys.cases, keys.open_cases,
                  keys.all_cases, keys.case_version, keys.version],
            args=[stream_id, mode, now_ms, by, json.dumps(said, ensure_ascii=False), day, count_day, last,
                  policy.change_ms, release_day])
        if status != "moved" or not value:
            break
        count_day = value  # released meanwhile: counted on the day of its release
    if status != "done":
        raise CaseProblem(*REFUSED.get(status, ("appeal_refused", "无法处理这项申诉。")))
    if mode == "uphold":  # a counted tap taken out: news for the change feed
        feed.mark(r, unit)
    return str(value)


def file(r: redis.Redis, policy: Policy, unit: str, stream_id: str, *, by: str, now_ms: int, reason: str,
         evidence: str = "") -> Appeal:
    """A unit's appeal of its counted tap. CaseProblem if refused (REFUSED)."""
    said = [["reason", _text(reason, "reason", True)], ["evidence", _text(evidence, "evidence", False)]]
    _run(r, policy, unit, stream_id, "file", by=by, now_ms=now_ms, said=said)
    got = get(r, unit, stream_id)
    assert got is not None
    return got


def check_note(note: str, uphold: bool) -> str:
    """The office's note, stripped; CaseProblem if upholding without one, or too long."""
    return _text(note, "note", uphold)


def decide(r: redis.Redis, policy: Policy, unit: str, stream_id: str, *, uphold: bool, by: str, now_ms: int,
           note: str) -> Appeal:
    """The office's decision; upheld takes the tap out of the counts from now on."""
    said = [["note", check_note(note, uphold)]]
    _run(r, policy, unit, stream_id, "uphold" if uphold else "reject", by=by, now_ms=now_ms, said=said)
    got = get(r, unit, stream_id)
    assert got is not None
    return got


def get(r: redis.Redis, unit: str, stream_id: str) -> Appeal | None:
    raw = r.hget(UnitKeys(unit).appeals, stream_id)
    return from_json(unit, stream_id, raw) if raw else None


def pending_count(r: redis.Redis, units: list[str]) -> int:
    """How many appeals of these units await the office (ZCARD of each queue, CHUNK a trip)."""
    return sum(sum(read_many(r, [("ZCARD", UnitKeys(u).pending_appeals) for u in units[i:i + CHUNK]]))
               for i in range(0, len(units), CHUNK))


def of_units(r: redis.Redis, units: list[str], *, pending_only: bool = False) -> list[Appeal]:
    """Appeals of these units (pending ones only: from the queue), oldest first; CHUNK units a
    round trip."""
    out: list[Appeal] = []
    for i in range(0, len(units), CHUNK):
        chunk = units[i:i + CHUNK]
        if pending_only:
            ids = read_many(r, [("ZRANGE", UnitKeys(u).pending_appeals, 0, -1) for u in chunk])
            asks = [(u, list(found)) for u, found in zip(chunk, ids, strict=True) if found]
            raws = read_many(r, [("HMGET", UnitKeys(u).appeals, *found) for u, found in asks])
            out += [from_json(u, sid, v) for (u, found), vs in zip(asks, raws, strict=True)
                    for sid, v in zip(found, vs, strict=True) if v]
        else:
            every = read_many(r, [("HGETALL", UnitKeys(u).appeals) for u in chunk])
            for u, got in zip(chunk, every, strict=True):
                pairs = dict(zip(got[::2], got[1::2], strict=True)) if isinstance(got, list) else got
                out += [from_json(u, sid, v) for sid, v in pairs.items()]
    return sorted(out, key=lambda a: (a.filed_ms, a.rating_id))
