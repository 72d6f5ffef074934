"""The audit log: every management action, from the console, the API and the command line:
who (an account, an API key, or the command line's user), when, from which address (a keyed
hash), what, and the object before and after. Append-only: a Redis stream nothing trims or
deletes from. No Flask here."""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import redis

from . import rkeys

#: action -> how the console names it (an action not listed shows as it is); a prefix before
#: the dot names its group
ACTION_NAMES = {
    "account.": "账号（全部）", "account.login": "登录", "account.login_failed": "登录失败",
    "account.logout": "退出登录", "account.change_password": "修改密码",
    "account.enable_totp": "启用两步验证",
    "account.create": "创建账号", "account.update": "修改账号", "account.disable": "停用账号",
    "account.enable": "启用账号", "account.reset_password": "重置密码", "account.reset_totp": "重置两步验证",
    "key.": "API 密钥（全部）", "key.create": "创建 API 密钥", "key.revoke": "吊销 API 密钥",
    "review.": "评价审核（全部）", "review.release": "审核放行", "review.reject": "审核驳回",
    "category.": "类别（全部）", "category.create": "新建类别", "category.update": "修改类别",
    "unit.": "单位（全部）", "unit.create": "新建单位", "unit.update": "修改单位",
    "window.": "窗口（全部）", "window.create": "新建窗口", "window.update": "修改窗口",
    "window.revoke": "作废窗口二维码",
    "registry.": "导入（全部）", "registry.import": "导入单位登记",
    "period.": "评议期（全部）", "period.create": "新建评议期", "period.update": "修正评议期",
    "period.close": "关闭评议期",
}
FIELDS = ("time", "actor", "actor_kind", "actor_name", "addr", "action", "target", "before", "after")
READ_CHUNK = 500


@dataclass(frozen=True)
class Actor:
    kind: str  # account, key or cli
    id: str  # username, key id, or user@host
    name: str
    addr: str = ""  # keyed hash of the client's address (16 hex digits); empty on the command line

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


def cli_actor() -> Actor:
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    return Actor("cli", who, "命令行 (command line)")


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(r: redis.Redis, actor: Actor, action: str, target: str, *, now: float,
           before: object = None, after: object = None) -> str:
    """Append one line; returns its id."""
    return str(r.xadd(rkeys.AUDIT, {
        "time": str(int(now * 1000)), "actor": actor.label, "actor_kind": actor.kind,
        "actor_name": actor.name, "addr": actor.addr, "action": action, "target": target,
        "before": _json(before), "after": _json(after)}))


@dataclass
class Entry:
    id: str
    time_ms: int
    actor: str
    actor_kind: str
    actor_name: str
    addr: str
    action: str
    target: str
    before: object
    after: object


def _entry(sid: str, f: dict[str, str]) -> Entry:
    return Entry(sid, int(f["time"]), f["actor"], f["actor_kind"], f["actor_name"], f.get("addr", ""),
                 f["action"], f["target"], json.loads(f["before"]) if f.get("before") else None,
                 json.loads(f["after"]) if f.get("after") else None)


def newest_first(r: redis.Redis, *, before: str | None = None,
                 since_ms: int | None = None) -> Iterator[Entry]:
    """Entries newest first, from before the id `before` (exclusive), down to since_ms, read in
    chunks."""
    high = f"({before}" if before else "+"
    low = str(since_ms) if since_ms else "-"
    while True:
        chunk = r.xrevrange(rkeys.AUDIT, high, low, count=READ_CHUNK)
        for sid, f in chunk:
            yield _entry(sid, f)
        if len(chunk) < READ_CHUNK:
            return
        high = f"({chunk[-1][0]}"


def search(r: redis.Redis, *, actor: str = "", action: str = "", target: str = "",
           since_ms: int | None = None, until_ms: int | None = None, before: str | None = None,
           limit: int = 50) -> tuple[list[Entry], str | None]:
    """Up to `limit` entries matching every filter given (actor and target: part of them;
    action: a prefix), newest first, and the cursor of the next page (None: no more)."""
    found: list[Entry] = []
    start = before
    if until_ms is not None and before is None:
        start = f"{until_ms + 1}-0"
    for e in newest_first(r, before=start, since_ms=since_ms):
        if (actor and actor not in e.actor and actor not in e.actor_name) or (
                action and not e.action.startswith(action)) or (target and target not in e.target):
            continue
        if len(found) == limit:
            return found, found[-1].id
        found.append(e)
    return found, None
