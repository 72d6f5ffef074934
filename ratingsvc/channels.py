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


def stats(counts: list[int], volume: int) -> dict:
    """好评率, 差评率, 参评率 and 未评率 of counted taps per level 1..5 against services done
    (inline: this runs once per unit of a score table)."""
    c1, c2, c3, c4, c5 = counts
    n = c1 + c2 + c3 + c4 + c5
    bad = c1 + c2
    return {"volume": volume, "rated": n, "good_rate": round((n - bad) / n, 4) if n else None,
            "bad_rate": round(bad / n, 4) if n else None,
            "participation": round(n / volume, 4) if volume else None,
            "unrated": round(max(0, volume - n) / volume, 4) if volume else None}


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


def breakdown(counts: list[int], pending: int, volume: int, others: list[int] | None) -> dict | None:
    """channel -> its counts, pending and statistics, for the channels that have any tap; None
    when every tap came by the poster (the unit's own figures are the poster's then)."""
    if others is None:
        return None
    return {name: figures(levels, held, volume)
            for name, (levels, held) in split(counts, pending, others).items() if any(levels) or held}


def figures(levels: list[int], pending: int, volume: int) -> dict:
    """Counted taps per level, pending, and their statistics: a channel's, or all channels'."""
    return {"counts": dict(zip("12345", levels, strict=True)), "pending": pending, **stats(levels, volume)}
