"""What goes on a window's poster: its current URL, names, code and the evaluation period."""

from __future__ import annotations

from datetime import date

import redis

from qr.poster import Poster

from . import periods, registry
from .signing import Signing


def rating_url(signing: Signing, public_url: str, window: registry.Window) -> str:
    """What a window's QR code encodes: uppercase, so the QR stays in alphanumeric mode."""
    return f"{public_url.rstrip('/').upper()}/R/{signing.qr_token(window.id, window.epoch)}"


def poster_code(window: registry.Window) -> str:
    """Names the poster (window and epoch) for reports of a damaged or stolen one."""
    return f"W{window.id:06d}-{window.epoch}"


def period_label(period: periods.Period | None) -> str:
    if period is None:
        return ""
    s, e = period.start, period.end
    return f"评议期 {s.year}年{s.month}月{s.day}日至{e.year}年{e.month}月{e.day}日"


def period_for(r: redis.Redis, today: date, pid: str | None = None) -> periods.Period | None:
    """The named period; else the one under way today, else the next to start."""
    if pid:
        return periods.get_period(r, pid)
    known = periods.list_periods(r)
    current = [p for p in known if p.start <= today <= p.end]
    upcoming = [p for p in known if p.start > today]
    return current[0] if current else upcoming[0] if upcoming else None


def posters_for(signing: Signing, public_url: str, unit: registry.Unit,
                windows: list[registry.Window], period: periods.Period | None) -> list[Poster]:
    return [Poster(unit=unit.name, window=w.name, url=rating_url(signing, public_url, w),
                   code=poster_code(w), period=period_label(period))
            for w in windows if w.active]
