"""`ratingsvc units import FILE [--dry-run] [--yes] [--rename-categories]`: read the file, show
the plan (ratingsvc.importplan), then write it: asked on a terminal unless --yes; a script's
run (no terminal) writes without asking. Conflicts stop it before anything is written."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import importer, importplan
from .importplan import Item, Plan

KIND = {"category": "类别", "unit": "单位", "window": "窗口"}
FIELD = {"name": "名称 name", "category": "类别 category", "active": "状态 active",
         "windows": "窗口 windows", "hours": "办公时间 hours"}
STATUS = [("new", "新增 new"), ("changed", "变更 changed"), ("unchanged", "不变 unchanged")]
LISTED = 20  # new units are listed up to this many; changes and conflicts all


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "启用" if value else "停用"
    return str(value)


def _change(item: Item) -> str:
    parts = []
    for name, (old, new) in item.changes.items():
        parts.append(f"{FIELD[name]}: {new}" if name == "windows"
                     else f"{FIELD[name]}: {_value(old)} → {_value(new)}")
    return "；".join(parts)


def describe(plan: Plan) -> list[str]:
    """The plan as the office reads it: counts, then every change and conflict."""
    counts = plan.counts()
    out = []
    for status, label in STATUS:
        line = f"  {label}：类别 {counts['category', status]}，单位 {counts['unit', status]}"
        out.append(line + (f"，窗口 {plan.new_windows}" if status == "new" else ""))
    out.append(f"  冲突 conflicts：{len(plan.conflicts)}")
    for status, kind in [("new", "category"), ("new", "unit"), ("changed", "category"),
                         ("changed", "unit")]:
        items = [i for i in plan.items if i.status == status and i.kind == kind]
        word = "新增" if status == "new" else "变更"
        shown = items if status == "changed" or kind == "category" else items[:LISTED]
        for i in shown:
            detail = f"：{_change(i)}" if i.changes else ""
            if status == "new" and kind == "unit":
                detail = f"：{len(i.windows)} 个窗口" + ("，停用" if not i.active else "")
            out.append(f"  {word} {KIND[kind]} {i.id} {i.name}{detail}")
        if len(items) > len(shown):
            out.append(f"  {word} ……另 {len(items) - len(shown)} 个{KIND[kind]} "
                       f"(and {len(items) - len(shown)} more)")
    for i in plan.conflicts:
        out.append(f"  冲突 {KIND[i.kind]} {i.id}：{i.problem}")
    return out


def interactive() -> bool:
    """Whether someone at a terminal can answer the question."""
    return sys.stdin.isatty()


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what the import would change; write nothing.")
@click.option("--yes", "-y", is_flag=True, help="Write without asking (asked only on a terminal).")
@click.option("--rename-categories", is_flag=True,
              help="Rename a stored category whose name differs in the file (else a conflict).")
def import_units(file: str, dry_run: bool, yes: bool, rename_categories: bool) -> None:
    """Load units from FILE: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx, with columns
    category_id,category_name,unit_id,unit_name,windows[,active]. Shows the plan first."""
    from . import actions
    from .audit import cli_actor
    from .cli import app_context
    from .extensions import get_redis

    name = Path(file).name
    try:
        loaded = importer.read_file(file)
    except OSError as exc:
        raise click.ClickException(f"无法打开 {file}：{exc.strerror} / cannot open {file}") from None
    except importer.TableError as exc:
        raise click.ClickException(f"{name}：{exc}；未导入任何内容 / nothing was imported") from None
    table = loaded.table
    click.echo(f"读取 read {name}：{table.source}，{len(loaded.rows)} 行 rows，"
               f"跳过空行 {table.blank} 行 blank rows skipped")
    for note in table.notes:
        click.echo(f"  {note}")
    with app_context() as app:
        r = get_redis()
        plan = importplan.make_plan(loaded.rows, importplan.read_current(r),
                                    rename_categories=rename_categories)
        click.echo("计划 plan：")
        click.echo("\n".join(describe(plan)))
        if plan.conflicts:
            raise click.ClickException(f"{len(plan.conflicts)} 处冲突，未导入任何内容 / "
                                       f"conflicts: {len(plan.conflicts)}; nothing was imported")
        if dry_run:
            click.echo("试运行：未写入任何内容 / dry run: nothing was written")
            return
        if not plan.writes:
            click.echo("没有需要写入的变更 / nothing to write")
            return
        if interactive() and not yes:
            click.confirm("写入以上变更？/ write these changes?", abort=True)
        done = actions.import_plan(r, cli_actor(), app.config["CLOCK"](), plan, name)
    summary = "，".join(f"{KIND[kind]} {'新增' if status == 'new' else '变更'} {n}"
                       for (kind, status), n in sorted(done.items()) if n)
    click.echo(f"已写入 written：{summary}")
