"""Who may do what: one answer for API keys and console accounts alike.

A principal is an API key (roles admin, manager, scorer) or a person's account (admin,
staff, manager). Each action names the roles that may take it; a manager may take it only on
the units they manage. The API's `auth.require` and the console's `console.require` both ask
`may` (README "Access").
"""

from __future__ import annotations

from typing import Protocol

#: role -> how the console and the audit log name it
ROLE_NAMES = {"admin": "管理员", "staff": "评议办工作人员", "manager": "窗口负责人", "scorer": "计分服务"}
SCOPED = frozenset({"manager"})  # roles limited to their own units

#: action -> the roles that may take it
ACTIONS: dict[str, frozenset[str]] = {name: frozenset(roles) for name, roles in {
    "categories.read": ("admin", "staff", "scorer"),
    "units.list": ("admin", "staff", "manager", "scorer"),
    "unit.read": ("admin", "staff", "manager"),  # a unit, its windows, its results
    "unit.score": ("admin", "staff", "scorer", "manager"),
    "comments.read": ("admin", "staff", "manager"),
    "window.codes": ("admin", "manager"),  # QR codes, posters, revoking a code
    "registry.edit": ("admin",),  # categories, units, windows, import
    "periods.read": ("admin", "staff", "manager", "scorer"),
    "periods.edit": ("admin",),  # create, correct, close
    "scores.read": ("admin", "staff", "scorer"),  # every unit's score
    "results.read": ("admin", "staff", "scorer"),  # a closed period's result, export, report
    "feed.read": ("admin", "scorer"),
    "review.decide": ("admin", "staff"),
    "cases.read": ("admin", "staff", "manager"),  # cases, appeals and their rates
    "cases.handle": ("manager",),  # verify, rectify, explain: the unit's own work
    "appeals.file": ("manager",),
    "appeals.decide": ("admin", "staff"),
    "dashboard.read": ("admin", "staff"),
    "keys.manage": ("admin",),
    "accounts.manage": ("admin",),
    "audit.read": ("admin",),
    "halls.read": ("admin", "staff"),  # halls (visit tokens), without their keys
    "halls.edit": ("admin",),  # create, change, new key
    "volumes.import": ("admin", "staff"),  # services done per window and day
}.items()}


class Principal(Protocol):
    """An API key or an account: what access asks of either."""

    @property
    def role(self) -> str: ...

    @property
    def units(self) -> list[str]: ...


def roles_for(action: str) -> frozenset[str]:
    return ACTIONS[action]


def may(principal: Principal | None, action: str, unit: str | None = None) -> bool:
    """Whether this principal may take this action (on this unit, when it concerns one)."""
    if principal is None or principal.role not in ACTIONS[action]:
        return False
    return unit is None or principal.role not in SCOPED or unit in principal.units


def scope(principal: Principal) -> list[str] | None:
    """The units a scoped principal is limited to; None: all."""
    return list(principal.units) if principal.role in SCOPED else None
