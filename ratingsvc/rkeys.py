"""Every Redis key name, in one place.

Registry records that are read across units are global. Each category's units are also
listed in a set of its own, ``rs:{c.<category>}:units`` (ratingsvc.catunits). Everything about one unit, and
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
    dd:<D>      hash  "<window>:<rater hash>" and "t:<ticket nonce>" -> first tap's id;
                      "r:<rater hash>" -> windows of the unit the rater rated that day;
                      "f:<rater hash>" -> "<id>|<window>|<level>" of its counted tap;
                      "l:<tap id>" -> the level of a tap its rater changed (change.lua);
                      "v:<rater hash>" -> ms of its first poster tap that day (a visit's start);
                      "g:<rater hash>" -> its visit's second counted tap, as "f:"
    log         stream every recorded tap (counted, held, duplicate), every reason given
                      after one, every change of its level by its rater, every later hold
                      of a counted tap, every review decision
    det         hash  rating id -> stream id of its reason
    idem:<R>:<K> string first answer to Idempotency-Key K from rater R
    hours       hash  window id -> opening hours "<weekdays>|<from>-<to>,..." (minutes)
    rt:<B>      hash  10-minute bucket B: "w<window>" new raters, "i<window>:<ip hash>"
    hr:<D>      hash  "<window>:<hour>" -> new raters in that hour of day D
    fl:<D>      hash  "<window>:<ip hash>" -> ms of its last tap while flagged on day D
    lr:<P>, lw:<P> hash  taps per rater / per window in fixed limit period P
    hq          hash  held tap id -> "<window>|<level>|<reasons>|<ms>": the review queue
    hd          hash  decided tap id -> "<action>|<key id>|<ms>|<decision id>"
    cs          hash  tap id -> its case (JSON, ratingsvc.cases.store; lua/cases.lua)
    cq          zset  open cases: those that owe a step (verify, reply) by its deadline (ms); those
                      replied, awaiting the follow-up, by minus its deadline (so a ZCOUNT from 0
                      to now counts the overdue)
    ca          zset  every case by its tap's time (ms)
    ap          hash  tap id -> its appeal (JSON, ratingsvc.cases.appeals)
    apq         zset  pending appeals by the time they were made (ms)
    rd:<B>      hash  rater hash -> its first counted poster tap of each recent day,
                      "<day ordinal>|<tap id>|<window>|<level>;..." (record.lua: 'returning')
    cv          string the version of the unit's cases and appeals: bumped by every change of them
    ws          hash  tap id -> the openid of its rater who allowed a WeChat notice of the reply
                      (one-time subscription), sealed (Signing.seal, AES-GCM, bound to the rating
                      id); never the raw openid. Deleted once the notice is sent (or tried) or the
                      case closes (ratingsvc.cases.notify)
    Counts also have "h": held taps (not counted) awaiting review (pending), and "x": held taps
    that were rejected (from the day of the decision on). Before "x", a rejected tap stayed in
    "h"; such data is not migrated.
"""

from __future__ import annotations

import re

CATEGORIES = "rs:cats"  # set of category ids
UNITS = "rs:units"  # set of unit ids
WINDOWS = "rs:wins"  # hash window id -> unit id (windows never move)
WINDOW_SEQ = "rs:seq:window"
CATEGORY_UNITS_READY = "rs:cat-units-ready"  # string: every unit is in its category's set (catunits)
PERIODS = "rs:periods"  # hash period id -> JSON
API_KEYS = "rs:apikeys"  # hash sha256(key) -> JSON
DEMO_MARK = "rs:demo"
PUBLIC_PERIODS = "rs:public"  # set of running periods whose results /results/<id> shows (closed: all)
REGISTRY_VERSION = "rs:regver"  # moved after every change of units' records (views.scores.rows_of)
CLOSED = "rs:closed"  # hash period id -> its frozen result (JSON)
PRUNED = "rs:pruned"  # hash period id -> when Redis was pruned of it (JSON, ratingsvc.retention)
ACCOUNTS = "rs:accts"  # set of console usernames (ratingsvc.accounts)
ACCOUNT_PREFIX = "rs:acct:"  # + username: hash, the account
SESSION_PREFIX = "rs:sess:"  # + sha256(session id): the console session (ratingsvc.console.sessions)
ACCOUNT_SESSIONS = "rs:acct-sess:"  # + username: set of its sessions' hashes
AUDIT = "rs:audit"  # stream: the audit log (ratingsvc.audit), append-only
UPLOAD_PREFIX = "rs:upload:"  # + token: a file between its import preview and its confirmation
HALLS = "rs:halls"  # set of hall numbers (ratingsvc.visits); each rs:hall:<n> hash
HALL_SEQ = "rs:seq:hall"
HALL_WINDOWS = "rs:hallwin"  # hash window id -> its hall
WECHAT_TOKEN = "rs:wx:token"  # string: WeChat's access token, sealed, until shortly before it expires


STREAM_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
MAX_ID_PART = 2**64 - 1


def parse_stream_id(value: str) -> tuple[int, int] | None:
    """(ms, seq) of a Redis stream id "<ms>-<seq>", or None unless it is one that Redis takes
    (ASCII digits, each part below 2^64): a bad id from a client must never reach Redis."""
    match = STREAM_ID.fullmatch(value)
    if match is None:
        return None
    ms, seq = int(match[1]), int(match[2])
    return (ms, seq) if ms <= MAX_ID_PART and seq <= MAX_ID_PART else None


def stream_before(stream_id: str) -> str:
    """The greatest stream id before stream_id: where a backward read (XREVRANGE) goes on."""
    ms, seq = parse_stream_id(stream_id) or (0, 0)
    return f"{ms}-{seq - 1}" if seq else f"{ms - 1}-{2**64 - 1}" if ms else "0-0"


def closing_progress(period_id: str) -> str:
    return f"rs:closing:{period_id}"  # string: JSON, how far closing the period has come


def closing_lock(period_id: str) -> str:
    return f"rs:closing-lock:{period_id}"  # string: who is closing the period, while it runs


def category(cid: str) -> str:
    return f"rs:cat:{cid}"


def category_units(cid: str) -> str:
    return f"rs:{{c.{cid}}}:units"  # set: the category's unit ids, and maybe some that left it


class UnitKeys:
    """Key names of one unit, all in the unit's slot."""

    __slots__ = ("prefix",)

    def __init__(self, unit_id: str) -> None:
        self.prefix = f"rs:{{u.{unit_id}}}:"

    def __getattr__(self, name: str) -> str:  # info, wname, ep, tot, days, snap, log, det, hours
        if name in {"info", "wname", "ep", "tot", "days", "snap", "log", "det", "hours"}:
            return self.prefix + name
        raise AttributeError(name)

    def day(self, day: str) -> str:
        return f"{self.prefix}day:{day}"

    def dedupe(self, day: str) -> str:
        return f"{self.prefix}dd:{day}"

    def idempotency(self, rater: str, key: str) -> str:
        return f"{self.prefix}idem:{rater}:{key}"

    def rate(self, bucket: int) -> str:
        return f"{self.prefix}rt:{bucket}"

    def hourly(self, day: str) -> str:
        return f"{self.prefix}hr:{day}"

    def flags(self, day: str) -> str:
        return f"{self.prefix}fl:{day}"

    def limit(self, kind: str, period: int) -> str:
        return f"{self.prefix}l{kind}:{period}"

    @property
    def held(self) -> str:
        return self.prefix + "hq"

    @property
    def decided(self) -> str:
        return self.prefix + "hd"

    @property
    def cases(self) -> str:
        return self.prefix + "cs"

    @property
    def open_cases(self) -> str:
        return self.prefix + "cq"

    @property
    def all_cases(self) -> str:
        return self.prefix + "ca"

    @property
    def appeals(self) -> str:
        return self.prefix + "ap"

    @property
    def pending_appeals(self) -> str:
        return self.prefix + "apq"

    @property
    def case_version(self) -> str:
        return self.prefix + "cv"

    @property
    def version(self) -> str:
        """The unit's version: moved by every step that changes its record, its counts or
        snapshots, or its cases (state.lua reads it to know what a kept table may keep)."""
        return self.prefix + "ver"

    def returning(self, bucket: int) -> str:
        """Each rater's counted poster taps on recent days (record.lua's 'returning' signal), in
        buckets of RULE_RETURN_WINDOW days (day ordinal // window): a tap reads its bucket and
        the one before, and a bucket expires after two windows, so the state stays bounded."""
        return f"{self.prefix}rd:{bucket}"

    @property
    def hall_addresses(self) -> str:
        """Addresses taken for a hall's own where no network is registered (record.lua): the
        address's keyed hash -> the day ordinal on which it last was."""
        return self.prefix + "ha"

    @property
    def sides(self) -> str:
        """The unit's counted poster taps on its halls' networks and outside them, by day
        ("<day ordinal>:o" and ":x", the last 8 days; record.lua's 'offsite'): the hall's usual
        share from outside."""
        return self.prefix + "os"

    @property
    def wechat_subscribers(self) -> str:
        return self.prefix + "ws"
