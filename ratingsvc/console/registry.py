"""Console area: the registry. Categories (list, create, rename, activate/deactivate), a unit
search with paging for a city's 3,000 units, and (registry_units, registry_import) the unit and
window forms and the import. Only for who may "registry.edit"; every change through actions."""

from __future__ import annotations

from collections import Counter
from math import ceil

from flask import Blueprint, redirect, request, url_for

from .. import actions, registry
from ..extensions import get_redis, now
from ..registry import RegistryError
from ..schemas import CategorySchema, CategoryUpdateSchema
from . import actor, render, require
from .registry_forms import flag, load, text

bp = Blueprint("console_registry", __name__, url_prefix="/console", template_folder="templates")

PAGE_SIZE = 50

#: ?done=<code>: what the page after a change says
NOTICES = {
    "category.create": "已新增类别 {id}。", "category.update": "已保存类别 {id}。",
    "unit.create": "已新增单位 {id}。", "unit.update": "已保存单位 {id}。",
    "window.create": "已新增窗口 {id}。", "window.update": "已保存窗口 {id}。",
    "import": "已导入：{id}。",
}


def notice() -> str:
    said = NOTICES.get(request.args.get("done", ""))
    return said.format(id=request.args.get("id", "")) if said else ""


def search_units(units: list[registry.Unit], q: str, category: str) -> list[registry.Unit]:
    """Units whose id or name contains q (any case), of the category if one is given."""
    q = q.lower()
    return [u for u in units if (not category or u.category == category)
            and (not q or q in u.id.lower() or q in u.name.lower())]


def _index(status: int = 200, **context):
    r = get_redis()
    categories = registry.list_categories(r)
    units = registry.list_units(r)  # one pipelined read, whatever the city's size
    per_category = Counter(u.category for u in units)
    q, category = request.args.get("q", "").strip()[:100], request.args.get("category", "")
    found = search_units(units, q, category)
    pages = max(1, ceil(len(found) / PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    args = {k: v for k, v in (("q", q), ("category", category)) if v}
    return render("console/registry_index.html", status, title="登记与导入", categories=categories,
                  per_category=per_category, names={c.id: c.name for c in categories},
                  units=found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], found=len(found),
                  total=len(units), page=page, pages=pages, args=args, q=q, category=category,
                  notice=notice(), **context)


@bp.route("/registry")
@require("registry.edit")
def index():
    return _index(form={}, errors={})


@bp.route("/registry/categories", methods=["POST"])
@require("registry.edit")
def create_category():
    form = {"id": text(request.form, "id"), "name": text(request.form, "name")}
    values, errors = load(CategorySchema(), form)
    if not errors:
        try:
            actions.create_category(get_redis(), actor(), now(), registry.Category(**values))
            return redirect(url_for(".index", done="category.create", id=values["id"]))
        except RegistryError:
            errors = {"id": "该类别编号已存在。"}
    return _index(400, form=form, errors=errors, error="类别未新增：请按提示修改后重试。")


@bp.route("/registry/categories/<cid>", methods=["GET", "POST"])
@require("registry.edit")
def category(cid: str):
    r = get_redis()
    cat = registry.get_category(r, cid)
    if request.method == "GET":
        return render("console/registry_category.html", title=f"类别 {cat.name}", cat=cat,
                      form={"name": cat.name, "active": cat.active, "poster_taps": cat.poster_taps},
                      errors={})
    form = {"name": text(request.form, "name"), "active": flag(request.form, "active"),
            "poster_taps": text(request.form, "poster_taps") or "count"}
    values, errors = load(CategoryUpdateSchema(), form)
    if errors:
        return render("console/registry_category.html", 400, title=f"类别 {cat.name}", cat=cat,
                      form=form, errors=errors, error="未保存：请按提示修改后重试。")
    actions.update_category(r, actor(), now(), cid, **values)
    return redirect(url_for(".index", done="category.update", id=cid))


from . import registry_import, registry_units  # noqa: E402,F401  (their routes are on bp)
