"""The ranking report: per category the best and worst N by shrunk score ("十佳十差"),
units with too few ratings set apart. Plain functions over a score table."""

from __future__ import annotations

from html import escape

ROW_FIELDS = ("unit", "name", "rank", "score", "ci95", "n", "pending", "rejected", "raw", "good_rate")


def build(table: dict, names: dict[str, str], top: int) -> list[dict]:
    """table: what /api/v1/scores answers; names: category id -> name."""
    out = []
    for cid in sorted({u["category"] for u in table["units"]}):
        units = [u for u in table["units"] if u["category"] == cid]
        ranked = sorted((u for u in units if u["rank"] is not None), key=lambda u: (u["rank"], u["unit"]))
        rows = [{k: u[k] for k in ROW_FIELDS} for u in ranked]
        out.append({
            "id": cid, "name": names.get(cid, cid), "mean": table["categories"][cid]["mean"],
            "ranked": len(rows), "best": rows[:top], "worst": list(reversed(rows[-top:])),
            "insufficient": [{k: u[k] for k in ROW_FIELDS} for u in units if u["rank"] is None]})
    return out


def csv_rows(categories: list[dict]) -> list[list]:
    rows: list[list] = [["category", "list", "position", "unit", "name", "rank", "score", "ci95_low",
             "ci95_high", "n", "pending", "rejected"]]
    for c in categories:
        for which in ("best", "worst", "insufficient"):
            for i, u in enumerate(c[which], 1):
                rows.append([c["id"], which, i, u["unit"], u["name"], u["rank"], u["score"],
                             *u["ci95"], u["n"], u["pending"], u["rejected"]])
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


def table_html(rows: list[dict]) -> str:
    head = ("<tr><th>名次</th><th>单位</th><th>得分</th><th>95%区间</th><th>评价数</th><th>待核</th>"
            "<th>已剔除</th></tr>")
    body = "".join(
        f'<tr><td>{u["rank"] if u["rank"] is not None else "—"}</td><td>{escape(u["name"])}</td>'
        f'<td>{u["score"]:.2f}</td><td>{u["ci95"][0]:.2f}–{u["ci95"][1]:.2f}</td>'
        f'<td>{u["n"]}</td><td>{u["pending"]}</td><td>{"—" if u["rejected"] is None else u["rejected"]}</td>'
        '</tr>' for u in rows)
    return f"<table>{head}{body}</table>"


def html(title: str, subtitle: str, categories: list[dict], top: int) -> str:
    sections = []
    for c in categories:
        sections.append(
            f'<section><h2>{escape(c["name"])}</h2>'
            f'<p class="note">参与排名 {c["ranked"]} 个单位，类别平均分 {c["mean"]:.2f}</p>'
            f'<h3>评价最好的 {top} 个单位</h3>{table_html(c["best"])}{chart(c["best"], "#07a35a")}'
            f'<h3>评价最差的 {top} 个单位</h3>{table_html(c["worst"])}{chart(c["worst"], "#d9363e")}'
            + (f'<h3>评价数不足、不参与排名</h3>{table_html(c["insufficient"])}'
               if c["insufficient"] else "") + "</section>")
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
section {{ break-before: page; }} section:first-of-type {{ break-before: auto; }}
table, .chart {{ break-inside: avoid; }}
</style></head><body>
<h1>{escape(title)}</h1><p class="note">{escape(subtitle)}</p>
{"".join(sections)}
</body></html>"""
