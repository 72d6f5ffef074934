"""Whether the Redis server can keep taps as durably as TAP_DURABILITY asks, and what its
error replies say about the storage."""

from __future__ import annotations

import re
import threading
import time

import redis

from . import topology

CHECK_EVERY = 5.0  # seconds a worker trusts its last look at the server's persistence

#: Redis error codes that mean the storage cannot take writes now -> (our code, reason)
FAULTS = {
    "OOM": ("storage_full", "Redis is out of memory (maxmemory reached, no eviction)"),
    "MISCONF": ("storage_disk", "Redis cannot write to its disk (the append-only file or a snapshot)"),
    "READONLY": ("storage_readonly", "Redis is a read-only replica"),
    "MASTERDOWN": ("storage_readonly", "Redis has lost its master"),
    "NOREPLICAS": ("storage_readonly", "Redis has too few replicas to accept writes"),
    "BUSY": ("storage_busy", "Redis is busy running a script"),
    "TRYAGAIN": ("storage_busy", "Redis asks to try again"),
    "CLUSTERDOWN": ("storage_busy", "the Redis cluster is down"),
}


BY_CLASS = ((redis.exceptions.OutOfMemoryError, "OOM"), (redis.exceptions.ReadOnlyError, "READONLY"),
            (redis.exceptions.MasterDownError, "MASTERDOWN"), (redis.exceptions.TryAgainError, "TRYAGAIN"),
            (redis.exceptions.ClusterDownError, "CLUSTERDOWN"))


#: Redis before 7.0 wraps an error a script's command met: "Error running script (call to
#: f_...): @user_script:66: @user_script: 66: -OOM command not allowed ..."
IN_SCRIPT = re.compile(r"Error running script .*?: -([A-Z]+) ")


def fault(exc: redis.ResponseError) -> tuple[str, str] | None:
    """(code, reason) when an error reply says the storage cannot take writes, else None
    (then it is a bug of ours, not a fault of the storage)."""
    for cls, code in BY_CLASS:
        if isinstance(exc, cls):  # redis-py strips the code of the errors it has a class for
            return FAULTS[code]
    text = str(exc.args[0]) if exc.args else ""
    code = getattr(exc, "status_code", None) or text.split(" ", 1)[0]
    wrapped = IN_SCRIPT.match(text) if code not in FAULTS else None
    return FAULTS.get(wrapped[1] if wrapped else code)


def problem(r: redis.Redis, durability: str, replicas: int = 1) -> str | None:
    """Why the server (each master of a cluster) cannot give the durability asked for, or None."""
    for node in topology.primaries(r):
        found = _problem(node, durability, replicas)
        if found:
            return found
    return None


def _problem(r: redis.Redis, durability: str, replicas: int) -> str | None:
    if durability == "always":
        try:
            config = r.config_get("append*")
        except redis.ResponseError as exc:  # CONFIG renamed or refused: cannot tell
            return f"cannot read the server's appendfsync: {exc}"
        if config.get("appendonly") != "yes" or config.get("appendfsync") != "always":
            return (f"TAP_DURABILITY=always needs appendonly yes and appendfsync always; the server "
                    f"has appendonly {config.get('appendonly')}, appendfsync {config.get('appendfsync')}")
    if durability == "waitaof":
        info = r.info()  # all of it: Redis before 7 takes one section a call
        release = str(info.get("redis_version", "0"))
        if tuple(int(x) for x in release.split(".")[:2]) < (7, 2):
            return f"TAP_DURABILITY=waitaof needs Redis 7.2+ (WAITAOF); the server is {release}"
        if not info.get("aof_enabled"):
            return "TAP_DURABILITY=waitaof needs appendonly yes"
    if durability == "replica":
        info = r.info("replication")
        if info.get("role") != "master":
            return f"TAP_DURABILITY=replica: the server is a {info.get('role')}, not a master"
        online = sum(1 for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)
                     and v.get("state") == "online")  # not still in its first sync
        if online < replicas:
            return f"TAP_DURABILITY=replica needs {replicas} replica(s) online; the master has {online}"
    return None


class Guard:
    """problem(), looked at once every CHECK_EVERY seconds per worker: a tap is refused
    rather than acknowledged by a server that would not have it on disk."""

    def __init__(self, durability: str, replicas: int = 1) -> None:
        self.durability, self.replicas = durability, replicas
        self._checked = -CHECK_EVERY
        self._problem: str | None = None
        self._lock = threading.Lock()

    def problem(self, r: redis.Redis) -> str | None:
        if self.durability in ("server", "replica"):  # replica: each tap's WAIT is the check, on
            return None  # its own master (one master of a cluster without a replica stops no other)
        now = time.monotonic()
        if now - self._checked >= CHECK_EVERY:
            with self._lock:
                if now - self._checked >= CHECK_EVERY:
                    self._problem = problem(r, self.durability, self.replicas)
                    self._checked = now
        return self._problem
