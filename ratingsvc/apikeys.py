"""API keys with roles. Only a SHA-256 of each key is stored; the key is shown once."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field

import redis

from . import rkeys

ROLES = ("admin", "manager", "scorer")
PREFIX = "rsk_"


@dataclass
class ApiKey:
    id: str  # first 12 hex digits of the hash: safe to show and log
    name: str
    role: str
    units: list[str] = field(default_factory=list)  # for managers: the units they may manage
    created: float = 0.0



def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(r: redis.Redis, *, name: str, role: str, units: list[str] | None = None,
               now: float) -> tuple[str, ApiKey]:
    if role not in ROLES:
        raise ValueError(f"角色应为 {'、'.join(ROLES)} 之一 (role must be one of {', '.join(ROLES)})")
    if role == "manager" and not units:
        raise ValueError("manager 密钥至少要指定一个单位（--unit） (a manager key names at least one unit)")
    key = PREFIX + secrets.token_urlsafe(32)
    digest = _digest(key)
    record = ApiKey(id=digest[:12], name=name, role=role, units=list(units or []), created=now)
    r.hset(rkeys.API_KEYS, digest, json.dumps(asdict(record), ensure_ascii=False))
    return key, record


def lookup(r: redis.Redis, key: str) -> ApiKey | None:
    raw = r.hget(rkeys.API_KEYS, _digest(key)) if key.startswith(PREFIX) else None
    return ApiKey(**json.loads(raw)) if raw else None


def list_keys(r: redis.Redis) -> list[ApiKey]:
    return sorted((ApiKey(**json.loads(v)) for v in r.hgetall(rkeys.API_KEYS).values()),
                  key=lambda k: k.created)


def revoke(r: redis.Redis, *, key_id: str | None = None, name: str | None = None) -> int:
    """Delete keys by id or by name; returns how many."""
    doomed = [d for d, v in r.hgetall(rkeys.API_KEYS).items()
              if (key_id and d.startswith(key_id)) or (name and json.loads(v)["name"] == name)]
    return int(r.hdel(rkeys.API_KEYS, *doomed)) if doomed else 0
