"""Which Redis the command line uses, and saying so.

`ratingsvc serve` (`make run`) writes the URL of the Redis it uses and its own pid to a state
file under VAR_DIR while it runs, with the folder its exports go to. The command line uses
RATINGSVC_REDIS_URL when set, else that Redis while its `ratingsvc serve` is alive (even when
the Redis does not answer: then the command fails there, never on another Redis), else the
default REDIS_URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import redis

from . import topology
from .settings import SETTINGS

DEFAULT_URL = SETTINGS["REDIS_URL"][0]


def state_file(project: Path, env: Mapping[str, str]) -> Path:
    """var/run/redis.json, under RATINGSVC_VAR_DIR (relative to the project, or absolute)."""
    return project / env.get("RATINGSVC_VAR_DIR", SETTINGS["VAR_DIR"][0]) / "run" / "redis.json"


def write_state(path: Path, url: str, export_dir: str | None = None) -> None:
    """export_dir: the server's EXPORT_DIR as an absolute path (closing from the command line
    writes where the server reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    state = {"redis_url": url, "pid": os.getpid(), "export_dir": export_dir}
    part.write_text(json.dumps(state), encoding="utf-8")
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


def running_state(path: Path) -> dict | None:
    """The state file's contents, if its `ratingsvc serve` is alive."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        state["redis_url"], state["pid"] = str(state["redis_url"]), int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if _alive(state["pid"]) else None


def _answers(url: str) -> bool:
    try:
        client = topology.connect(url, timeout=1)  # any topology; a cluster's PING goes to one node
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, redis.exceptions.RedisClusterException, OSError, ValueError):
        return False


def choose(project: Path, env: Mapping[str, str]) -> tuple[str, str]:
    """(url, why): the Redis the command line uses, and the reason, for people."""
    if env.get("RATINGSVC_REDIS_URL"):
        return env["RATINGSVC_REDIS_URL"], "RATINGSVC_REDIS_URL"
    state = running_state(state_file(project, env))
    if state:
        url = state["redis_url"]
        return url, "the one `make run` uses" + ("" if _answers(url) else ", not answering now")
    return DEFAULT_URL, "the default: RATINGSVC_REDIS_URL is not set and no `make run` is up"


def server_config(project: Path, env: Mapping[str, str]) -> dict:
    """Settings the command line takes from the running `make run` unless set in env: its
    export folder (a relative EXPORT_DIR means the server's working directory, not ours)."""
    state = None if env.get("RATINGSVC_REDIS_URL") else running_state(state_file(project, env))
    if state and state.get("export_dir") and not env.get("RATINGSVC_EXPORT_DIR"):
        return {"EXPORT_DIR": state["export_dir"]}
    return {}


def shown(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"//([^/@]*):[^/@]*@", r"//\1:***@", url)
