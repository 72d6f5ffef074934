"""The settings of cases as one object: which taps open one, and the deadlines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .workdays import Calendar, read_overrides


@dataclass(frozen=True)
class Policy:
    max_level: int = 2  # taps at or below this level open a case (0: none)
    verify_days: int = 1
    rectify_days: int = 15
    followup_days: int = 5
    appeal_days: int = 5
    tz: str = "Asia/Shanghai"
    calendar: Calendar = field(default_factory=Calendar)
    change_ms: int = 120_000  # how long after a tap its rater may change its level (what an appeal reads)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        return cls(int(config["CASE_MAX_LEVEL"]), int(config["CASE_VERIFY_DAYS"]),
                   int(config["CASE_RECTIFY_DAYS"]), int(config["CASE_FOLLOWUP_DAYS"]),
                   int(config["APPEAL_DAYS"]), config["TIMEZONE"],
                   Calendar(read_overrides(config["CASE_CALENDAR_FILE"])),
                   int(config["RATING_CHANGE_SECONDS"]) * 1000)

    def due(self, now_ms: int, days: int) -> int:
        return self.calendar.due(now_ms, days, self.tz)

    def open_args(self, now_ms: int) -> list[int]:
        """What a counting script needs to open a case now: [max level, verify due, rectify due]."""
        if self.max_level <= 0:
            return [0, 0, 0]
        return [self.max_level, self.due(now_ms, self.verify_days), self.due(now_ms, self.rectify_days)]
