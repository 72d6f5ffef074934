"""What citizens said: the reasons and comments given after taps, read from the unit's log
stream newest first, and masked so that no phone or ID number shows. No Flask here.

A reason is a "details" entry of the unit's log (details.lua: of = the tap's stream id, t, w,
l = the tap's level as tapped, r, tags, c). The rater may have changed the level within
minutes of the tap ("change" entries), before or after giving the reason; so an entry is
finished only once the newest-first scan has passed its tap, by when every change of it has
been seen (a change is newer than its tap). Nothing that identifies the rater (r, ip) leaves
this module."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import redis

from .rkeys import UnitKeys, parse_stream_id, stream_before

CHUNK = 500  # entries per XREVRANGE
MAX_SCAN = 50_000  # entries one page may read at most; beyond, the page says it stopped
OLD_MARGIN_MS = 3_600_000  # a reason comes within DETAILS_MAX_AGE (30 min) of its tap


@dataclass
class Comment:
    id: str  # stream id of the reason
    window: int
    level: int  # the tap's level now (after any change by its rater)
    tags: list[str]
    text: str  # masked
    time_ms: int
    status: str = "counted"  # counted | held | released | rejected | duplicate


@dataclass
class Filter:
    window: int | None = None
    level: int | None = None
    tag: str | None = None
    since_ms: int | None = None  # from this time on
    until_ms: int | None = None  # before this time

    def keeps(self, c: Comment) -> bool:
        return ((self.window is None or c.window == self.window)
                and (self.level is None or c.level == self.level)
                and (self.tag is None or self.tag in c.tags)
                and (self.since_ms is None or c.time_ms >= self.since_ms)
                and (self.until_ms is None or c.time_ms < self.until_ms))


@dataclass
class Page:
    comments: list[Comment] = field(default_factory=list)
    next: str | None = None  # read on before this stream id; None: no more
    stopped: bool = False  # MAX_SCAN reached before the page was full


def read(r: redis.Redis, uid: str, flt: Filter, *, limit: int = 50, before: str | None = None,
         max_scan: int = MAX_SCAN) -> Page:
    """Up to limit reasons of the unit matching flt, newest first, older than `before`: the
    log read backwards in chunks of CHUNK entries (XREVRANGE COUNT), at most max_scan."""
    key = UnitKeys(uid).log
    start = stream_before(before) if before and parse_stream_id(before) else "+"
    waiting: dict[str, Comment] = {}  # tap id -> its reason, until the scan passes the tap
    changed: dict[str, int] = {}  # tap id -> its newest level (changes seen so far)
    decided: dict[str, str] = {}  # tap id -> its newest review status
    found: list[Comment] = []
    scanned, old = 0, False
    while True:
        chunk = r.xrevrange(key, start, "-", count=CHUNK)
        scanned += len(chunk)
        for sid, f in chunk:
            kind, of = f.get("k"), f.get("of", "")
            if kind == "change":
                changed.setdefault(of, int(f["to"]))
            elif kind == "review":
                decided.setdefault(of, "released" if f.get("a") == "release" else "rejected")
            elif kind == "hold":
                decided.setdefault(of, "held")
            elif kind == "details" and not (flt.since_ms and int(f["t"]) < flt.since_ms):
                waiting[of] = Comment(sid, int(f["w"]), int(f["l"]), [t for t in f["tags"].split(",") if t],
                                      mask(f.get("c", "")), int(f["t"]))
            elif kind == "tap" and sid in waiting:
                c = waiting.pop(sid)
                c.level = changed.get(sid, c.level)
                c.status = decided.get(sid, f.get("s", "counted"))
                if flt.keeps(c):
                    found.append(c)
        exhausted = len(chunk) < CHUNK
        if exhausted or scanned >= max_scan:  # a reason whose tap was not reached: as given
            found += [c for c in waiting.values() if flt.keeps(c)]
            break
        old = flt.since_ms is not None and int(chunk[-1][1].get("t", 0)) < flt.since_ms - OLD_MARGIN_MS
        if (old and not waiting) or _full(found, waiting, limit):
            break
        start = stream_before(chunk[-1][0])
    found.sort(key=_id, reverse=True)
    shown = found[:limit]
    more = len(found) > limit or not (exhausted or old)
    return Page(shown, shown[-1].id if more and shown else None, scanned >= max_scan and not exhausted)


def _id(c: Comment) -> tuple[int, int]:
    return parse_stream_id(c.id) or (0, 0)


def _full(found: list[Comment], waiting: dict[str, Comment], limit: int) -> bool:
    """Whether the newest `limit` are known: as many found, and no reason still waiting for
    its tap is newer than the last of them (every unread one is older than all found)."""
    if len(found) < limit:
        return False
    cutoff = _id(sorted(found, key=_id, reverse=True)[limit - 1])
    return all(_id(c) < cutoff for c in waiting.values())


# Masking ---------------------------------------------------------------------------------
FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ－＋", "0123456789Xx-+")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}[- ]?)?[2-9]\d{2,3}[- ]?(\d{4})(?!\d)")
LONG_DIGITS = re.compile(r"(?<!\d)\d{4,}(\d{3})(?!\d)")  # any other number of 7 digits or more


def mask(text: str) -> str:
    """A comment with mainland mobile and landline numbers and ID numbers (18 digits, or 15)
    masked: 138****5678, 027-****1234, 4201**********123X; any other run of 7 or more digits
    keeps only its last three."""
    text = text.translate(FULLWIDTH)
    text = ID_NUMBER.sub(lambda m: m[1] + "*" * 10 + m[2], text)
    text = MOBILE.sub(lambda m: m[1] + "****" + m[2], text)
    text = LANDLINE.sub(lambda m: (m[1] or "") + "****" + m[2], text)
    return LONG_DIGITS.sub(lambda m: "*" * (len(m[0]) - 3) + m[1], text)
