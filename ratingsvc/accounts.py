"""People's accounts for the console: roles admin, staff and manager; argon2id passwords;
optional TOTP (required of admins in production). No Flask here.

Per account (key ``rs:acct:<username>``, a hash): name, role, units (comma-separated), pw
(argon2id), active, must_change (a password the office set: changed at first login), totp
(base32 secret, or empty), totp_last (the last time step used: a code works once), created.
``rs:accts`` is the set of usernames. Sessions are ratingsvc.console.sessions'.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import argon2
import pyotp
import redis

from . import rkeys
from .store import load_script

ROLES = ("admin", "staff", "manager")
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
MIN_PASSWORD = 10
_hasher = argon2.PasswordHasher()  # argon2id, the library's current (RFC 9106 low-memory) costs
# Verified when no account has the name, so that an answer takes as long either way.
_DUMMY = _hasher.hash("no such account: this hash is verified to take the same time")
COMMON = {"password", "password123", "1234567890", "qwertyuiop", "12345678910", "admin12345",
          "administrator", "0123456789", "1qaz2wsx3edc", "abcdefghij", "woaini1314", "a123456789"}


class AccountError(ValueError):
    """Not done, and why (in Chinese, with the English after it)."""


@dataclass
class Account:
    username: str
    name: str
    role: str
    units: list[str] = field(default_factory=list)
    active: bool = True
    must_change: bool = False
    totp: bool = False  # whether it has a second factor
    created: float = 0.0

    # Flask-Login's user interface --------------------------------------------------------
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.username

    @property
    def id(self) -> str:
        return self.username


def key(username: str) -> str:
    return f"{rkeys.ACCOUNT_PREFIX}{username}"


def _load(username: str, d: dict[str, str]) -> Account:
    return Account(username=username, name=d["name"], role=d["role"],
                   units=[u for u in d.get("units", "").split(",") if u], active=d.get("active") == "1",
                   must_change=d.get("must_change") == "1", totp=bool(d.get("totp")),
                   created=float(d.get("created", 0)))


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username or ""):
        raise AccountError("用户名应为 2-32 位小写字母、数字或 . _ -，以字母或数字开头 "
                           "(a username is 2-32 of a-z 0-9 . _ -)")
    return username


def check_role(role: str, units: list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"角色应为 {'、'.join(ROLES)} 之一 (role must be one of {', '.join(ROLES)})")
    if role == "manager" and not units:
        raise AccountError("窗口负责人至少要管理一个单位 (a manager manages at least one unit)")


def check_password(password: str, username: str = "") -> None:
    """At least MIN_PASSWORD characters, not a common one, not the username."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 位 (at least {MIN_PASSWORD} characters)")
    if password.lower() in COMMON or (username and username in password.lower()) or len(set(password)) < 4:
        raise AccountError("密码太容易猜到，请换一个 (too easy to guess)")


def temporary_password() -> str:
    """A password the office hands over, to be changed at first login: 16 letters and digits
    in groups of four, without look-alikes (0/O, 1/l/I)."""
    alphabet = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def get(r: redis.Redis, username: str) -> Account | None:
    if not USERNAME.fullmatch(username or ""):
        return None
    d = r.hgetall(key(username))
    return _load(username, d) if d else None


def require(r: redis.Redis, username: str) -> Account:
    account = get(r, username)
    if account is None:
        raise AccountError(f"没有账号 {username} (no account {username})")
    return account


def list_all(r: redis.Redis) -> list[Account]:
    names = sorted(r.smembers(rkeys.ACCOUNTS))
    with r.pipeline(transaction=False) as p:
        for n in names:
            p.hgetall(key(n))
        rows = p.execute()
    return [_load(n, d) for n, d in zip(names, rows, strict=True) if d]


def create(r: redis.Redis, *, username: str, name: str, role: str, units: list[str] | None = None,
           now: float, password: str | None = None) -> tuple[Account, str]:
    """A new account with a temporary password (returned: shown once), to be changed at first
    login; or with the given password, checked for strength and not to be changed."""
    check_username(username)
    units = list(units or [])
    check_role(role, units)
    if password is not None:
        check_password(password, username)
    chosen = password or temporary_password()
    fields = {"name": name or username, "role": role, "units": ",".join(units), "active": "1",
              "must_change": "0" if password else "1", "pw": _hasher.hash(chosen), "totp": "",
              "created": repr(now)}
    # The record first, if there is none (HSETNX on its name field), then the index: a reader
    # never finds an indexed name without its record.
    if not r.hsetnx(key(username), "name", fields["name"]):
        raise AccountError(f"账号 {username} 已存在 (account {username} exists)")
    r.hset(key(username), mapping=fields)
    r.sadd(rkeys.ACCOUNTS, username)
    return require(r, username), chosen


def verify(r: redis.Redis, username: str, password: str) -> Account | None:
    """The account, if this is its password and it is active; else None, after as long."""
    d = r.hgetall(key(username)) if USERNAME.fullmatch(username or "") else {}
    try:
        _hasher.verify(d.get("pw") or _DUMMY, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return None
    if not d or d.get("active") != "1":
        return None
    if _hasher.check_needs_rehash(d["pw"]):
        r.hset(key(username), "pw", _hasher.hash(password))
    return _load(username, d)


def set_password(r: redis.Redis, username: str, password: str, *, temporary: bool) -> None:
    require(r, username)
    if not temporary:
        check_password(password, username)
    r.hset(key(username), mapping={"pw": _hasher.hash(password), "must_change": "1" if temporary else "0"})


def reset_password(r: redis.Redis, username: str) -> str:
    """A new temporary password (returned: shown once); the old one stops working."""
    password = temporary_password()
    set_password(r, username, password, temporary=True)
    return password


def update(r: redis.Redis, username: str, *, name: str | None = None, role: str | None = None,
           units: list[str] | None = None, active: bool | None = None) -> Account:
    account = require(r, username)
    role = role or account.role
    units = account.units if units is None else units
    check_role(role, units)
    fields = {"role": role, "units": ",".join(units if role == "manager" else [])}
    if name:
        fields["name"] = name
    if active is not None:
        fields["active"] = "1" if active else "0"
    r.hset(key(username), mapping=fields)
    return require(r, username)


# Two factors -----------------------------------------------------------------------------
def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def check_totp(secret: str, code: str, now: float) -> int | None:
    """The time step a 6-digit code matches (this one, or one either side), or None."""
    code = (code or "").strip().replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now) // totp.interval
    for s in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.at(s * totp.interval), code):
            return s
    return None


def enable_totp(r: redis.Redis, username: str, secret: str, code: str, now: float) -> bool:
    """Keep this secret as the account's second factor if the code fits it and the account has
    none yet (one that has keeps its own: an office admin resets it first)."""
    step = check_totp(secret, code, now)
    if step is None:
        return False
    return bool(load_script(r, "totp.lua")(keys=[key(username)], args=["enable", step, secret]))


def verify_totp(r: redis.Redis, username: str, code: str, now: float) -> bool:
    """Whether the code is the account's, and not used before (each works once, also when two
    requests bring it at the same moment)."""
    secret = r.hget(key(username), "totp")
    step = check_totp(secret, code, now) if secret else None
    if step is None:
        return False
    return bool(load_script(r, "totp.lua")(keys=[key(username)], args=["use", step, ""]))


def disable_totp(r: redis.Redis, username: str) -> None:
    require(r, username)
    r.hset(key(username), mapping={"totp": "", "totp_last": ""})


def end_sessions(r: redis.Redis, username: str) -> None:
    """End every console session of this account (ratingsvc.console.sessions keeps them)."""
    index = rkeys.ACCOUNT_SESSIONS + username
    hashed = r.smembers(index)
    if hashed:
        r.delete(*[rkeys.SESSION_PREFIX + h for h in hashed])
    r.delete(index)
