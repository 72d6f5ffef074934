"""One node of a test topology (tests/topology.py): a redis-server or sentinel child process.

Every node is a redis-server (ratingsvc.embedded.find_binary; a sentinel is the same binary
with --sentinel) on 127.0.0.1 on a free port, with its config file, data and log in a
directory of its own. Each wait is bounded and fails with the node's log lines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from ratingsvc.embedded import RedisServerError, find_binary, free_port

START_TIMEOUT = 10.0
CHANGE_TIMEOUT = 30.0  # a failover, a rejoin, a cluster forming
COMMON = ["bind 127.0.0.1", "protected-mode no", 'save ""', "appendonly yes", "appendfsync everysec",
          "repl-diskless-sync-delay 0"]  # no 5 s wait before a full sync to a replica


class Node:
    """One redis-server (or sentinel) with its config file: restart() keeps what Redis wrote
    into it (a sentinel's state, `replicaof` after a failover)."""

    def __init__(self, directory: Path, name: str, lines: list[str], sentinel: bool = False) -> None:
        self.directory = (directory / name).resolve()
        self.name, self.sentinel = name, sentinel
        self.port = free_port()
        self.conf = self.directory / ("sentinel.conf" if sentinel else "redis.conf")
        self.lines = [f"port {self.port}", f"dir {self.directory}", f"logfile {self.logfile}",
                      *(["bind 127.0.0.1", "protected-mode no"] if sentinel else COMMON), *lines]
        self.process: subprocess.Popen | None = None

    @property
    def logfile(self) -> Path:
        return self.directory / "redis.log"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=timeout,
                           socket_connect_timeout=timeout)

    def start(self) -> Node:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.conf.exists():
            self.conf.write_text("\n".join(self.lines) + "\n")
        args = [find_binary(), str(self.conf)] + (["--sentinel"] if self.sentinel else [])
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        with self.client(0.5) as client:
            self.wait(client.ping, "answer PING", START_TIMEOUT)
        return self

    def info(self, section: str = "replication") -> dict:
        with self.client() as client:
            return client.info(section)

    def wait(self, check: Callable[[], object], what: str, seconds: float = CHANGE_TIMEOUT) -> None:
        """Until check() is true (a Redis error counts as not yet), or fail with the log."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            try:
                if check():
                    return
            except (redis.RedisError, OSError):
                pass
            time.sleep(0.05)
        self.fail(f"did not {what} within {seconds:.0f} s")

    def fail(self, message: str) -> None:
        log = self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""
        raise RedisServerError(f"{self.name} (port {self.port}) {message}:\n{log}")

    def kill(self) -> None:
        """kill -9: no shutdown, no last write of its append-only file."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def until(check: Callable[[], object], what: str, nodes: list[Node], seconds: float = CHANGE_TIMEOUT) -> None:
    """Until check() is true, or fail with the logs of `nodes`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    logs = "\n".join(f"--- {n.name}\n" + (n.logfile.read_text(errors="replace")[-1500:]
                                          if n.logfile.exists() else "") for n in nodes)
    raise RedisServerError(f"did not {what} within {seconds:.0f} s:\n{logs}")


def pairs(reply: list | dict) -> dict:
    """A reply of field-value pairs as a dict (redis-py parses some SENTINEL replies itself)."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))
