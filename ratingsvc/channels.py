"""The ways a tap comes in, and the national statistics of counts (no Flask here).

Every tap records its channel (record.lua's "ch"; counts keep the channels other than the
poster in fields of their own, fields.lua; the poster's are the rest):

- ``poster``: the window's QR poster (/r/<token>), as always;
- ``visit``: a visit token, one service at one window, printed on the queue ticket or shown
  on the window's screen (ratingsvc.visits);
- ``kiosk``: the rating device at the window, open for 30 seconds after the clerk ends a
  service (ratingsvc.visits, a kiosk opening);
- ``sms``: a signed per-service link that the office's SMS gateway sends (ratingsvc.visits).

No channel makes a rating by itself: there is never a default or generated rating.

Statistics, as the national 好差评 rules define them (README "Statistics"):
好评率 = counted taps of levels 3-5 / counted taps; 差评率 = levels 1-2 / counted taps;
参评率 = counted taps / services done (imported volumes); 未评率 = services not rated /
services done = max(0, services - counted taps) / services. A rate without its denominator
is null.
"""

from __future__ import annotations

CHANNELS = ("poster", "visit", "kiosk", "sms")
CODES = {"poster": "p", "visit": "t", "kiosk": "k", "sms": "m"}
BY_CODE = {code: name for name, code in CODES.items()}
OTHERS = ("visit", "kiosk", "sms")  # the order of period.lua's channel counts
NAMES = {"poster": "窗口二维码", "visit": "办件评价码", "kiosk": "窗口评价器", "sms": "短信链接"}
STAT_NAMES = {"good_rate": "好评率", "bad_rate": "差评率", "participation": "参评率", "unrated": "未评率"}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def stats(counts: list[int], volume: int) -> dict:
    """好评率, 差评率, 参评率 and 未评率 of counted taps per level 1..5 against services done."""
    n = sum(counts)
    return {"volume": volume, "rated": n, "good_rate": _ratio(sum(counts[2:]), n),
            "bad_rate": _ratio(counts[0] + counts[1], n), "participation": _ratio(n, volume),
            "unrated": _ratio(max(0, volume - n), volume)}


def split(counts: list[int], pending: int, others: list[int] | None) -> dict[str, tuple[list[int], int]]:
    """channel -> (counted taps per level 1..5, pending) from a unit's counts and period.lua's
    counts of the other channels (six numbers each: levels 1..5, pending; None: all 0)."""
    out: dict[str, tuple[list[int], int]] = {}
    rest, rest_pending = list(counts), pending
    for i, name in enumerate(OTHERS):
        part = others[i * 6:i * 6 + 6] if others else [0] * 6
        out[name] = (list(part[:5]), part[5])
        rest = [a - b for a, b in zip(rest, part[:5], strict=True)]
        rest_pending -= part[5]
    return {"poster": (rest, rest_pending), **out}


def breakdown(counts: list[int], pending: int, volume: int, others: list[int] | None) -> dict:
    """channel -> its counts, pending and statistics, for the channels that have any tap."""
    out = {}
    for name, (levels, held) in split(counts, pending, others).items():
        if any(levels) or held:
            out[name] = {"counts": dict(zip("12345", levels, strict=True)), "pending": held,
                         **stats(levels, volume)}
    return out
