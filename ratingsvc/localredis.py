"""Which Redis the command line uses, and saying so.

`ratingsvc serve` (`make run`) writes the URL of the Redis it uses and its own pid to a state
file under VAR_DIR while it runs. The command line uses RATINGSVC_REDIS_URL when set, else
that Redis when its server is alive and answers PING, else the default REDIS_URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import redis

from .settings import SETTINGS

DEFAULT_URL = SETTINGS["REDIS_URL"][0]


def state_file(project: Path, env: Mapping[str, str]) -> Path:
    """var/run/redis.json, under RATINGSVC_VAR_DIR (relative to the project, or absolute)."""
    return project / env.get("RATINGSVC_VAR_DIR", SETTINGS["VAR_DIR"][0]) / "run" / "redis.json"


def write_state(path: Path, url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    part.write_text(json.dumps({"redis_url": url, "pid": os.getpid()}), encoding="utf-8")
    part.replace(path)


def remove_state(path: Path) -> None:
    """Remove the state file if this process wrote it."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid():
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_url(path: Path) -> str | None:
    """The URL in the state file, if its `ratingsvc serve` is alive and its Redis answers."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        url, pid = str(state["redis_url"]), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    try:
        with redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1) as client:
            return url if client.ping() else None
    except (redis.RedisError, OSError, ValueError):
        return None


def choose(project: Path, env: Mapping[str, str]) -> tuple[str, str]:
    """(url, why): the Redis the command line uses, and the reason, for people."""
    if env.get("RATINGSVC_REDIS_URL"):
        return env["RATINGSVC_REDIS_URL"], "RATINGSVC_REDIS_URL"
    path = state_file(project, env)
    url = running_url(path)
    if url:
        return url, "the one `make run` uses"
    return DEFAULT_URL, "the default: RATINGSVC_REDIS_URL is not set and no `make run` is up"


def shown(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"//([^/@]*):[^/@]*@", r"//\1:***@", url)
