"""An uploaded file kept between its preview and its confirmation: its bytes in one Redis key
with a short lifetime, under a random token, for the account that uploaded it. No Flask here."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass

import redis

from . import rkeys

TTL_SECONDS = 1800  # half an hour to look at a preview and confirm it


@dataclass
class Upload:
    token: str
    owner: str  # who uploaded it: only they may confirm it
    name: str  # the file's name as uploaded
    data: bytes
    options: dict


def keep(r: redis.Redis, owner: str, name: str, data: bytes, options: dict | None = None,
         ttl: int = TTL_SECONDS) -> Upload:
    """Store the file; its token is what the preview's form carries."""
    upload = Upload(secrets.token_urlsafe(24), owner, name, data, options or {})
    put_back(r, upload, ttl)
    return upload


def _decode(token: str, raw: str) -> Upload:
    d = json.loads(raw)
    return Upload(token, d["owner"], d["name"], base64.b64decode(d["data"]), d["options"])


def load(r: redis.Redis, owner: str, token: str) -> Upload | None:
    """The file kept under this token for this owner; None if expired, unknown or another's."""
    if not token or len(token) > 64:
        return None
    raw = r.get(rkeys.UPLOAD_PREFIX + token)
    upload = _decode(token, raw) if raw is not None else None
    return upload if upload is not None and upload.owner == owner else None


def take(r: redis.Redis, owner: str, token: str) -> Upload | None:
    """The file kept under this token for this owner, taken out (GETDEL): of two confirmations
    at once, one gets it and the other None. put_back() returns it (a preview shown again)."""
    if not token or len(token) > 64:
        return None
    raw = r.getdel(rkeys.UPLOAD_PREFIX + token)
    upload = _decode(token, raw) if raw is not None else None
    if upload is not None and upload.owner != owner:  # not theirs: left as it was
        put_back(r, upload)
        return None
    return upload


def put_back(r: redis.Redis, upload: Upload, ttl: int = TTL_SECONDS) -> None:
    """Keep the upload under its token (again)."""
    r.set(rkeys.UPLOAD_PREFIX + upload.token, json.dumps({
        "owner": upload.owner, "name": upload.name, "options": upload.options,
        "data": base64.b64encode(upload.data).decode("ascii")}, ensure_ascii=False), ex=ttl)
