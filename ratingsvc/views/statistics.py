"""Statistics by the national definitions (README "Statistics"): per category, unit or window,
all channels and each channel, as JSON, CSV or .xlsx. The figures are ratingsvc.statistics'."""

from __future__ import annotations

from flask import Response

from .. import periods, registry, retention, statistics
from ..auth import require
from ..errors import ApiError, Conflict
from ..extensions import ApiBlueprint, get_redis
from ..limiting import per_key_limit
from ..schemas import BINARY, TEXT, StatisticsQuerySchema, StatisticsSchema
from .scores import XLSX_TYPE, compute, csv_response

blp = ApiBlueprint("statistics", __name__, url_prefix="/api/v1",
                   description="好评率, 差评率, 参评率, 未评率 per category, unit and window")
per_key_limit(blp)
FORMATS = "JSON; CSV with format=csv; an .xlsx workbook with format=xlsx (a line per row and channel)"


def rows_for(period: periods.Period, by: str, category: str | None, unit: str | None) -> list[dict]:
    """The statistics rows of a period, by category, unit or window (window: of one unit, or of
    one category's units, at most statistics.UNIT_MAX)."""
    r = get_redis()
    if unit is not None:
        category = registry.get_unit(r, unit).category
    if by == "window":
        if retention.pruned_at(r, period.id):  # its days' counts are gone; the result keeps units'
            raise Conflict("该评议期的逐日数据已清理，只能按单位或类别统计。", code="period_pruned")
        if category is None:
            raise ApiError("按窗口统计时请指定类别（category）或单位（unit）。", code="scope_required",
                           message_en="by=window needs a category or a unit")
        units = [registry.get_unit(r, unit)] if unit else [
            u for u in registry.list_units(r, category) if u.active]
        if len(units) > statistics.UNIT_MAX:
            raise ApiError(f"按窗口统计一次最多 {statistics.UNIT_MAX} 个单位，请指定单位。",
                           code="too_many_units")
        return statistics.by_window(r, units, period.start, period.end)
    table = compute(period, category, cases=False)
    if unit is not None:
        table = {**table, "units": [u for u in table["units"] if u["unit"] == unit]}
    if by == "category":
        return statistics.by_category(table, {c.id: c.name for c in registry.list_categories(r)})
    return statistics.by_unit(table)


def download(rows: list[dict], period: periods.Period, by: str, fmt: str) -> Response:
    names = {c.id: c.name for c in registry.list_categories(get_redis())}
    cells = statistics.sheet_rows(rows, names)
    name = f"statistics-{period.id}-{by}"
    if fmt == "xlsx":
        from .sheet import xlsx_response

        return xlsx_response(cells, f"{name}.xlsx", "统计")
    return csv_response(cells, f"{name}.csv")


@blp.route("/statistics")
@require("scores.read")
@blp.arguments(StatisticsQuerySchema, location="query")
@blp.response(200, StatisticsSchema, description=FORMATS)
@blp.alt_response(200, schema=TEXT, content_type="text/csv", success=True, description=FORMATS)
@blp.alt_response(200, schema=BINARY, content_type=XLSX_TYPE, success=True, description=FORMATS)
@blp.error(404, "unknown_period, unknown_category or unknown_unit")
@blp.error(409, "period_pruned: by=window of a period whose days were pruned")
def statistics_table(args: dict):
    """好评率 (levels 3-5 / rated), 差评率 (levels 1-2 / rated), 参评率 (rated / services done)
    and 未评率 (services not rated / services done), with the counts, per category, unit or
    window: all channels together, then each channel that has taps."""
    period = periods.get_period(get_redis(), args["period"])
    rows = rows_for(period, args["by"], args.get("category"), args.get("unit"))
    if args["format"] != "json":
        return download(rows, period, args["by"], args["format"])
    return {"period": period, "by": args["by"], "rows": statistics.as_json(rows)}
