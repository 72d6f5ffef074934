"""Services done (办件量) per window and day: what 参评率 and 未评率 are measured against
(ratingsvc.channels). Imported from a table (CSV or .xlsx) or sent by a hall's queue system;
an import of a window's day replaces what it had. No Flask here.

A table has a header row and the columns window (窗口编号), day (日期, YYYY-MM-DD) and
services (办件量); each row a window's services on that day."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import redis

from . import feed, periods, rkeys
from .records import RegistryError
from .rkeys import UnitKeys, stream_before
from .store import load_script
from .tablefile import Table, TableError

log = logging.getLogger(__name__)
ROWS_MAX = 50_000
HOLD_DAYS = 2  # the volumes of today and yesterday hold the taps above them; older ones only measure
LOG_CHUNK = 500  # a unit's log read backwards in chunks of this many entries ...
LOG_MAX = 100_000  # ... at most this many, for one day's taps
SERVICES_MAX = 1_000_000  # a window's services on one day
COLUMNS = {"window": ("window", "窗口编号", "窗口"), "day": ("day", "日期"),
           "services": ("services", "办件量", "服务量")}


@dataclass(frozen=True)
class Volume:
    window: int
    day: date
    services: int


def from_table(table: Table) -> list[Volume]:
    """The rows of a volume table; TableError (in Chinese, naming the line) if one is wrong."""
    header = [h.strip().lower() for h in table.header]
    where = {}
    for name, names in COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in names]
        if not found:
            raise TableError(f"缺少“{names[1]}”列（{name}）。")
        where[name] = found[0]
    if len(table.rows) > ROWS_MAX:
        raise TableError(f"一次最多导入 {ROWS_MAX} 行。")
    out = []
    for line, cells in table.rows:
        cell = {name: (cells[i].strip() if i < len(cells) else "") for name, i in where.items()}
        try:
            window, services = int(cell["window"]), int(float(cell["services"]))
            day = date.fromisoformat(cell["day"][:10])
        except (ValueError, OverflowError):
            raise TableError(f"第 {line} 行：窗口编号、日期（YYYY-MM-DD）或办件量有误。") from None
        if window <= 0 or not 0 <= services <= SERVICES_MAX or services != float(cell["services"]):
            raise TableError(f"第 {line} 行：窗口编号应为正整数，办件量应为 0 至 {SERVICES_MAX} 的整数。")
        out.append(Volume(window, day, services))
    return out


class Refused(ValueError):
    """Volumes that may not be written (a day to come, a day of a closed period): nothing was."""


def check_days(r: redis.Redis, rows: list[Volume], today: date) -> None:
    """Refused unless every day has passed or is today, and is in no closed period (its
    result is frozen; its days may be pruned)."""
    late = [v.day for v in rows if v.day > today]
    if late:
        raise Refused(f"不能导入尚未到来的日期（{min(late).isoformat()}）的办件量。")
    shut = set(r.hkeys(rkeys.CLOSED))
    closed = [p for p in periods.list_periods(r) if p.id in shut]
    for v in rows:
        for p in closed:
            if p.start <= v.day <= p.end:
                raise Refused(f"{v.day.isoformat()} 属于已关闭的评议期 {p.name}（{p.id}），"
                              "其结果已冻结，不能再导入办件量。")


def save(r: redis.Redis, rows: list[Volume], now_ms: int, today: date, margin: int = 0) -> dict[str, int]:
    """Each window's services on each day, as given (the last row wins for a window's day):
    one script call per unit and day (volume.lua), after every window is found and every day
    checked (nothing is written if one is unknown, RegistryError, or refused, Refused). Then,
    for today and yesterday, a window's counted poster taps above its services and `margin`
    (RULE_VOLUME_MARGIN; 0: none) are held as 'volume' (hold_above).
    {"rows", "units", "days", "moved", "held"}."""
    if not rows:
        return {"rows": 0, "units": 0, "days": 0, "moved": 0, "held": 0}
    check_days(r, rows, today)
    windows = sorted({v.window for v in rows})
    units = dict(zip(windows, r.hmget(rkeys.WINDOWS, windows), strict=True))
    for wid, unit in units.items():
        if unit is None:
            raise RegistryError("window", wid)
    calls: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for v in rows:
        calls[(units[v.window], v.day.strftime("%Y%m%d"))][v.window] = v.services
    script = load_script(r, "volume.lua")
    moved = 0
    for (unit, day), services in sorted(calls.items()):
        keys = UnitKeys(unit)
        moved += int(script(keys=[keys.tot, keys.day(day), keys.days, keys.snap, keys.version, keys.log],
                            args=[day, now_ms, *(x for pair in sorted(services.items()) for x in pair)]))
    held, recent = 0, {(today - timedelta(days=n)).strftime("%Y%m%d") for n in range(HOLD_DAYS)}
    for (unit, day), services in sorted(calls.items()):
        if margin > 0 and day in recent:
            held += hold_above(r, unit, day, sorted(services), today.strftime("%Y%m%d"), now_ms, margin)
    for unit in {u for u, _ in calls}:
        feed.mark(r, unit)
    return {"rows": len(rows), "units": len({u for u, _ in calls}), "days": len({d for _, d in calls}),
            "moved": moved, "held": held}


def hold_above(r: redis.Redis, unit: str, day: str, windows: list[int], today: str, now_ms: int,
               margin: int) -> int:
    """Hold the counted poster taps of `windows` on `day` (YYYYMMDD) above each one's services
    that day and `margin` (excess.lua: those from outside the hall's networks first, then the
    rest, latest first); how many it held. Counted taps above the services done are
    impossible; record.lua holds a poster tap past them as it comes, once the day's volumes
    are known. Weighed: the taps of that day still counted (the dedupe hash's 'c:<window>')."""
    keys = UnitKeys(unit)
    services = r.hmget(keys.day(day), [f"w{w}:vol" for w in windows])
    tally = r.hmget(keys.dedupe(day), [f"c:{w}" for w in windows])
    over = {w for w, vol, n in zip(windows, services, tally, strict=True)
            if vol is not None and int(n or 0) > int(vol) + margin}  # (the script decides)
    if not over:
        return 0
    taps: dict[int, list[str]] = {w: [] for w in over}
    for sid, f in taps_of(r, keys.log, day):
        w = int(f.get("w", 0))
        if w in over and f.get("s") == "counted" and f.get("ch", "p") == "p":
            taps[w] += [sid, f.get("l", "0")]
    script = load_script(r, "excess.lua")
    held = 0
    for w in sorted(over):
        held += int(script(keys=[keys.dedupe(day), keys.day(day), keys.held, keys.decided, keys.appeals,
                                 keys.tot, keys.day(today), keys.days, keys.snap, keys.version, keys.log,
                                 keys.cases, keys.open_cases, keys.all_cases, keys.case_version,
                                 keys.sides],
                           args=[today, now_ms, margin, w, *taps[w]]))
    return held


def taps_of(r: redis.Redis, key: str, day: str) -> Iterator[tuple[str, dict]]:
    """The taps of `day` in a unit's log, latest first: read backwards in chunks of LOG_CHUNK,
    through the later days' entries, until LOG_CHUNK taps in a row are of earlier days (a
    worker whose clock was behind at midnight wrote a few out of order), or LOG_MAX entries
    (then logged: the rest are not weighed)."""
    start, scanned, earlier = "+", 0, 0
    while True:
        chunk = r.xrevrange(key, start, "-", count=LOG_CHUNK)
        scanned += len(chunk)
        for sid, f in chunk:
            if f.get("k") != "tap":
                continue
            tapped = f.get("d", "")
            earlier = earlier + 1 if tapped < day else 0
            if earlier >= LOG_CHUNK:
                return
            if tapped == day:
                yield sid, f
        if len(chunk) < LOG_CHUNK:
            return
        if scanned >= LOG_MAX:
            log.warning("volumes: %s read back %d entries, not to the start of %s", key, scanned, day)
            return
        start = stream_before(chunk[-1][0])
