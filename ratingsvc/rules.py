"""The anti-fraud rules' settings, and the signals the app itself sees in a rating request.

Hard limits refuse (429); signals hold a tap for review (recorded, not counted). Signals
that need counts (opening hours, many raters from one IP on one window, bursts, one rater on
several windows) are judged inside the recording script; these are judged here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from limits import parse

from .hours import compile_hours, parse_text


@dataclass(frozen=True)
class Limit:
    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        """'20/hour' -> Limit(20, 3600); the first of several ('a;b') is used."""
        item = parse(text.split(";")[0])
        return cls(item.amount, item.get_expiry())


@dataclass(frozen=True)
class Rules:
    rater_limit: Limit
    window_limit: Limit
    ip_window_max: int
    ip_flag_minutes: int
    burst_min: int
    burst_factor: float
    rater_windows_max: int
    visit_windows: int
    visit_minutes: int
    return_days: int
    return_window: int
    ip_unit_max: int
    offsite_min: int
    offsite_odds: int
    offsite_share: float
    hall_windows: int
    default_hours: str  # compiled (hours.compile_hours), "" for none
    hall_minutes: int
    volume_margin: int
    hours_grace: int
    late_ticket: int
    min_tap_ms: int
    automation_ua: re.Pattern

    @classmethod
    def from_config(cls, c: Mapping[str, Any]) -> Rules:
        return cls(
            rater_limit=Limit.parse(c["LIMIT_RATER"]), window_limit=Limit.parse(c["LIMIT_WINDOW"]),
            ip_window_max=c["RULE_IP_WINDOW_MAX"], ip_flag_minutes=c["RULE_IP_FLAG_MINUTES"],
            burst_min=c["RULE_BURST_MIN"],
            burst_factor=c["RULE_BURST_FACTOR"], rater_windows_max=c["RULE_RATER_WINDOWS_MAX"],
            visit_windows=c["RULE_VISIT_WINDOWS"], visit_minutes=c["RULE_VISIT_MINUTES"],
            return_days=c["RULE_RETURN_DAYS"], return_window=c["RULE_RETURN_WINDOW"],
            ip_unit_max=c["RULE_IP_UNIT_MAX"], offsite_min=c["RULE_OFFSITE_MIN"],
            offsite_odds=c["RULE_OFFSITE_ODDS"], offsite_share=c["RULE_OFFSITE_SHARE"],
            hall_windows=c["RULE_HALL_WINDOWS"],
            hall_minutes=c["RULE_HALL_MINUTES"], volume_margin=c["RULE_VOLUME_MARGIN"],
            default_hours=(compile_hours(parse_text(c["RULE_DEFAULT_HOURS"]))
                           if c["RULE_DEFAULT_HOURS"] else ""),
            hours_grace=c["RULE_HOURS_GRACE"], late_ticket=c["RULE_LATE_TICKET"],
            min_tap_ms=c["RULE_MIN_TAP_MS"],
            automation_ua=re.compile(c["RULE_AUTOMATION_UA"], re.IGNORECASE))

    def request_signals(self, *, ticket_age_ms: int, user_agent: str) -> list[str]:
        """Signals in the request itself: automation hints."""
        reasons = []
        too_fast = self.min_tap_ms and ticket_age_ms < self.min_tap_ms
        if too_fast or self.automation_ua.search(user_agent.strip()):
            reasons.append("automation")
        return reasons


    def stale(self, *, ticket_age_ms: int, moved: bool) -> bool:
        """A ticket older than RULE_LATE_TICKET, sent from another address than its scan's: it
        is spent as expired (nothing recorded; the page scans again by itself). From the same
        address it is as good as a fresh one (a citizen who scanned while waiting taps after
        being served); from elsewhere it could be one collected on the hall's network, which
        the ticket says it was scanned on."""
        return bool(self.late_ticket) and moved and ticket_age_ms > self.late_ticket * 1000


#: the reasons a tap is held (README "Rate limits and anti-fraud"), as the office reads them
REASONS = {
    "hours": "非办公时间评价",
    "ip_window": "同一网络地址短时多人评价",
    "burst": "短时评价激增",
    "multi_window": "同一人当天评价本单位多个窗口",
    "late_ticket": "扫码后过久才评价",  # (held so before tickets carried their scan's address)
    "automation": "疑似自动程序（过快或非手机浏览器）",
    "poster": "扫窗口二维码评价（本类别转入审核，以办件评价码为准）",
    "returning": "同一人多日评价本单位（疑似本单位人员）",
    "ip_unit": "大厅网络之外的同一地址当天多人评价本单位",
    "offsite": "窗口当天的评价大多来自大厅网络之外（疑似二维码被拍照传播）",
    "volume": "窗口当天的有效评价超过其办件量",
}


def reason_name(code: str) -> str:
    """A held tap's reason in Chinese (an unknown code as it is)."""
    return REASONS.get(code, code)
