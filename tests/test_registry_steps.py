"""Registry writes on Redis Cluster (issue 14): no transaction across hash slots, and ordered,
idempotent steps that a reader never sees half done and a retry completes."""

from __future__ import annotations

import codecs
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot

from ratingsvc import apikeys, demo, importer, importplan, periods, registry, registrybulk, rkeys
from ratingsvc.registry import Category, RegistryError, Unit

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "units.csv"
LINE = re.compile(r"^\S+ \[\d+ ([^\]]*)\] (.*)$")
ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
HOURS = {"days": [1, 2, 3, 4, 5], "open": ["09:00-12:00"]}


class Monitor:
    """What every client sent while the block ran, as MONITOR saw it: [(client, args)]."""

    def __init__(self, r: redis.Redis) -> None:
        self.r, self.commands = r, []

    def __enter__(self) -> Monitor:
        self.monitor = self.r.monitor().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.r.echo("monitor-end")
        while True:
            line = self.monitor.connection.read_response()
            client, rest = LINE.match(line).groups()
            args = [codecs.escape_decode(a)[0].decode(errors="replace") for a in ARG.findall(rest)]
            if args == ["ECHO", "monitor-end"]:
                break
            self.commands.append((client, args))
        self.monitor.__exit__()

    def slots(self, args: list[str]) -> set[int]:
        try:
            keys = self.r.command_getkeys(*args)
        except redis.ResponseError:  # a command without keys
            return set()
        return {key_slot(k.encode()) for k in keys}

    def units_of_work(self) -> list[list[list[str]]]:
        """Each command sent alone, and each MULTI ... EXEC block: the commands of each."""
        work, open_blocks = [], {}
        for client, args in self.commands:
            name = args[0].upper()
            if client == "lua":  # inside a script: its declared keys are checked
                continue
            if name == "MULTI":
                open_blocks[client] = []
            elif name == "EXEC":
                work.append(open_blocks.pop(client))
            elif client in open_blocks:
                open_blocks[client].append(args)
            else:
                work.append([args])
        return work

    def writes(self) -> list[str]:
        other = {"SISMEMBER", "HGETALL", "HGET", "SMEMBERS", "HVALS", "EXISTS", "HELLO", "CLIENT",
                 "MULTI", "EXEC", "ECHO"}
        return [a[0].upper() for c, a in self.commands if c != "lua" and a[0].upper() not in other]


def every_write(r: redis.Redis, tmp_path: Path) -> None:
    registry.save_category(r, Category("c1", "类别"), create=True)
    registry.save_category(r, Category("c1", "改名的类别"), create=False)
    registry.save_unit(r, Unit("u1", "单位", "c1"), create=True)
    registry.save_unit(r, Unit("u1", "改名的单位", "c1", active=False), create=False)
    window = registry.create_window(r, "u1", "1号窗口")
    registry.update_window(r, window.id, name="综合窗口", active=False, hours=HOURS)
    registry.revoke_window(r, window.id)
    demo.load_once(r, now=1.78e9, tz="Asia/Shanghai")
    demo.mint_keys(r, now=1.78e9)
    periods.create_period(r, periods.Period("p2", "二期", date(2027, 1, 1), date(2027, 12, 31)))
    apikeys.revoke(r, name="demo admin (make run)")


@pytest.mark.single_redis  # MONITOR sees one server
def test_no_registry_write_spans_two_hash_slots(r, tmp_path):
    with Monitor(r) as seen:
        every_write(r, tmp_path)
    work = seen.units_of_work()
    assert len(registry.list_units(r)) == 1 + 330  # u1 and the example district, imported
    windows_lua = [c for cmds in work for c in cmds if c[0] == "EVALSHA" and c[2] == "2"]  # windows.lua
    assert len(windows_lua) == 330
    crossing = [cmds for cmds in work if len(set().union(*(seen.slots(c) for c in cmds))) > 1]
    assert crossing == []


@pytest.mark.single_redis  # MONITOR sees one server
def test_a_window_changes_in_one_write(r):
    registry.save_category(r, Category("c1", "类别"), create=True)
    registry.save_unit(r, Unit("u1", "单位", "c1"), create=True)
    window = registry.create_window(r, "u1", "1号窗口")
    with Monitor(r) as seen:
        registry.update_window(r, window.id, name="综合窗口", active=False, hours=HOURS)
    assert seen.writes() == ["EVALSHA"]
    assert registry.get_window(r, window.id) == registry.Window(
        window.id, "u1", "综合窗口", 1, active=False, hours={"days": [1, 2, 3, 4, 5],
                                                            "open": ["09:00-12:00"]})


# Interruptions -----------------------------------------------------------------------------
class Interrupted(Exception):
    pass


def interrupt_after(monkeypatch, k: int | None) -> list[str]:
    """Steps of registry writes are counted; with k, the write stops after step k (0-based)."""
    steps: list[str] = []

    def step(name: str) -> None:
        steps.append(name)
        if k is not None and len(steps) == k + 1:
            raise Interrupted(name)

    monkeypatch.setattr(registry, "_after_step", step)
    return steps


def readable(h) -> dict:
    """Everything a reader sees, read the ways readers read it; none of it may fail."""
    h._admin, r, seen = None, h.r, {}
    assert h.client.get("/api/v1/units", headers=h.admin).status_code == 200
    for cat in registry.list_categories(r):
        assert registry.get_category(r, cat.id) == cat
        seen[cat.id] = cat.name
    for unit in registry.list_units(r):
        assert registry.get_unit(r, unit.id) == unit
        assert r.sismember(rkeys.category_units(unit.category), unit.id)  # its category's scores read it
        registry.get_category(r, unit.category)
        resp = h.client.get(f"/api/v1/units/{unit.id}/windows", headers=h.admin)
        assert resp.status_code == 200
        windows = registry.list_windows(r, unit.id)
        for window in windows:
            assert registry.window_with_unit(r, window.id) == (replace(window, hours=None), unit)
            assert registry.get_window(r, window.id) == window
            scan = h.client.get(f"/api/v1/scan/{h.token(window)}")  # the rating page resolves
            assert scan.status_code == (200 if unit.active and window.active else 410)
        seen[unit.id] = (unit.name, unit.category, unit.active,
                         sorted((w.name, w.epoch, str(w.hours)) for w in windows))
    return seen


def small_district(tmp_path: Path) -> list[importer.Row]:
    csv = tmp_path / "units.csv"
    csv.write_text("category_id,category_name,unit_id,unit_name,windows\n"
                   "c1,类别c1,u1,税务局,1号窗口|2号窗口|3号窗口\n"
                   "c2,服务站,u2,便民服务站,综合窗口\n"
                   "c2,服务站,u3,社保站,1号窗口|2号窗口\n", encoding="utf-8")
    return importer.read_file(csv).rows


def run_import(r, rows, chunk=registrybulk.CHUNK):
    was, registrybulk.CHUNK = registrybulk.CHUNK, chunk
    try:
        importplan.apply(r, importplan.make_plan(rows, importplan.read_current(r)))
    finally:
        registrybulk.CHUNK = was


# name -> (the registry before, the write; run again as the retry)
WRITES = {
    "create a category": (lambda h, rows: None,
                          lambda h, rows: registry.save_category(h.r, Category("c2", "新类别"),
                                                                 create=True)),
    "create a unit": (lambda h, rows: h.window("u1"),
                      lambda h, rows: registry.save_unit(h.r, Unit("u2", "新单位", "c1"),
                                                         create=True)),
    "rename a unit": (lambda h, rows: h.window("u1"),
                      lambda h, rows: registry.save_unit(h.r, Unit("u1", "新名称", "c1", False),
                                                         create=False)),
    "move a unit": (lambda h, rows: (h.window("u1"), h.unit("u2", "c2")),
                    lambda h, rows: registry.save_unit(h.r, Unit("u1", "单位u1", "c2"), create=False)),
    "create a window": (lambda h, rows: h.window("u1"),
                        lambda h, rows: registry.create_window(h.r, "u1", "2号窗口", HOURS)),
    "import": (lambda h, rows: h.window("u1", "1号窗口"), lambda h, rows: run_import(h.r, rows)),
    "import by chunks of 2 units": (lambda h, rows: h.window("u1", "1号窗口"),
                                    lambda h, rows: run_import(h.r, rows, chunk=2)),
    "import that moves units": (lambda h, rows: [h.unit("u2"), h.unit("u3")],  # c1 -> c2
                                lambda h, rows: run_import(h.r, rows, chunk=2)),
}


@pytest.mark.parametrize("name", WRITES)
def test_an_interrupted_write_is_never_seen_half_done_and_a_retry_completes_it(
        h, r, monkeypatch, tmp_path, name):
    before, write = WRITES[name]
    rows = small_district(tmp_path)
    before(h, rows)
    old = readable(h)
    steps = interrupt_after(monkeypatch, None)
    write(h, rows)
    new = readable(h)
    assert steps and new != old
    for k in range(len(steps)):
        r.flushdb()
        before(h, rows)
        interrupt_after(monkeypatch, k)
        with pytest.raises(Interrupted):
            write(h, rows)
        assert readable(h) in (old, new) or name.startswith("import"), steps[k]
        interrupt_after(monkeypatch, None)
        write(h, rows)  # the retry
        assert readable(h) == new, steps[k]


def test_a_half_made_unit_cannot_be_given_windows(h, monkeypatch):
    h.unit("u1")
    interrupt_after(monkeypatch, 1)  # after its category's set and its record
    with pytest.raises(Interrupted):
        registry.save_unit(h.r, Unit("u2", "新单位", "c1"), create=True)
    assert h.r.hget(registry.UnitKeys("u2").info, "name") == "新单位"
    with pytest.raises(RegistryError):
        registry.create_window(h.r, "u2", "1号窗口")
    assert h.client.get("/api/v1/units/u2", headers=h.admin).status_code == 404
