"""The ranking report: per category the best and worst N by shrunk score ("十佳十差"),
units with too few ratings set apart. Plain functions over a score table."""

from __future__ import annotations

from html import escape

from . import channels, statistics

ROW_FIELDS = ("unit", "name", "rank", "score", "ci95", "n", "pending", "rejected", "raw", "good_rate",
              "status", "cases", "stats")
STAT_COLUMNS = ("volume", "bad_rate", "participation", "unrated")  # of channels.stats
CASE_COLUMNS = ("bad", "reply_rate", "rectify_rate", "satisfaction_rate")  # of rates.FIELDS


def build(table: dict, names: dict[str, str], top: int) -> list[dict]:
    """table: what /api/v1/scores answers; names: category id -> name.

    The best and the worst lists never share a unit: each has min(top, ranked // 2) units, so
    with fewer than 2 x top ranked units both are shorter, and the middle unit of an odd
    number is on neither. Units with too few ratings, and those without any (last), are set
    apart in "insufficient"."""
    out = []
    for cid in sorted({u["category"] for u in table["units"]}):
        units = [u for u in table["units"] if u["category"] == cid]
        ranked = sorted((u for u in units if u["rank"] is not None), key=lambda u: (u["rank"], u["unit"]))
        rows = [{k: u.get(k) for k in ROW_FIELDS} for u in ranked]
        listed = min(top, len(rows) // 2)
        apart = sorted((u for u in units if u["rank"] is None), key=lambda u: u["status"] == "no_ratings")
        out.append({
            "id": cid, "name": names.get(cid, cid), "mean": table["categories"][cid]["mean"],
            "cases": table["categories"][cid].get("cases"),
            "ranked": len(rows), "listed": listed, "best": rows[:listed],
            "worst": list(reversed(rows[len(rows) - listed:])),
            "insufficient": [{k: u.get(k) for k in ROW_FIELDS} for u in apart],
            "statistics": category_statistics(units)})
    return out


def category_statistics(units: list[dict]) -> dict[str, dict] | None:
    """The category's figures, all channels and each (statistics.figures); None for a result
    closed before statistics."""
    if any(u.get("stats") is None for u in units):
        return None
    tally = statistics.empty()
    for u in units:
        statistics.add(tally, statistics.of_row(u))
    return dict(statistics.figures(tally))


def statistics_note(figures: dict[str, dict] | None) -> str:
    """The category's statistics in a sentence (README "Statistics")."""
    if not figures:
        return ""
    (_, f), *by = figures.items()
    said = (f"办件量 {f['volume']}，有效评价 {f['rated']} 条：好评率 {percent(f['good_rate'])}，"
            f"差评率 {percent(f['bad_rate'])}，参评率 {percent(f['participation'])}，"
            f"未评率 {percent(f['unrated'])}。")
    if by:
        said += "按渠道：" + "，".join(f"{channels.NAMES[ch]} {c['rated']} 条" for ch, c in by) + "。"
    return said


def csv_rows(categories: list[dict]) -> list[list]:
    """A row per listed unit; "ranked": units ranked in its category; a unit without ratings
    has status no_ratings and empty score and interval."""
    rows: list[list] = [["category", "ranked", "list", "position", "unit", "name", "rank", "score",
                         "ci95_low", "ci95_high", "n", "pending", "rejected", "status",
                         *(f"cases_{f}" for f in CASE_COLUMNS), *STAT_COLUMNS]]
    for c in categories:
        for which in ("best", "worst", "insufficient"):
            for i, u in enumerate(c[which], 1):
                rows.append([c["id"], c["ranked"], which, i, u["unit"], u["name"], u["rank"], u["score"],
                             *(u["ci95"] or (None, None)), u["n"], u["pending"], u["rejected"],
                             u["status"], *((u["cases"] or {}).get(f) for f in CASE_COLUMNS),
                             *((u.get("stats") or {}).get(f) for f in STAT_COLUMNS)])
    return rows


def chart(rows: list[dict], colour: str) -> str:
    """Inline SVG: each unit's shrunk score (dot) and its 95% interval (bar) on 0-10."""
    line, left, width = 22, 190, 300
    height = line * len(rows) + 30
    x = lambda v: left + width * (v or 0) / 10  # noqa: E731
    parts = [f'<svg class="chart" viewBox="0 0 {left + width + 20} {height}" role="img" '
             f'aria-label="scores and intervals" xmlns="http://www.w3.org/2000/svg">']
    for tick in range(0, 11, 2):
        parts.append(f'<line x1="{x(tick)}" y1="0" x2="{x(tick)}" y2="{height - 20}" stroke="#ddd"/>'
                     f'<text x="{x(tick)}" y="{height - 6}" font-size="11" text-anchor="middle">'
                     f'{tick}</text>')
    for i, u in enumerate(rows):
        y = line * i + 14
        lo, hi = u["ci95"]
        parts.append(f'<text x="{left - 8}" y="{y + 4}" font-size="12" text-anchor="end">'
                     f'{escape(u["name"])}</text>'
                     f'<line x1="{x(lo)}" y1="{y}" x2="{x(hi)}" y2="{y}" stroke="{colour}" '
                     f'stroke-width="3" stroke-opacity="0.35"/>'
                     f'<circle cx="{x(u["score"])}" cy="{y}" r="5" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def cells(u: dict) -> str:
    """A unit's score and interval cells: 无评价 without ratings, never the category mean."""
    if u["score"] is None:
        return '<td class="none">无评价</td><td>—</td>'
    return f'<td>{u["score"]:.2f}</td><td>{u["ci95"][0]:.2f}–{u["ci95"][1]:.2f}</td>'


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def case_cells(c: dict | None) -> str:
    """差评 count, 差评回复率 and 回访整改满意率 cells ("—": none, or closed before cases)."""
    if not c:
        return "<td>—</td><td>—</td><td>—</td>"
    return (f'<td>{c["bad"]}</td><td>{percent(c["reply_rate"])}</td>'
            f'<td>{percent(c["satisfaction_rate"])}</td>')


def case_note(c: dict | None) -> str:
    """The category's cases in a sentence (README "Cases: rates")."""
    if not c:
        return ""
    return (f"差评 {c['bad']} 件：差评回复率 {percent(c['reply_rate'])}，"
            f"按期整改率 {percent(c['rectify_rate'])}，回访整改满意率 {percent(c['satisfaction_rate'])}；"
            f"申诉 {c['appeals']} 件，成立 {c['upheld']} 件。")


def table_html(rows: list[dict]) -> str:
    head = ("<thead><tr><th>名次</th><th>单位</th><th>得分</th><th>95%区间</th><th>评价数</th>"
            "<th>待核</th><th>已剔除</th><th>差评</th><th>回复率</th><th>回访满意率</th></tr></thead>")
    body = "".join(
        f'<tr><td>{u["rank"] if u["rank"] is not None else "—"}</td><td>{escape(u["name"])}</td>'
        f'{cells(u)}<td>{u["n"]}</td><td>{u["pending"]}</td>'
        f'<td>{"—" if u["rejected"] is None else u["rejected"]}</td>{case_cells(u.get("cases"))}</tr>'
        for u in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def section(c: dict, top: int, min_n: int) -> str:
    ranked, listed = c["ranked"], c["listed"]
    note = f"参与排名 {ranked} 个单位（评价数不少于 {min_n} 条），类别平均分 {c['mean']:.2f}。"
    note += case_note(c.get("cases")) + statistics_note(c.get("statistics"))
    if not listed:
        note += "参与排名的单位少于 2 个，不列最好与最差名单。"
    elif listed < top:
        middle = ranked - 2 * listed
        note += (f"参与排名的单位不足 {2 * top} 个：最好与最差各列 {listed} 个，两份名单不重复"
                 + (f"，居中的 {middle} 个单位均不列入。" if middle else "。"))
    parts = [f'<section><h2>{escape(c["name"])}</h2><p class="note">{note}</p>']
    if listed:
        parts += [f'<div class="list"><h3>评价最好的 {listed} 个单位</h3>{table_html(c["best"])}'
                  f'{chart(c["best"], "#07a35a")}</div>',
                  f'<div class="list"><h3>评价最差的 {listed} 个单位</h3>{table_html(c["worst"])}'
                  f'{chart(c["worst"], "#d9363e")}</div>']
    if c["insufficient"]:
        none = sum(u["status"] == "no_ratings" for u in c["insufficient"])
        parts.append(f'<h3>评价数不足、不参与排名（{len(c["insufficient"])} 个单位，'
                     f'其中无评价 {none} 个）</h3>{table_html(c["insufficient"])}')
    return "".join(parts) + "</section>"


def html(title: str, subtitle: str, categories: list[dict], top: int, min_n: int) -> str:
    """The printable page: A4, each category from a new page, a heading never last on a page
    (kept with what follows it), a table's header row repeated on each page it spans."""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
@page {{ size: A4; margin: 16mm 14mm; }}
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
       color: #111; margin: 0 auto; max-width: 760px; font-size: 13px; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin: 18px 0 4px; }}
h3 {{ font-size: 14px; margin: 12px 0 4px; }} .note {{ color: #444; margin: 0 0 6px; }}
table {{ border-collapse: collapse; width: 100%; margin: 4px 0; }}
th, td {{ border: 1px solid #999; padding: 3px 6px; text-align: left; }}
th {{ background: #eee; }} .chart {{ width: 100%; max-width: 520px; display: block; }}
td.none {{ color: #666; }}
section {{ break-before: page; }} section:first-of-type {{ break-before: auto; }}
h1, h2, h3, .note {{ break-after: avoid; }}
.list, tr, .chart {{ break-inside: avoid; }}
thead {{ display: table-header-group; }}
</style></head><body>
<h1>{escape(title)}</h1><p class="note">{escape(subtitle)}</p>
{"".join(section(c, top, min_n) for c in categories)}
</body></html>"""
