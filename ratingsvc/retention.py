"""Retention: once a period is closed and its export verified, Redis keeps of it only what
something still open needs; the export on disk is the record.

prune() checks the export against the stored result (closing.verify), brings the change feed
up to date (so the logs can be trimmed up to what it relayed), then, per unit (retain.lua,
one call, keys of the unit's slot only, units CHUNK at a time):
- deletes the day counters, hourly counts, flags and dedupe hashes of the period's days that
  no period still kept covers, and drops those days from the days index and the snapshots
  (but for the days a kept period's counts are read from: the first at or after its bounds);
- trims the log (XTRIM MINID) before its first entry still needed: one of a kept day (or after
  the period), one not yet relayed to the feed, or an open case's, a pending appeal's or a held
  tap's; and drops the reasons (det) of the taps trimmed.
A period still kept is one not closed, or closed less than RETAIN_CLOSED_DAYS ago. The stored
result (rs:closed) stays: closed periods' scores read it. Each unit's call can run again with
the same effect, so a prune that stopped halfway is finished by running it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import redis

from . import closing, feed, periods, rkeys
from .rkeys import UnitKeys
from .store import load_script, read_many
from .timeutil import day_key, iso_time, local_day

CHUNK = 200  # units whose open ids are read in one round trip
SCAN = 2000  # log entries read at a time while looking for the cut
RELAYS = 100_000  # at most this many relay passes before pruning (each moves a unit BATCH on)


class PruneRefused(Exception):
    """A period that may not be pruned (yet): code, a Chinese message and an English one."""

    def __init__(self, code: str, message: str, message_en: str) -> None:
        super().__init__(message)
        self.code, self.message, self.message_en = code, message, message_en


def _days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def _closed_at(result: dict) -> float:
    return datetime.fromisoformat(result["closed_at"]).timestamp()


def check(r: redis.Redis, period_id: str, export: str, *, now: float, retain_days: float,
          force: bool = False) -> dict:
    """The period's stored result, once its export checks out against it and (unless force)
    RETAIN_CLOSED_DAYS have passed since it closed; PruneRefused otherwise."""
    periods.get_period(r, period_id)  # RegistryError if there is no such period
    result = closing.stored_result(r, period_id)
    if result is None:
        raise PruneRefused("period_open", f"评议期 {period_id} 尚未关闭，不能清理。",
                           f"Period {period_id} is not closed; only a closed period is pruned.")
    due = _closed_at(result) + retain_days * 86400
    if not force and now < due:
        raise PruneRefused("retention", f"评议期 {period_id} 的数据保留至 {iso_time(due * 1000, 'UTC')}"
                           "（RATINGSVC_RETAIN_CLOSED_DAYS），此前不清理。",
                           f"Period {period_id} is kept in Redis until {iso_time(due * 1000, 'UTC')} "
                           "(RETAIN_CLOSED_DAYS).")
    try:
        with open(export, encoding="utf-8") as lines:
            problems = closing.verify(lines, result)
    except OSError as exc:
        raise PruneRefused("export_missing", f"找不到评议期 {period_id} 的导出文件 {export}，不能清理。",
                           f"The export {export} cannot be read ({exc}); nothing is pruned.") from None
    if problems:
        raise PruneRefused("export_invalid", f"导出文件 {export} 与评议期 {period_id} 的结果不符，不能清理："
                           f"{problems[0]}", f"The export {export} does not match the result: {problems[0]}")
    return result


def kept_periods(r: redis.Redis, period_id: str, *, now: float, retain_days: float) -> list[periods.Period]:
    """The other periods whose data Redis keeps: not closed, or closed within the retention."""
    closed = {pid: json.loads(raw) for pid, raw in r.hgetall(rkeys.CLOSED).items()}
    return [p for p in periods.list_periods(r) if p.id != period_id and
            (p.id not in closed or _closed_at(closed[p.id]) + retain_days * 86400 > now)]


def catch_up_feed(r: redis.Redis, tz: str, now: float) -> None:
    """Relay every unit's log to the change feed (feed.relay) until nothing moves."""
    before = None
    for _ in range(RELAYS):
        feed.relay(r, lambda ms: local_day(ms / 1000, tz), now=now)
        offsets = r.hgetall(feed.OFFSETS)
        if offsets == before:
            return
        before = offsets


def _sid(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq)


def _cut(r: redis.Redis, unit: str, gone: Callable[[str], bool], relayed: str, keep_from: str | None,
         tz: str) -> tuple[str, list[str]]:
    """Where the unit's log may be trimmed to: the id of its first entry still needed (one of
    a day not gone, one after the relayed offset, or from keep_from on), or just after its
    last; and the taps before it that gave a reason (their det fields go)."""
    upto, limit = _sid(relayed), _sid(keep_from) if keep_from else None
    reasons: list[str] = []
    start = "-"
    while True:
        batch = r.xrange(UnitKeys(unit).log, min=start, count=SCAN)
        for eid, f in batch:
            at = _sid(eid)
            day = f.get("d") or local_day(int(f.get("t", 0)) / 1000, tz)
            if at > upto or (limit is not None and at >= limit) or not gone(day):
                return eid, reasons
            if f.get("k") == "details":
                reasons.append(f["of"])
        if batch:
            start = f"({batch[-1][0]}"
        if len(batch) < SCAN:  # all of it may go
            return (_after(start[1:]) if start != "-" else ""), reasons


def _after(stream_id: str) -> str:
    """The id just after this one (XTRIM MINID to it trims this entry too)."""
    ms, seq = _sid(stream_id)
    return f"{ms}-{seq + 1}"


def _first(ids: list[str]) -> str | None:
    return min(ids, key=_sid) if ids else None


def prune(r: redis.Redis, period_id: str, export: str, *, now: float, tz: str, retain_days: float,
          force: bool = False, on_unit: Callable[[int, int], None] | None = None) -> dict:
    """Prune what Redis keeps of a closed period whose export checks out (see the module's
    text); PruneRefused if it may not be. on_unit(units done, units) after each unit.
    Returns the figures of this run and notes the prune in rs:pruned."""
    check(r, period_id, export, now=now, retain_days=retain_days, force=force)
    period = periods.get_period(r, period_id)
    kept = kept_periods(r, period_id, now=now, retain_days=retain_days)
    covered = {day_key(d) for p in kept for d in _days(p.start, p.end)}
    bounds = sorted({day_key(x) for p in kept for x in (p.start, p.end + timedelta(days=1))})
    days = [k for k in map(day_key, _days(period.start, period.end)) if k not in covered]
    last = day_key(period.end)

    def gone(day: str) -> bool:
        return day <= last and day not in covered

    catch_up_feed(r, tz, now)
    offsets = r.hgetall(feed.OFFSETS)
    script = load_script(r, "retain.lua")
    units = sorted(r.smembers(rkeys.UNITS))
    totals = {"units": len(units), "days": len(days), "index": 0, "keys": 0, "entries": 0, "reasons": 0}
    for at in range(0, len(units), CHUNK):
        chunk = units[at:at + CHUNK]
        commands: list[tuple] = []
        for k in map(UnitKeys, chunk):
            commands += [("ZRANGE", k.open_cases, 0, -1), ("ZRANGE", k.pending_appeals, 0, -1),
                         ("HKEYS", k.held)]
        needed = read_many(r, commands)
        for i, unit in enumerate(chunk):
            cut, reasons = "", list[str]()
            if unit in offsets:  # else nothing of its log was relayed: it all stays
                keep_from = _first([x for ids in needed[3 * i:3 * i + 3] for x in ids])
                cut, reasons = _cut(r, unit, gone, offsets[unit], keep_from, tz)
            k = UnitKeys(unit)
            day_keys = [key for d in days for key in (k.day(d), k.hourly(d), k.flags(d), k.dedupe(d))]
            out = script(keys=[k.days, k.snap, k.log, k.det, *day_keys],
                         args=[cut, len(days), *days, len(bounds), *bounds, *reasons])
            for name, n in zip(("index", "keys", "entries", "reasons"), out, strict=True):
                totals[name] += int(n)
            if on_unit is not None:
                on_unit(at + i + 1, len(units))
    r.hset(PRUNED, period_id, json.dumps({"at": iso_time(now * 1000, tz), "days": len(days)}))
    return totals


PRUNED = rkeys.PRUNED


def pruned_at(r: redis.Redis, period_id: str) -> str | None:
    """When the period was last pruned (iso_time), if it was."""
    raw = r.hget(PRUNED, period_id)
    return json.loads(raw)["at"] if raw else None
