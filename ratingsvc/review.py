"""The review queue: held taps by window and reason; release or reject, each decision audited."""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from . import feed
from .recording import rating_id
from .rkeys import UnitKeys, parse_stream_id
from .store import load_script
from .timeutil import iso_time, local_day

ACTIONS = ("release", "reject")


@dataclass
class HeldTap:
    rating_id: str
    unit: str
    window: int
    level: int
    reasons: list[str]
    time_ms: int


def _held(unit: str, stream_id: str, value: str) -> HeldTap:
    window, level, reasons, ms = value.split("|")
    return HeldTap(rating_id(unit, stream_id), unit, int(window), int(level), reasons.split(","),
                   int(ms))


def list_held(r: redis.Redis, units: list[str], *, window: int | None = None,
              reason: str | None = None) -> list[HeldTap]:
    """Held taps of these units (one pipelined round trip), oldest first."""
    with r.pipeline(transaction=False) as p:
        for uid in units:
            p.hgetall(UnitKeys(uid).held)
        queues = p.execute()
    taps = [_held(uid, sid, v) for uid, q in zip(units, queues, strict=True) for sid, v in q.items()]
    taps = [t for t in taps if (window is None or t.window == window)
            and (reason is None or reason in t.reasons)]
    return sorted(taps, key=lambda t: (t.time_ms, t.rating_id))


def decide(r: redis.Redis, unit: str, stream_id: str, *, action: str, key_id: str, key_name: str,
           why: str, now_ms: int, tz: str, case: list[int] | None = None) -> tuple[str, str]:
    """Release or reject one held tap; a released 差评 opens its case (case:
    cases.Policy.open_args). Returns (done | unknown | decided | appealed, decision id);
    appealed: a release of a tap whose appeal was upheld (it stays out)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}")
    keys, today = UnitKeys(unit), local_day(now_ms / 1000, tz)
    tap = r.xrange(keys.log, stream_id, stream_id) if parse_stream_id(stream_id) else []
    tap_day = tap[0][1].get("d", today) if tap else today
    status, decision = load_script(r, "review.lua")(
        keys=[keys.held, keys.decided, keys.tot, keys.day(today), keys.days, keys.snap, keys.log,
              keys.cases, keys.open_cases, keys.all_cases, keys.appeals, keys.case_version, keys.version,
              keys.dedupe(tap_day)],
        args=[stream_id, action, key_id, key_name, why, now_ms, today, *(case or [0, 0, 0])])
    if status == "done":
        feed.mark(r, unit)
    return str(status), str(decision)


def decisions(r: redis.Redis, units: list[str]) -> list[dict]:
    """Every decision on these units: who, when, why, and what was held."""
    with r.pipeline(transaction=False) as p:
        for uid in units:
            p.hgetall(UnitKeys(uid).decided)
        per_unit = p.execute()
    out = [{"rating_id": rating_id(uid, sid), **json.loads(v)}
           for uid, d in zip(units, per_unit, strict=True) for sid, v in d.items()]
    return sorted(out, key=lambda d: d["t"])


def decision_out(d: dict, tz: str) -> dict:
    """A decision as answers carry it: its time, and the held tap's, as ISO times."""
    held = _held("", "", d["held"])
    return {**{k: v for k, v in d.items() if k != "t"}, "time": iso_time(int(d["t"]), tz),
            "held": {"window": held.window, "level": held.level, "reasons": held.reasons,
                     "time": iso_time(held.time_ms, tz)}}
