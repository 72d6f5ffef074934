"""The registry's import (routes on console_registry's blueprint): upload a CSV or .xlsx file,
read the preview of what will change, confirm. Between the two the file is kept server-side
(ratingsvc.uploads) under a token the preview's form carries; at confirm the file is planned
again against the registry as it is then, and written only if that plan is the one previewed."""

from __future__ import annotations

import re

from flask import redirect, request, url_for

from .. import actions, importer, importplan, uploads
from ..extensions import get_redis, now
from ..importcmd import FIELD, KIND
from ..tablefile import TableError
from . import actor, principal, render, require
from .registry import bp

MAX_UPLOAD = 8 * 1024 * 1024  # a city's 3,000 units are some 300 KB of CSV
LISTED_NEW = 200  # new units listed in the preview; every change and conflict is listed
FIELD_ZH = {name: said.split(" ")[0] for name, said in FIELD.items()}  # the command line's, in Chinese only
LINE_EN = re.compile(r"\s*\(line \d+: [^)]*\)$")  # the English the command line adds to a line's problem


def _preview(upload: uploads.Upload, status: int = 200, **context):
    """Read the kept file, plan it against the registry now, and show the plan."""
    r = get_redis()
    try:
        loaded = importer.read_data(upload.data)
    except importer.CsvError as exc:
        problems = [(line, LINE_EN.sub("", text)) for line, text in exc.problems]
        return _page(status if status != 200 else 400, upload=upload, problems=problems, **context)
    except TableError as exc:
        return _page(status if status != 200 else 400, upload=upload, problems=[(None, str(exc))],
                     **context)
    plan = importplan.make_plan(loaded.rows, importplan.read_current(r),
                                rename_categories=bool(upload.options.get("rename")))
    return _page(status, upload=upload, loaded=loaded, plan=plan, fingerprint=importplan.fingerprint(plan),
                 **context)


def _page(status: int = 200, **context):
    plan = context.get("plan")
    groups = []
    if plan is not None:
        for state, word in (("new", "新增"), ("changed", "变更")):
            for kind in ("category", "unit"):
                items = [i for i in plan.items if i.status == state and i.kind == kind]
                if items:
                    groups.append((f"{word}{KIND[kind]}", state, kind, items))
    return render("console/registry_import.html", status, title="导入单位", groups=groups,
                  fields=FIELD_ZH, kinds=KIND, listed_new=LISTED_NEW, **context)


@bp.route("/registry/import", methods=["GET"])
@require("registry.edit")
def import_form():
    return _page()


@bp.route("/registry/import", methods=["POST"])
@require("registry.edit")
def import_upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        return _page(400, error="请选择要导入的 CSV 或 .xlsx 文件。")
    data = file.read()
    if not data:
        return _page(400, error="文件是空的。")
    account = principal()
    assert account is not None
    upload = uploads.keep(get_redis(), account.username, file.filename[:200], data,
                          {"rename": "rename" in request.form})
    return _preview(upload)


@bp.route("/registry/import/confirm", methods=["POST"])
@require("registry.edit")
def import_confirm():
    account = principal()
    assert account is not None
    r = get_redis()
    upload = uploads.take(r, account.username, request.form.get("token", ""))  # one confirmation
    if upload is None:
        return _page(400, error="预览已过期、不存在或已经导入，请重新上传文件。")
    try:
        loaded = importer.read_data(upload.data)
    except TableError:
        uploads.put_back(r, upload)
        return _preview(upload, 400, error="文件有错误，不能导入：请修改文件后重新上传。")
    plan = importplan.make_plan(loaded.rows, importplan.read_current(r),
                                rename_categories=bool(upload.options.get("rename")))
    if plan.conflicts:
        uploads.put_back(r, upload)
        return _preview(upload, 400, error="有冲突，不能导入：请修改文件后重新上传。")
    if importplan.fingerprint(plan) != request.form.get("fingerprint"):
        uploads.put_back(r, upload)
        return _preview(upload, 409, error="登记信息在预览之后已有变动，以下是按当前登记重新生成的预览，"
                                           "请核对后再确认。")
    done = actions.import_plan(r, actor(), now(), plan, upload.name)
    said = "，".join(f"{KIND[kind]}{'新增' if state == 'new' else '变更'} {n} 个"
                    for (kind, state), n in sorted(done.items()) if n) or "没有需要写入的变更"
    return redirect(url_for(".index", done="import", id=f"{upload.name}（{said}）"))


import_upload.max_body = MAX_UPLOAD  # this form only: the app's bodies are small
