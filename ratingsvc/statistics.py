"""The national statistics per window, unit and category, per channel (README "Statistics"):
好评率, 差评率, 参评率 and 未评率 of a period's counted taps against its services done.
No Flask here: units' and categories' figures come from a score table's rows (period.lua,
from snapshots); windows' from the units' day hashes (bounded: the units of a category).

A tally is {"volume": services, "channels": channel -> [c1..c5, pending]}."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import redis

from . import channels, registry
from .unitstats import period_days

LEVELS = ("1", "2", "3", "4", "5")
ALL = "all"
UNIT_MAX = 500  # units whose windows one statistics table reads (a category's, or one unit's)


def empty() -> dict:
    return {"volume": 0, "channels": defaultdict(lambda: [0] * 6)}


def add(into: dict, other: dict) -> None:
    into["volume"] += other["volume"]
    for ch, counts in other["channels"].items():
        mine = into["channels"][ch]
        for i, v in enumerate(counts):
            mine[i] += v


def of_row(row: dict) -> dict:
    """A score table row's tally (a row of a period closed before channels: all poster)."""
    out = empty()
    out["volume"] = (row.get("stats") or {}).get("volume", 0)
    found = row.get("channels")
    if found is None:
        found = {"poster": {"counts": row["counts"], "pending": row["pending"]}}
    for ch, c in found.items():
        out["channels"][ch] = [c["counts"][lvl] for lvl in LEVELS] + [c["pending"]]
    return out


def figures(tally: dict) -> list[tuple[str, dict]]:
    """(channel, its counts and statistics) for all channels together, then each that has taps."""
    total = [0] * 6
    for counts in tally["channels"].values():
        total = [a + b for a, b in zip(total, counts, strict=True)]
    out = [(ALL, channels.figures(total[:5], total[5], tally["volume"]))]
    for ch in channels.CHANNELS:
        counts = tally["channels"].get(ch)
        if counts and any(counts):
            out.append((ch, channels.figures(counts[:5], counts[5], tally["volume"])))
    return out


def by_unit(table: dict) -> list[dict]:
    return [{"category": u["category"], "unit": u["unit"], "name": u["name"], "window": None,
             "window_name": None, "tally": of_row(u)} for u in table["units"]]


def by_category(table: dict, names: dict[str, str]) -> list[dict]:
    tallies: dict[str, dict] = {}
    for u in table["units"]:
        add(tallies.setdefault(u["category"], empty()), of_row(u))
    return [{"category": c, "unit": None, "name": names.get(c, c), "window": None, "window_name": None,
             "tally": t} for c, t in sorted(tallies.items())]


def by_window(r: redis.Redis, units: list[registry.Unit], start: date, end: date) -> list[dict]:
    """Each window of these units (at most UNIT_MAX) with its tally over start..end, from the
    units' day hashes ("w<window>:<field>": fields.lua)."""
    out = []
    for unit in units[:UNIT_MAX]:
        tallies: dict[int, dict] = defaultdict(empty)
        for fields in period_days(r, unit.id, start, end).values():
            for name, value in fields.items():
                window, sep, field = name.partition(":")
                if not (sep and window.startswith("w") and window[1:].isdigit()):
                    continue
                _add_field(tallies[int(window[1:])], field, int(value))
        for w in registry.list_windows(r, unit.id):
            out.append({"category": unit.category, "unit": unit.id, "name": unit.name, "window": w.id,
                        "window_name": w.name, "tally": tallies.get(w.id, empty())})
    return out


def _add_field(tally: dict, field: str, value: int) -> None:
    """One day-hash field of a window ('5', 'h', 'vol', 't:5', ...) into its tally; the
    poster's counts are the rest (the other channels are taken out again in poster())."""
    if field == "vol":
        tally["volume"] += value
        return
    code, sep, level = field.rpartition(":")
    slot = LEVELS.index(level) if level in LEVELS else 5 if level == "h" else None
    if slot is None:
        return
    if not sep:
        tally["channels"]["poster"][slot] += value
    elif code in channels.BY_CODE:
        name = channels.BY_CODE[code]
        tally["channels"][name][slot] += value
        tally["channels"]["poster"][slot] -= value


HEADINGS = ["类别", "单位编号", "单位名称", "窗口编号", "窗口名称", "渠道", "办件量", "评价数",
            "非常不满意", "不满意", "基本满意", "满意", "非常满意", "待核",
            "好评率", "差评率", "参评率", "未评率"]
CHANNEL_NAMES = {ALL: "全部渠道", **channels.NAMES}


def sheet_rows(rows: list[dict], category_names: dict[str, str]) -> list[list]:
    """A line per row and channel (全部渠道 first, then each channel with taps)."""
    out: list[list] = [list(HEADINGS)]
    for row in rows:
        for ch, f in figures(row["tally"]):
            out.append([category_names.get(row["category"], row["category"]), row["unit"] or "",
                        row["name"] if row["unit"] else "", row["window"] or "", row["window_name"] or "",
                        CHANNEL_NAMES[ch], f["volume"], f["rated"], *(f["counts"][lvl] for lvl in LEVELS),
                        f["pending"], f["good_rate"], f["bad_rate"], f["participation"], f["unrated"]])
    return out


def as_json(rows: list[dict]) -> list[dict]:
    return [{k: row[k] for k in ("category", "unit", "name", "window", "window_name")}
            | {"channels": dict(figures(row["tally"]))} for row in rows]
