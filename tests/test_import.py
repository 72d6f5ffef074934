"""`ratingsvc units import`: the files an office really has (UTF-8 with or without BOM, GBK,
GB18030, .xlsx, Excel's blank rows), and the plan shown before anything is written."""

from __future__ import annotations

import pytest

from ratingsvc import registry
from ratingsvc.registry import Category, Unit

HEADER = "category_id,category_name,unit_id,unit_name,windows"
ROWS = ["office,区直机关,of-001,区委办公室,综合受理窗口|咨询窗口",
        "station,基层站所,st-001,蔡甸街派出所,1号窗口"]


def write(tmp_path, lines, encoding="utf-8", name="units.csv"):
    path = tmp_path / name
    path.write_bytes("".join(line + "\r\n" for line in lines).encode(encoding))
    return str(path)


def names(r):
    return {u.id: (u.name, u.active) for u in registry.list_units(r)}


@pytest.mark.parametrize(("encoding", "said"), [
    ("utf-8", "CSV, UTF-8，"), ("utf-8-sig", "CSV, UTF-8 (BOM)"), ("gbk", "CSV, GB18030 (GBK)"),
    ("gb18030", "CSV, GB18030 (GBK)")])
def test_csv_in_each_encoding_is_read_and_the_encoding_said(r, runner, tmp_path, encoding, said):
    # 𠀾 is outside GBK: a GB18030 file is only readable as GB18030
    rows = ROWS if encoding != "gb18030" else [*ROWS, "station,基层站所,st-002,𠀾街道所,1号窗口"]
    result = runner.invoke(["units", "import", write(tmp_path, [HEADER, *rows], encoding)])
    assert result.exit_code == 0, result.output
    assert said in result.output
    assert names(r)["of-001"] == ("区委办公室", True)
    assert registry.get_category(r, "station").name == "基层站所"
    assert [w.name for w in registry.list_windows(r, "of-001")] == ["综合受理窗口", "咨询窗口"]
    if encoding == "gb18030":
        assert names(r)["st-002"] == ("𠀾街道所", True)


def test_blank_rows_are_skipped(r, runner, tmp_path):
    lines = [HEADER, ROWS[0], ",,,,", "", "  , ,\t,,", ROWS[1], ",,,,"]
    result = runner.invoke(["units", "import", write(tmp_path, lines)])
    assert result.exit_code == 0, result.output
    assert "跳过空行 4 行" in result.output
    assert set(names(r)) == {"of-001", "st-001"}


def test_an_xlsx_workbook_is_read(r, runner, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "单位"
    sheet.append(HEADER.split(","))
    sheet.append(ROWS[0].split(","))
    sheet.append([None, None, None, None, None])
    sheet.append(["  ", None, "", None, " "])
    sheet.append(["station", "基层站所", 1001, "蔡甸街派出所", "1号窗口|2号窗口"])  # an id typed as a number
    book.save(tmp_path / "units.xlsx")
    result = runner.invoke(["units", "import", str(tmp_path / "units.xlsx")])
    assert result.exit_code == 0, result.output
    assert "Excel .xlsx" in result.output and "跳过空行 2 行" in result.output
    assert names(r) == {"of-001": ("区委办公室", True), "1001": ("蔡甸街派出所", True)}
    assert [w.name for w in registry.list_windows(r, "1001")] == ["1号窗口", "2号窗口"]


def test_bad_bytes_are_a_clear_error_and_nothing_is_imported(r, runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes((HEADER + "\n" + ROWS[0] + "\n").encode("utf-8") + b"station,\xff\xfe,st-001,x,y\n")
    result = runner.invoke(["units", "import", str(path)])
    assert result.exit_code == 1
    assert "第 3 行" in result.output and "line 3" in result.output and "GBK" in result.output
    assert "未导入任何内容" in result.output and "Traceback" not in result.output
    assert names(r) == {}


def test_a_dry_run_shows_counts_and_writes_nothing(h, r, runner, tmp_path):
    runner.invoke(["units", "import", write(tmp_path, [HEADER, ROWS[0]])])
    changed = [HEADER, "office,区直机关,of-001,区委办,综合受理窗口|咨询窗口|新窗口", ROWS[1]]
    before = {k: r.dump(k) for k in r.keys("*")}
    result = runner.invoke(["units", "import", "--dry-run", write(tmp_path, changed)])
    assert result.exit_code == 0, result.output
    assert {k: r.dump(k) for k in r.keys("*")} == before
    out = result.output
    assert "新增 new：类别 1，单位 1，窗口 2" in out and "变更 changed：类别 0，单位 1" in out
    assert "不变 unchanged：类别 1，单位 0" in out and "冲突 conflicts：0" in out
    assert "名称 name: 区委办公室 → 区委办" in out and "窗口 windows: +新窗口" in out
    assert "dry run: nothing was written" in out


def test_reimport_keeps_a_deactivated_unit_inactive_unless_the_file_says(h, r, runner, tmp_path):
    runner.invoke(["units", "import", write(tmp_path, [HEADER, *ROWS])])
    assert h.client.patch("/api/v1/units/of-001", headers=h.admin, json={"active": False}).status_code == 200
    again = runner.invoke(["units", "import", write(tmp_path, [HEADER, *ROWS])])
    assert again.exit_code == 0 and "不变 unchanged：类别 2，单位 2" in again.output
    assert names(r)["of-001"] == ("区委办公室", False)
    explicit = [HEADER + ",active", ROWS[0] + ",是", ROWS[1] + ","]
    result = runner.invoke(["units", "import", write(tmp_path, explicit)])
    assert result.exit_code == 0 and "状态 active: 停用 → 启用" in result.output
    assert names(r) == {"of-001": ("区委办公室", True), "st-001": ("蔡甸街派出所", True)}


def test_a_category_name_that_differs_is_a_conflict(r, runner, tmp_path):
    runner.invoke(["units", "import", write(tmp_path, [HEADER, *ROWS])])
    within = [HEADER, *ROWS, "office,区直单位,of-002,区政府办公室,1号窗口"]
    result = runner.invoke(["units", "import", write(tmp_path, within)])
    assert result.exit_code == 1 and "冲突 conflicts：1" in result.output
    assert "第 2 行“区直机关”，第 4 行“区直单位”" in result.output and "未导入任何内容" in result.output
    renamed = [HEADER, "office,区直单位,of-001,区委办公室,综合受理窗口", ROWS[1]]
    result = runner.invoke(["units", "import", write(tmp_path, renamed)])
    assert result.exit_code == 1 and "--rename-categories" in result.output
    assert registry.get_category(r, "office").name == "区直机关" and "of-002" not in names(r)
    result = runner.invoke(["units", "import", "--rename-categories", write(tmp_path, renamed)])
    assert result.exit_code == 0 and "名称 name: 区直机关 → 区直单位" in result.output
    assert registry.get_category(r, "office").name == "区直单位"


def test_the_plan_is_a_pure_diff():
    from ratingsvc.importer import Row
    from ratingsvc.importplan import Current, make_plan

    current = Current({"c": Category("c", "类别")}, {"u1": Unit("u1", "单位", "c", active=False)},
                      {"u1": {"1号窗口"}})
    rows = [Row(2, "c", "类别", "u1", "单位一", ["1号窗口", "2号窗口"]),
            Row(3, "c", "类别", "u2", "单位二", ["1号窗口"], active=False)]
    plan = make_plan(rows, current)
    unit1, unit2 = plan.items[1:]
    assert unit1.status == "changed" and unit1.active is False and unit1.windows == ["2号窗口"]
    assert unit1.changes == {"name": ("单位", "单位一"), "windows": ("", "+2号窗口")}
    assert unit2.status == "new" and unit2.active is False
    assert plan.counts()["category", "unchanged"] == 1 and not plan.conflicts


def test_on_a_terminal_it_asks_before_writing_unless_yes(r, redis_server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ratingsvc import importcmd
    from ratingsvc.cli import main

    monkeypatch.setattr(importcmd, "interactive", lambda: True)
    cli, path = CliRunner(env={"RATINGSVC_REDIS_URL": redis_server.url}), write(tmp_path, [HEADER, *ROWS])
    refused = cli.invoke(main, ["units", "import", path], input="n\n")
    assert refused.exit_code == 1 and "write these changes?" in refused.output and names(r) == {}
    agreed = cli.invoke(main, ["units", "import", path], input="y\n")
    assert agreed.exit_code == 0 and "已写入" in agreed.output and len(names(r)) == 2
    renamed = write(tmp_path, [HEADER, ROWS[0].replace("区委办公室", "区委办")])
    result = cli.invoke(main, ["units", "import", "--yes", renamed])
    assert result.exit_code == 0 and "?" not in result.output and names(r)["of-001"] == ("区委办", True)


@pytest.mark.parametrize(("data", "said"), [
    (b"\xd0\xcf\x11\xe0" + b"\0" * 100, "不支持旧版 Excel .xls"),
    (b"PK\x03\x04" + b"\0" * 100, "无法读取 Excel 文件")])
def test_an_old_or_broken_workbook_is_refused(r, runner, tmp_path, data, said):
    path = tmp_path / "units.xls"
    path.write_bytes(data)
    result = runner.invoke(["units", "import", str(path)])
    assert result.exit_code == 1 and said in result.output and "nothing was imported" in result.output


@pytest.mark.single_redis  # counts the sends to one server; a cluster pipeline sends to each node
def test_an_import_takes_round_trips_per_chunk_of_units_not_per_unit(r, monkeypatch):
    from redis.connection import AbstractConnection

    from ratingsvc import importplan, registrybulk
    from ratingsvc.importer import Row

    sent = []
    real = AbstractConnection.send_packed_command

    def send(self, command, check_health=True):  # one request: a command, or a whole pipeline
        sent.append(command)
        return real(self, command, check_health)

    def round_trips(n: int) -> int:
        r.flushdb()
        rows = [Row(i + 2, f"c{i % 3}", f"类别{i % 3}", f"u{i}", f"单位{i}", ["1号窗口", "2号窗口"])
                for i in range(n)]
        sent.clear()
        with monkeypatch.context() as m:
            m.setattr(AbstractConnection, "send_packed_command", send)
            importplan.apply(r, importplan.make_plan(rows, importplan.read_current(r)))
            trips = len(sent)
        assert len(registry.list_units(r)) == n and len(registry.list_windows(r, f"u{n - 1}")) == 2
        return trips

    monkeypatch.setattr(registrybulk, "CHUNK", 40)
    round_trips(1)  # the scripts loaded
    one_chunk, three_chunks = round_trips(40), round_trips(120)
    assert round_trips(30) == one_chunk  # within a chunk: as many for 40 units as for 30
    per_chunk = (three_chunks - one_chunk) / 2
    assert 0 < per_chunk <= 8  # a few steps per chunk, whatever its size


def test_an_import_loads_its_script_again_on_a_server_that_lost_it(r, runner, tmp_path):
    from ratingsvc.topology import primaries

    for node in primaries(r):  # as after a restart or a failover
        node.script_flush()
    result = runner.invoke(["units", "import", write(tmp_path, [HEADER, *ROWS])])
    assert result.exit_code == 0, result.output
    assert [w.name for w in registry.list_windows(r, "of-001")] == ["综合受理窗口", "咨询窗口"]


def test_a_units_opening_hours_cover_its_windows_without_their_own(h, r, runner, tmp_path, clock):
    """The hours column: the unit's default for windows without hours of their own; the
    'hours' signal then holds a tap at night; a bad cell is its line's problem; the dashboard
    warns of windows that have none."""
    from tests.console_helpers import Console
    from tests.helpers import tap_from

    console = Console(h.app, r, clock)
    console.account("clerk", "staff")
    clerk = console.login("clerk")
    runner.invoke(["units", "import", write(tmp_path, [HEADER, *ROWS])])
    page = clerk.get("/console/dashboard").text
    assert 'id="no-hours"' in page and "3 个窗口没有可依的办公时间" in page
    header = HEADER + ",hours"
    bad = runner.invoke(["units", "import", write(tmp_path, [header, ROWS[0] + ",周一到周五"])])
    assert bad.exit_code != 0 and "办公时间" in bad.output
    rows = [header, ROWS[0] + ',"1-5 08:30-12:00,14:00-17:30"', ROWS[1] + ","]  # (Excel quotes it)
    plan = runner.invoke(["units", "import", "--dry-run", write(tmp_path, rows)])
    assert "办公时间 hours: — → 1,2,3,4,5 08:30-12:00,14:00-17:30" in plan.output
    done = runner.invoke(["units", "import", "--yes", write(tmp_path, rows)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(["units", "import", "--dry-run",
                           write(tmp_path, [header, ROWS[0] + ",1-5 08:30-12:00;14:00-17:30"])])
    assert "变更 changed：类别 0，单位 0" in again.output  # the same hours: nothing to change
    page = clerk.get("/console/dashboard").text
    assert "1 个窗口没有可依的办公时间" in page and "st-001" in page  # of-001's are covered now
    assert "周一至周五 08:30-12:00、14:00-17:30（单位默认）" in clerk.get("/console/units/of-001").text
    windows = registry.list_windows(r, "of-001")
    assert tap_from(h, windows[0]).status_code == 201  # 10:00 on Monday: open
    clock.advance(12 * 3600)  # 22:00: closed, beyond the hour's grace
    held = tap_from(h, windows[0])
    assert held.status_code == 202 and r.xrange(registry.UnitKeys("of-001").log)[-1][1]["why"] == "hours"
