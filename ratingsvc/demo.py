"""Demo data for `make run`: the example district, a period for this year, fresh demo keys."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import redis

from . import accounts, actions, apikeys, audit, importer, importplan, periods, registry, rkeys
from .timeutil import zone

EXAMPLE_CSV = Path(__file__).resolve().parent.parent / "examples" / "units.csv"
DEMO_KEYS = {"admin": "demo admin (make run)", "scorer": "demo scorer (make run)"}


def load_once(r: redis.Redis, *, now: float, tz: str, csv_path: Path = EXAMPLE_CSV) -> bool:
    """Import the example units and create this year's period, unless done before."""
    if r.exists(rkeys.DEMO_MARK):
        return False
    rows = importer.read_file(csv_path).rows
    actor = audit.cli_actor()
    actions.import_plan(r, actor, now, importplan.make_plan(rows, importplan.read_current(r)), csv_path.name)
    year = datetime.fromtimestamp(now, zone(tz)).year
    period = periods.Period(f"{year}", f"{year}年度评议", datetime(year, 1, 1).date(),
                            datetime(year, 12, 31).date())
    with contextlib.suppress(registry.RegistryError):  # an interrupted earlier load made it
        actions.create_period(r, actor, now, period)
    r.set(rkeys.DEMO_MARK, period.id)
    return True


def demo_period(r: redis.Redis) -> str | None:
    return r.get(rkeys.DEMO_MARK)


def mint_keys(r: redis.Redis, *, now: float) -> dict[str, str]:
    """A new admin and scorer key each run; the previous demo keys stop working."""
    keys = {}
    for role, name in DEMO_KEYS.items():
        for old in apikeys.list_keys(r):
            if old.name == name:
                actions.revoke_key(r, audit.cli_actor(), now, old.id)
        keys[role], _ = actions.create_key(r, audit.cli_actor(), now, name=name, role=role)
    return keys


def demo_window(r: redis.Redis) -> registry.Window:
    units = sorted(r.smembers(rkeys.UNITS))
    return registry.list_windows(r, units[0])[0]


def first_admin(r: redis.Redis, *, now: float) -> str | None:
    """With no account yet: an office admin "admin", whose temporary password is returned
    (shown once; changed at first login). Otherwise None."""
    if accounts.list_all(r):
        return None
    _, password = actions.create_account(r, audit.cli_actor(), now, username="admin", name="评议办管理员",
                                         role="admin")
    return password
