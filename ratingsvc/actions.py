"""Every management action once: the domain change, then its line in the audit log. The API,
the console and the command line call these, never the domain functions directly for a
change (README "Audit log"). No Flask here."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from . import (
    accounts,
    apikeys,
    audit,
    closing,
    importplan,
    periods,
    registry,
    retention,
    review,
    rkeys,
    visits,
    volumes,
)
from .audit import Actor
from .cases import appeals
from .cases import store as case_store
from .cases.policy import Policy
from .cases.store import Case, CaseProblem
from .registry import Category, Unit, Window
from .signing import Signing
from .timeutil import zone


def _plain(value: Any) -> Any:
    plain = dataclasses.is_dataclass(value) and not isinstance(value, type)
    return dataclasses.asdict(value) if plain else value


def _log(r: redis.Redis, actor: Actor, action: str, target: str, now: float,
         before: Any = None, after: Any = None) -> None:
    audit.record(r, actor, action, target, now=now, before=_plain(before), after=_plain(after))


# Registry --------------------------------------------------------------------------------
def create_category(r: redis.Redis, actor: Actor, now: float, cat: Category) -> Category:
    saved = registry.save_category(r, cat, create=True)
    _log(r, actor, "category.create", f"category:{cat.id}", now, after=saved)
    return saved


def update_category(r: redis.Redis, actor: Actor, now: float, cid: str, **changes: Any) -> Category:
    old = registry.get_category(r, cid)
    saved = registry.save_category(r, dataclasses.replace(old, **changes), create=False)
    _log(r, actor, "category.update", f"category:{cid}", now, old, saved)
    return saved


def create_unit(r: redis.Redis, actor: Actor, now: float, unit: Unit) -> Unit:
    saved = registry.save_unit(r, unit, create=True)
    _log(r, actor, "unit.create", f"unit:{unit.id}", now, after=saved)
    return saved


def update_unit(r: redis.Redis, actor: Actor, now: float, uid: str, **changes: Any) -> Unit:
    old = registry.get_unit(r, uid)
    saved = registry.save_unit(r, dataclasses.replace(old, **changes), create=False)
    _log(r, actor, "unit.update", f"unit:{uid}", now, old, saved)
    return saved


def create_window(r: redis.Redis, actor: Actor, now: float, unit_id: str, name: str,
                  hours: dict | None = None) -> Window:
    window = registry.create_window(r, unit_id, name, hours)
    _log(r, actor, "window.create", f"window:{window.id}", now, after=window)
    return window


def update_window(r: redis.Redis, actor: Actor, now: float, wid: int, **changes: Any) -> Window:
    old = registry.get_window(r, wid)
    window = registry.update_window(r, wid, **changes)
    _log(r, actor, "window.update", f"window:{wid}", now, old, window)
    return window


def revoke_window(r: redis.Redis, actor: Actor, now: float, wid: int) -> Window:
    old = registry.get_window(r, wid)
    window = registry.revoke_window(r, wid)
    _log(r, actor, "window.revoke", f"window:{wid}", now, {"epoch": old.epoch}, {"epoch": window.epoch})
    return window


def import_plan(r: redis.Redis, actor: Actor, now: float, plan: importplan.Plan,
                source_name: str) -> Counter:
    """Write an import's plan (one without conflicts); one audit line with what it wrote."""
    done = importplan.apply(r, plan)
    counts = {f"{kind}.{status}": n for (kind, status), n in sorted(done.items())}
    _log(r, actor, "registry.import", f"import:{source_name}", now, after={"counts": counts})
    return done


# Periods ---------------------------------------------------------------------------------
def create_period(r: redis.Redis, actor: Actor, now: float, period: periods.Period) -> periods.Period:
    saved = periods.create_period(r, period)
    _log(r, actor, "period.create", f"period:{period.id}", now, after=saved)
    return saved


def update_period(r: redis.Redis, actor: Actor, now: float, pid: str, *, tz: str,
                  **changes: Any) -> periods.Period:
    """Correct a period's name or dates before it starts (periods.PeriodStarted after)."""
    old = periods.get_period(r, pid)
    today = datetime.fromtimestamp(now, zone(tz)).date()
    saved = periods.update_period(r, dataclasses.replace(old, **changes), today=today)
    _log(r, actor, "period.update", f"period:{pid}", now, old, saved)
    return saved


def set_period_public(r: redis.Redis, actor: Actor, now: float, pid: str, public: bool) -> None:
    """Show a running period on the public results page, or stop showing it (audited)."""
    was = periods.set_public(r, pid, public)
    _log(r, actor, "period.public", f"period:{pid}", now, {"public": was}, {"public": public})


def close_period(r: redis.Redis, actor: Actor, now: float, period: periods.Period, path: Path, *,
                 prior_weight: float, min_n: int, tz: str) -> dict:
    """Close a period that has ended (the caller checked): one close at a time (a lock), the
    export written beside its place and moved there only once the result is stored, so a
    second close (a retry after a timeout, a double submit) never truncates the first's file;
    closing's progress noted for the console; the result file; audited."""
    lock = rkeys.closing_lock(period.id)
    if not r.set(lock, actor.label, nx=True, ex=3600):
        raise ClosingBusy(period.id)
    try:
        closing.note_progress(r, period.id, 0, 0, 0)  # not an earlier attempt's figures
        # Replies whose follow-up time has passed close now, so the export logs their closing.
        case_store.sweep(r, sorted(r.smembers(rkeys.UNITS)), int(now * 1000))

        def progress(done: int, total: int, taps: int) -> None:  # every 20 units
            if done % 20 == 0 or done == total:
                closing.note_progress(r, period.id, done, total, taps)

        part = path.with_name(path.name + ".part")
        result = closing.close(r, period, str(part), prior_weight=prior_weight, min_n=min_n, now=now,
                               tz=tz, progress=progress)
        part.replace(path)
        path.with_suffix(".result.json").write_text(closing.result_text(result), encoding="utf-8")
    finally:
        r.delete(lock)
    _log(r, actor, "period.close", f"period:{period.id}", now,
         after={"taps": result["taps"], "digest": result["digest"], "export": path.name})
    return result


def prune_period(r: redis.Redis, actor: Actor, now: float, period_id: str, export: Path, *, tz: str,
                 retain_days: float, force: bool = False,
                 on_unit: Callable[[int, int], None] | None = None) -> dict:
    """Prune Redis of a closed period whose export checks out (retention.prune); audited."""
    done = retention.prune(r, period_id, str(export), now=now, tz=tz, retain_days=retain_days, force=force,
                           on_unit=on_unit)
    _log(r, actor, "period.prune", f"period:{period_id}", now, after={**done, "force": force})
    return done


class ClosingBusy(RuntimeError):
    """Another close of this period is running."""

    def __init__(self, period_id: str) -> None:
        super().__init__(period_id)
        self.period_id = period_id


# Review ----------------------------------------------------------------------------------
def decide(r: redis.Redis, actor: Actor, now: float, unit: str, stream_id: str, *, action: str,
           why: str, tz: str, policy: Policy | None = None) -> tuple[str, str]:
    """Release or reject one held tap (a released 差评 opens its case under policy):
    (done | unknown | decided, decision id)."""
    now_ms = int(now * 1000)
    status, decision = review.decide(r, unit, stream_id, action=action, key_id=actor.label,
                                     key_name=actor.name, why=why, now_ms=now_ms, tz=tz,
                                     case=policy.open_args(now_ms) if policy else None)
    if status == "done":
        _log(r, actor, f"review.{action}", f"rating:{review.rating_id(unit, stream_id)}", now,
             after={"decision": decision, "why": why})
    return status, decision


def decide_many(r: redis.Redis, actor: Actor, now: float, taps: Iterable[review.HeldTap], *, action: str,
                why: str, tz: str, policy: Policy | None = None) -> dict[str, int]:
    """Release or reject a group of held taps with one reason, each through decide() (so each
    decision has its own audit line, as one decided alone): {"done": n, "decided": n already
    decided (or gone) by the time it came to them}."""
    counts = {"done": 0, "decided": 0}
    for tap in taps:
        unit, _, stream_id = tap.rating_id.rpartition(".")
        status, _decision = decide(r, actor, now, unit, stream_id, action=action, why=why, tz=tz,
                                   policy=policy)
        counts["done" if status == "done" else "decided"] += 1
    return counts


# Cases and appeals -----------------------------------------------------------------------
def case_step(r: redis.Redis, actor: Actor, now: float, policy: Policy, unit: str, stream_id: str,
              action: str, *, text: dict[str, str] | None = None,
              on_reply: Callable[[Case], None] | None = None) -> Case:
    """A unit's step on its case (verify, rectify, explain); audited. on_reply(case) after a
    reply is given (the citizen's WeChat message). CaseProblem if it cannot be taken."""
    case = case_store.step(r, policy, unit, stream_id, action, by=actor.label, now_ms=int(now * 1000),
                           text=text)
    _log(r, actor, f"case.{action}", f"rating:{case.rating_id}", now,
         after={k: v for k, v in (text or {}).items() if v})
    if on_reply is not None and case.state in case_store.ANSWERED:
        on_reply(case)
    return case


def file_appeal(r: redis.Redis, actor: Actor, now: float, policy: Policy, unit: str, stream_id: str, *,
                reason: str, evidence: str = "") -> appeals.Appeal:
    """A unit's appeal of its counted tap; audited."""
    got = appeals.file(r, policy, unit, stream_id, by=actor.label, now_ms=int(now * 1000), reason=reason,
                       evidence=evidence)
    _log(r, actor, "appeal.file", f"rating:{got.rating_id}", now, after={"reason": got.reason,
                                                                      "evidence": got.evidence})
    return got


def decide_appeal(r: redis.Redis, actor: Actor, now: float, policy: Policy, unit: str, stream_id: str, *,
                  uphold: bool, note: str) -> appeals.Appeal:
    """The office upholds (the tap leaves the counts) or rejects an appeal; audited."""
    got = appeals.decide(r, policy, unit, stream_id, uphold=uphold, by=actor.label, now_ms=int(now * 1000),
                         note=note)
    _log(r, actor, f"appeal.{'uphold' if uphold else 'reject'}", f"rating:{got.rating_id}", now,
         after={"note": got.note, "taken_out": got.taken_out})
    return got


def decide_appeals(r: redis.Redis, actor: Actor, now: float, policy: Policy, rating_ids: Iterable[str], *,
                   uphold: bool, note: str) -> dict[str, int]:
    """Several appeals with one decision, each through decide_appeal (each audited):
    {"done": n, "refused": n (decided meanwhile, or unknown)}. CaseProblem before any is decided
    if the note will not do."""
    appeals.check_note(note, uphold)  # a refusal that would be every one's, said once before any
    counts = {"done": 0, "refused": 0}
    for rid in rating_ids:
        unit, _, stream_id = rid.rpartition(".")
        try:
            decide_appeal(r, actor, now, policy, unit, stream_id, uphold=uphold, note=note)
            counts["done"] += 1
        except CaseProblem:
            counts["refused"] += 1
    return counts


# API keys --------------------------------------------------------------------------------
def create_key(r: redis.Redis, actor: Actor, now: float, *, name: str, role: str,
               units: list[str] | None = None) -> tuple[str, apikeys.ApiKey]:
    key, record = apikeys.create_key(r, name=name, role=role, units=units, now=now)
    _log(r, actor, "key.create", f"key:{record.id}", now, after=record)
    return key, record


def revoke_key(r: redis.Redis, actor: Actor, now: float, key_id: str) -> int:
    before = [k for k in apikeys.list_keys(r) if k.id.startswith(key_id)]
    n = apikeys.revoke(r, key_id=key_id)
    if n:
        _log(r, actor, "key.revoke", f"key:{key_id}", now, [dataclasses.asdict(k) for k in before])
    return n


# Accounts --------------------------------------------------------------------------------
def _shown(a: accounts.Account) -> dict:
    return {"username": a.username, "name": a.name, "role": a.role, "units": a.units,
            "active": a.active, "totp": a.totp}


def create_account(r: redis.Redis, actor: Actor, now: float, *, username: str, name: str, role: str,
                   units: list[str] | None = None) -> tuple[accounts.Account, str]:
    """A new account and its temporary password (shown once, changed at first login)."""
    for uid in units or []:
        registry.get_unit(r, uid)
    account, password = accounts.create(r, username=username, name=name, role=role, units=units, now=now)
    _log(r, actor, "account.create", f"account:{username}", now, after=_shown(account))
    return account, password


def update_account(r: redis.Redis, actor: Actor, now: float, username: str, *, name: str | None = None,
                   role: str | None = None, units: list[str] | None = None,
                   active: bool | None = None) -> accounts.Account:
    """Change an account; disabling it ends its sessions at once."""
    for uid in units or []:
        registry.get_unit(r, uid)
    old = accounts.require(r, username)
    account = accounts.update(r, username, name=name, role=role, units=units, active=active)
    if not account.active or account.role != old.role or account.units != old.units:
        accounts.end_sessions(r, username)
    what = "account.disable" if old.active and not account.active else (
        "account.enable" if account.active and not old.active else "account.update")
    _log(r, actor, what, f"account:{username}", now, _shown(old), _shown(account))
    return account


def reset_password(r: redis.Redis, actor: Actor, now: float, username: str) -> str:
    """A new temporary password (shown once); the account's sessions end."""
    password = accounts.reset_password(r, username)
    accounts.end_sessions(r, username)
    _log(r, actor, "account.reset_password", f"account:{username}", now)
    return password


def reset_totp(r: redis.Redis, actor: Actor, now: float, username: str) -> None:
    """The account's second factor removed (to be set up again); its sessions end."""
    accounts.disable_totp(r, username)
    accounts.end_sessions(r, username)
    _log(r, actor, "account.reset_totp", f"account:{username}", now)


def change_password(r: redis.Redis, actor: Actor, now: float, username: str, password: str) -> None:
    """One's own new password (checked for strength); every session of the account ends (the
    caller logs the current browser in again)."""
    accounts.set_password(r, username, password, temporary=False)
    accounts.end_sessions(r, username)
    _log(r, actor, "account.change_password", f"account:{username}", now)


def enable_totp(r: redis.Redis, actor: Actor, now: float, username: str, secret: str, code: str) -> bool:
    """A second factor for an account that has none, if the code fits the secret."""
    if not accounts.enable_totp(r, username, secret, code, now):
        return False
    _log(r, actor, "account.enable_totp", f"account:{username}", now)
    return True


# Halls and volumes -----------------------------------------------------------------------
def create_hall(r: redis.Redis, signing: Signing, actor: Actor, now: float, *, name: str, windows: list[int],
                valid_minutes: int, active: bool = True,
                networks: list[str] | None = None) -> tuple[visits.Hall, str]:
    hall, key = visits.create_hall(r, signing, name=name, windows=windows, valid_minutes=valid_minutes,
                                   now=now, networks=networks)
    if not active:
        hall = visits.update_hall(r, hall.id, active=False)
    _log(r, actor, "hall.create", f"hall:{hall.id}", now, after=hall)
    return hall, key


def update_hall(r: redis.Redis, actor: Actor, now: float, hid: int, **changes: Any) -> visits.Hall:
    old = visits.get_hall(r, hid)
    saved = visits.update_hall(r, hid, **changes)
    _log(r, actor, "hall.update", f"hall:{hid}", now, old, saved)
    return saved


def new_hall_key(r: redis.Redis, signing: Signing, actor: Actor, now: float,
                 hid: int) -> tuple[visits.Hall, str]:
    key = visits.new_key(r, signing, hid)
    _log(r, actor, "hall.key", f"hall:{hid}", now)
    return visits.get_hall(r, hid), key


def import_volumes(r: redis.Redis, actor: Actor, now: float, rows: list[volumes.Volume], *,
                   tz: str, margin: int) -> dict[str, int]:
    """Services done per window and day (volumes.save); margin: RULE_VOLUME_MARGIN."""
    done = volumes.save(r, rows, int(now * 1000), datetime.fromtimestamp(now, zone(tz)).date(), margin)
    days = sorted({v.day for v in rows})
    _log(r, actor, "volumes.import", f"volumes:{days[0]}..{days[-1]}" if days else "volumes", now, after=done)
    return done
