"""The registry's unit and window forms (routes on console_registry's blueprint): a new unit,
a unit's edit page with its windows, a new window under a unit, a window's edit page with its
opening hours. Loaded through the API's schemas; every change through ratingsvc.actions."""

from __future__ import annotations

from flask import redirect, request, url_for

from .. import actions, registry
from ..extensions import get_redis, now
from ..registry import RegistryError
from ..schemas import UnitSchema, UnitUpdateSchema, WindowSchema, WindowUpdateSchema
from . import actor, check_unit, render, require
from .registry import bp, notice
from .registry_forms import WEEKDAYS, flag, hours_rows, hours_text, hours_value, load, posted_hours, text

RETRY = "未保存：请按提示修改后重试。"


def _unit_page(unit: registry.Unit | None, form: dict, errors: dict, status: int = 200, **context):
    r = get_redis()
    windows = registry.list_windows(r, unit.id) if unit else []
    title = f"编辑单位 {unit.name}" if unit else "新增单位"
    return render("console/registry_unit.html", status, title=title, unit=unit, form=form,
                  errors=errors, windows=windows, options=[
                      (c.id, f"{c.name}（{c.id}）" + ("，停用" if not c.active else ""))
                      for c in registry.list_categories(r)],
                  hours_text=hours_text, **context)


def _unit_form() -> dict:
    return {"name": text(request.form, "name"), "category": text(request.form, "category"),
            "active": flag(request.form, "active")}


def _category_problem(exc: RegistryError) -> dict[str, str]:
    if exc.kind == "category":
        return {"category": "没有这个类别，请先在登记页新增。"}
    return {"id": "该单位编号已存在。"} if exc.problem == "existing" else {"id": "没有这个单位。"}


@bp.route("/registry/units/new", methods=["GET", "POST"])
@require("registry.edit")
def new_unit():
    if request.method == "GET":
        return _unit_page(None, {"id": "", "name": "", "category": request.args.get("category", ""),
                                 "active": True}, {})
    form = {"id": text(request.form, "id"), **_unit_form()}
    values, errors = load(UnitSchema(), form)
    if not errors:
        try:
            actions.create_unit(get_redis(), actor(), now(), registry.Unit(**values))
            return redirect(url_for(".unit", uid=values["id"], done="unit.create", id=values["id"]))
        except RegistryError as exc:
            errors = _category_problem(exc)
    return _unit_page(None, form, errors, 400, error="单位未新增：请按提示修改后重试。")


@bp.route("/registry/units/<uid>", methods=["GET", "POST"])
@require("registry.edit", unit_arg="uid")
def unit(uid: str):
    current = registry.get_unit(get_redis(), uid)
    if request.method == "GET":
        form = {"name": current.name, "category": current.category, "active": current.active}
        return _unit_page(current, form, {}, notice=notice())
    form = _unit_form()
    values, errors = load(UnitUpdateSchema(), form)
    if not errors:
        try:
            actions.update_unit(get_redis(), actor(), now(), uid, **values)
            return redirect(url_for(".unit", uid=uid, done="unit.update", id=uid))
        except RegistryError as exc:
            errors = _category_problem(exc)
    return _unit_page(current, form, errors, 400, error=RETRY)


def _window_page(unit: registry.Unit, window: registry.Window | None, form: dict, hours: dict,
                 errors: dict, status: int = 200, **context):
    title = f"编辑窗口 {window.name}" if window else f"新增窗口（{unit.name}）"
    return render("console/registry_window.html", status, title=title, unit=unit, window=window,
                  form=form, hours=hours, errors=errors, weekdays=WEEKDAYS, **context)


def _window_values(schema, form: dict) -> tuple[dict, dict]:
    hours, problem = hours_value(request.form)
    if problem:
        _, errors = load(schema, form)
        return {}, {**errors, "hours": problem}
    return load(schema, {**form, "hours": hours})


@bp.route("/registry/units/<uid>/windows/new", methods=["GET", "POST"])
@require("registry.edit", unit_arg="uid")
def new_window(uid: str):
    unit = registry.get_unit(get_redis(), uid)
    if request.method == "GET":
        return _window_page(unit, None, {"name": ""}, hours_rows(None), {})
    form = {"name": text(request.form, "name")}
    values, errors = _window_values(WindowSchema(), form)
    if errors:
        return _window_page(unit, None, form, posted_hours(request.form), errors, 400, error=RETRY)
    window = actions.create_window(get_redis(), actor(), now(), uid, values["name"], values.get("hours"))
    return redirect(url_for(".unit", uid=uid, done="window.create", id=f"{window.id} {window.name}"))


@bp.route("/registry/windows/<int:wid>", methods=["GET", "POST"])
@require("registry.edit")
def window(wid: int):
    r = get_redis()
    current = registry.get_window(r, wid)
    check_unit("registry.edit", current.unit)
    unit = registry.get_unit(r, current.unit)
    if request.method == "GET":
        form = {"name": current.name, "active": current.active}
        return _window_page(unit, current, form, hours_rows(current.hours), {})
    form = {"name": text(request.form, "name"), "active": flag(request.form, "active")}
    values, errors = _window_values(WindowUpdateSchema(), form)
    if errors:
        return _window_page(unit, current, form, posted_hours(request.form), errors, 400, error=RETRY)
    actions.update_window(r, actor(), now(), wid, **values)
    return redirect(url_for(".unit", uid=current.unit, done="window.update", id=f"{wid} {values['name']}"))
