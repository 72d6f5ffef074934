"""Every Redis key name, in one place.

Registry records that are read across units are global. Everything about one unit, and
everything the counting scripts touch, carries the unit's hash tag ``{u.<unit>}`` so a
script's keys always share one slot (and so one Redis Cluster shard).

Per unit (hash tag ``{u.ID}``):
    info        hash  name, category, active ("1"/"0")
    wname       hash  window id -> window name
    ep          hash  window id -> current epoch "N", or "xN" while the window is inactive
    tot         hash  counted taps, all time: "1".."5"; per window "w<id>:<level>"
    day:<D>     hash  the same for calendar day D (YYYYMMDD), plus "dup"
    days        zset  days that have counted taps, score = D
    snap        hash  "<D>:<level>" -> counted taps before day D (cumulative at its start)
    dd:<D>      hash  "<window>:<rater hash>" -> rating id of that day's counted tap
    log         stream every tap (counted and duplicate) and every reason given after one
    det         hash  rating id -> stream id of its reason
    idem:<R>:<K> string first answer to Idempotency-Key K from rater R
"""

from __future__ import annotations

CATEGORIES = "rs:cats"  # set of category ids
UNITS = "rs:units"  # set of unit ids
WINDOWS = "rs:wins"  # hash window id -> unit id (windows never move)
WINDOW_SEQ = "rs:seq:window"
PERIODS = "rs:periods"  # hash period id -> JSON
API_KEYS = "rs:apikeys"  # hash sha256(key) -> JSON
DEMO_MARK = "rs:demo"


def category(cid: str) -> str:
    return f"rs:cat:{cid}"


class UnitKeys:
    """Key names of one unit, all in the unit's slot."""

    __slots__ = ("prefix",)

    def __init__(self, unit_id: str) -> None:
        self.prefix = f"rs:{{u.{unit_id}}}:"

    def __getattr__(self, name: str) -> str:  # info, wname, ep, tot, days, snap, log, det
        if name in {"info", "wname", "ep", "tot", "days", "snap", "log", "det"}:
            return self.prefix + name
        raise AttributeError(name)

    def day(self, day: str) -> str:
        return f"{self.prefix}day:{day}"

    def dedupe(self, day: str) -> str:
        return f"{self.prefix}dd:{day}"

    def idempotency(self, rater: str, key: str) -> str:
        return f"{self.prefix}idem:{rater}:{key}"
