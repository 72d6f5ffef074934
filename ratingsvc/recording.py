"""Counting taps and their optional reasons: one Redis script call each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis

from . import feed, topology
from .registry import ID_RE
from .rkeys import UnitKeys, parse_stream_id
from .rules import Rules
from .store import load_script
from .timeutil import iso_time, zone

DEDUPE_TTL = 3 * 86400  # a day's dedupe hash outlives the day, whatever the time zone
TAGS = ("key_work", "business", "lawful", "public", "duty")
BUCKET = 600  # seconds of the rate buckets the IP and burst signals count in


@dataclass(frozen=True)
class Tap:
    unit: str
    window: int
    epoch: int
    level: int
    rater: str  # keyed hash, never the raw identifier
    now_ms: int
    nonce: str  # the scan ticket's nonce
    ip: str = "-"  # keyed hash of the client IP
    reasons: tuple[str, ...] = ()  # signals the app found in the request
    channel: str = "p"  # channels.CODES: p poster, t visit token, k kiosk, m SMS link
    ticket_day: str | None = None  # a token's day of issue (YYYYMMDD): it counts once, whatever day
    onsite: str = ""  # "1" from the hall's own network, "0" from elsewhere, "" unknown (visits.where)


@dataclass(frozen=True)
class Outcome:
    status: str  # counted | held | duplicate | expired | revoked | limited | mismatch
    rating_id: str | None = None
    replayed: bool = False
    reasons: list[str] = field(default_factory=list)  # why held, or which limit
    retry_after: int = 0
    earlier_level: int | None = None  # a duplicate: the level of the tap it repeats, now


def rating_id(unit: str, stream_id: str) -> str:
    return f"{unit}.{stream_id}"


def parse_rating_id(value: str) -> tuple[str, str] | None:
    """(unit, stream id) of a rating id, or None unless both are well formed."""
    unit, sep, stream_id = value.rpartition(".")
    if not (sep and ID_RE.match(unit) and parse_stream_id(stream_id)):
        return None
    return unit, stream_id


class NotDurable(Exception):
    """The tap was recorded, but not confirmed on disk or on a replica in time (TAP_DURABILITY)."""


@dataclass(frozen=True)
class Ack:
    """What a counting script's answer waits for: a command sent after it on the same
    connection (so about the script's own write), in the same round trip.
    ("WAITAOF", local, replicas, ms): on that many disks (Redis 7.2+ or Valkey);
    ("WAIT", replicas, ms): on that many replicas."""

    command: tuple

    def confirmed(self, reply: Any) -> bool:
        if self.command[0] == "WAITAOF":
            return int(reply[0]) >= self.command[1] and int(reply[1]) >= self.command[2]
        return int(reply) >= self.command[1]


MOVED = (redis.exceptions.MovedError, redis.exceptions.AskError, redis.exceptions.TryAgainError)


def run_script(r: redis.Redis, script: Any, keys: list, args: list, ack: Ack | None,
               mark: str | None = None) -> list:
    """A counting script's reply. Behind it on the same connection, in the same round trip,
    on the master that holds the keys: the ack's command, if any (the answer only once
    confirmed: NotDurable if not in time; the script's effects stay, and a retry with the same
    Idempotency-Key replays), and the change feed's mark of unit `mark`, if any (on a cluster
    the {feed} slot lives elsewhere: the mark is its own round trip then). A cluster's slot
    that moved, or a script the server lost, did not run the script: it is sent again."""
    apart = mark is not None and topology.is_cluster(r)
    for _ in range(3):
        node = topology.node_for(r, keys[0])
        with node.pipeline(transaction=False) as p:
            p.evalsha(script.sha, len(keys), *keys, *args)
            if ack is not None:
                p.execute_command(*ack.command)
            if mark is not None and not apart:
                feed.queue_mark(p, mark)
            reply, *behind = p.execute(raise_on_error=False)
        if isinstance(reply, redis.exceptions.NoScriptError):
            node.script_load(script.script)
            continue
        if isinstance(reply, MOVED):
            topology.real_client(r).nodes_manager.initialize()
            continue
        if isinstance(reply, Exception):
            raise reply
        if apart:
            feed.mark(r, mark)  # type: ignore[arg-type]  # apart: mark is not None
        if ack is not None:
            _confirm(r, ack, behind[0])
        return reply
    raise NotDurable("the cluster kept moving the slot, or the script could not be loaded")


def _confirm(r: redis.Redis, ack: Ack, confirmed: Any) -> None:
    if isinstance(confirmed, Exception):
        raise NotDurable(f"{ack.command[0]} failed: {confirmed}")
    if not ack.confirmed(confirmed):
        topology.forget_master(r)  # a master without its replica may be one no more
        raise NotDurable(f"{ack.command[0]} {ack.command[1:-1]} not confirmed within "
                         f"{ack.command[-1]} ms: {confirmed}")


def record(r: redis.Redis, tap: Tap, rules: Rules, *, tz: str, expired: bool = False,
           idempotency_key: str | None = None, idempotency_ttl: int = 86400,
           ack: Ack | None = None, case: list[int] | None = None) -> Outcome:
    """Count a tap once per rater, window and day (a poster's; another channel's once per
    token), or hold it; log it; a counted 差评 opens its
    case (case: cases.Policy.open_args, None: no cases). One round trip.
    ack: answer only once the tap is confirmed (run_script)."""
    keys = UnitKeys(tap.unit)
    now_s = tap.now_ms / 1000
    local = datetime.fromtimestamp(now_s, zone(tz))
    day, yesterday = local.strftime("%Y%m%d"), (local - timedelta(days=1)).strftime("%Y%m%d")
    bucket = int(now_s // BUCKET)
    rl, wl = rules.rater_limit, rules.window_limit
    fingerprint = f"{tap.nonce}:{tap.level}"
    idem_key = keys.idempotency(tap.rater, idempotency_key) if idempotency_key else keys.prefix
    returning_bucket = bucket_of(local.date().toordinal(), rules.return_window)
    script = load_script(r, "record.lua")
    script_keys = [
        keys.info, keys.ep, keys.dedupe(day), keys.tot, keys.day(day), keys.days,
        keys.snap, keys.log, idem_key, keys.hours, keys.rate(bucket), keys.rate(bucket - 1),
        keys.hourly(day), keys.hourly(yesterday), keys.flags(day), keys.held,
        keys.limit("r", int(now_s // rl.seconds)), keys.limit("w", int(now_s // wl.seconds)),
        keys.cases, keys.open_cases, keys.all_cases, keys.case_version, keys.version,
        keys.dedupe(tap.ticket_day or day), keys.decided, keys.appeals,
        *(keys.returning(bucket) for bucket in (returning_bucket, returning_bucket - 1)),
        keys.hall_addresses, keys.dedupe(yesterday), keys.sides]
    script_args = [
        tap.window, tap.epoch, tap.level, tap.rater, day, tap.now_ms, tap.nonce,
        fingerprint, idempotency_ttl if idempotency_key else 0, DEDUPE_TTL,
        "1" if expired else "0", tap.ip, ",".join(tap.reasons), local.isoweekday(),
        local.hour * 60 + local.minute, local.hour, rules.hours_grace, rules.ip_window_max,
        rules.burst_min, rules.burst_factor, rules.rater_windows_max,
        rl.amount, rl.seconds, wl.amount, wl.seconds, rules.ip_flag_minutes * 60_000,
        *(case or [0, 0, 0]), tap.channel, rules.visit_windows, rules.visit_minutes,
        rules.return_days, rules.return_window, local.date().toordinal(), tap.onsite, rules.ip_unit_max,
        rules.offsite_min, rules.offsite_odds, rules.hall_windows, rules.hall_minutes,
        rules.default_hours, rules.volume_margin, rules.offsite_share]
    # every tap marks its unit for the change feed in the same round trip (one that changed no
    # aggregate costs the relay a look at its log)
    reply = run_script(r, script, script_keys, script_args, ack, mark=tap.unit)
    status, stream_id, stored_fp, replayed, why, *earlier = reply
    if replayed == "1" and stored_fp != fingerprint:
        return Outcome("mismatch")
    if status == "limited":
        limit = rl if why == "rater" else wl
        wait = int(limit.seconds - now_s % limit.seconds) + 1
        return Outcome("limited", reasons=[why], retry_after=wait)
    return Outcome(status, rating_id(tap.unit, stream_id) if stream_id else None, replayed == "1",
                   why.split(",") if why else [],
                   earlier_level=int(earlier[0]) if earlier and earlier[0] else None)


def add_details(r: redis.Redis, unit: str, stream_id: str, *, rater: str, now_ms: int,
                max_age_ms: int, tags: list[str], comment: str) -> str:
    """Attach a reason to a tap. Returns saved | replayed (the same reason again) | unknown |
    forbidden | closed | exists (another reason was given)."""
    keys = UnitKeys(unit)
    status, _ = load_script(r, "details.lua")(
        keys=[keys.log, keys.det],
        args=[stream_id, rater, now_ms, max_age_ms, ",".join(tags), comment],
    )
    return str(status)


@dataclass(frozen=True)
class LevelChange:
    status: str  # changed | unchanged | unknown | forbidden | closed | not_changeable
    level: int | None = None  # the level the rating has now
    tapped_ms: int | None = None  # when it was tapped


def bucket_of(ordinal: int, window: int) -> int:
    """The 'returning' signal's bucket of a day (UnitKeys.returning), for RULE_RETURN_WINDOW."""
    return ordinal // max(1, window)


def change_level(r: redis.Redis, unit: str, stream_id: str, *, rater: str, level: int,
                 now_ms: int, window_ms: int, ack: Ack | None = None,
                 case: list[int] | None = None, return_window: int = 30) -> LevelChange:
    """Change a tap's level, by its own rater within window_ms of the tap (change.lua): a
    counted tap's count moves to the new level on the tap's day, a held one's queued level
    changes; logged. A counted tap moving into the 差评 levels opens its case, one leaving them
    voids it (case: cases.Policy.open_args). The same level again is "unchanged" and writes
    nothing."""
    keys = UnitKeys(unit)
    found = r.xrange(keys.log, stream_id, stream_id)
    if not found or found[0][1].get("k") != "tap":
        return LevelChange("unknown")
    day = found[0][1]["d"]
    script = load_script(r, "change.lua")
    script_keys = [keys.log, keys.tot, keys.day(day), keys.days, keys.snap, keys.dedupe(day),
                   keys.held, keys.decided, keys.cases, keys.open_cases, keys.all_cases, keys.case_version,
                   keys.version, keys.returning(bucket_of(_ordinal(day), return_window))]
    script_args = [stream_id, rater, level, now_ms, window_ms, day, *(case or [0, 0, 0])]
    status, now_level, tapped = run_script(r, script, script_keys, script_args, ack)
    if status == "changed":
        feed.mark(r, unit)
    return LevelChange(str(status), int(now_level) if now_level else None,
                       int(tapped) if tapped else None)


def _ordinal(day: str) -> int:
    """The day ordinal of YYYYMMDD."""
    return datetime(int(day[:4]), int(day[4:6]), int(day[6:])).toordinal()


def change_until(tapped_ms: int, seconds: int, tz: str) -> str | None:
    """Until when a tap made at tapped_ms may be changed by its rater (None: changing is off)."""
    return iso_time(tapped_ms + seconds * 1000, tz) if seconds > 0 else None


def current_level(r: redis.Redis, unit: str, stream_id: str) -> tuple[int, int] | None:
    """(level now, time tapped in ms) of a recorded tap; for a duplicate,
    the level and time of the rater's earlier tap it repeats. None if there is no such tap."""
    keys = UnitKeys(unit)
    for _ in range(3):  # a duplicate names the tap it repeats (which may be one itself)
        found = r.xrange(keys.log, stream_id, stream_id)
        if not found or found[0][1].get("k") != "tap":
            return None
        f = found[0][1]
        if f["s"] != "duplicate" or not f.get("of"):
            break
        stream_id = f["of"]
    changed = r.hget(keys.dedupe(f["d"]), f"l:{stream_id}")
    return int(changed or f["l"]), int(f["t"])
