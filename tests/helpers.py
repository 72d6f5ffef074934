"""Test helpers: a clock, and the actions tests repeat (make data, scan, tap, keys)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ratingsvc import apikeys, registry
from ratingsvc.extensions import Signing
from ratingsvc.registry import Category, Unit

READ_SECONDS = 5
PROJECT = Path(__file__).resolve().parent.parent


def need_binary(path: str | None, missing: str) -> str:
    """path, or: skipped here with the reason, failed under CI (which installs it)."""
    if path and os.access(path, os.X_OK):
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (needed under CI)")
    pytest.skip(missing)


def waitaof_server() -> str:
    """A server with WAITAOF (Redis 7.2+): RATINGSVC_WAITAOF_SERVER, valkey-server on PATH, or
    the one .ci/run unpacks from Debian's bookworm-backports into var/valkey."""
    unpacked = PROJECT / "var" / "valkey" / "usr" / "bin" / "valkey-server"
    path = (os.environ.get("RATINGSVC_WAITAOF_SERVER") or shutil.which("valkey-server")
            or (str(unpacked) if unpacked.exists() else None))
    return need_binary(path, "no server with WAITAOF (Redis 7.2+ or Valkey): run .ci/run with CI=true, "
                             "or set RATINGSVC_WAITAOF_SERVER")


class limited_disk:  # noqa: N801 (used like a function)
    """A disk that fills up, without privileges: redis-server's files may not grow past `size`
    bytes (RLIMIT_FSIZE: a write past it fails as on a full disk) until grow(pid)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def apply(self) -> None:
        """In the child, before redis-server starts (RedisServer's preexec)."""
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.size, resource.RLIM_INFINITY))

    @staticmethod
    def grow(pid: int) -> None:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class Helper:
    def __init__(self, app: Flask, r, clock: Clock) -> None:
        self.app, self.r, self.clock = app, r, clock
        self.client = app.test_client()
        self._admin: dict | None = None

    @property
    def signing(self) -> Signing:
        return self.app.extensions["ratingsvc.signing"]

    # data ------------------------------------------------------------------------------
    def unit(self, uid: str = "u1", category: str = "c1", name: str | None = None) -> Unit:
        if not self.r.sismember(registry.rkeys.CATEGORIES, category):
            registry.save_category(self.r, Category(category, f"类别{category}"), create=True)
        return registry.save_unit(self.r, Unit(uid, name or f"单位{uid}", category), create=True)

    def window(self, unit: str = "u1", name: str = "1号窗口") -> registry.Window:
        if not self.r.sismember(registry.rkeys.UNITS, unit):
            self.unit(unit)
        return registry.create_window(self.r, unit, name)

    def token(self, window: registry.Window) -> str:
        current = registry.get_window(self.r, window.id)
        return self.signing.qr_token(current.id, current.epoch)

    def key(self, role: str, units: tuple[str, ...] = ()) -> dict[str, str]:
        key, _ = apikeys.create_key(self.r, name=f"test {role}", role=role, units=list(units),
                                    now=self.clock())
        return {"Authorization": f"Bearer {key}"}

    @property
    def admin(self) -> dict[str, str]:
        if self._admin is None:
            self._admin = self.key("admin")
        return self._admin

    def period(self, pid: str = "p1", start: str = "2026-05-01", end: str = "2026-09-30"):
        resp = self.client.post("/api/v1/periods", headers=self.admin,
                                json={"id": pid, "name": pid, "start": start, "end": end})
        assert resp.status_code == 201, resp.json
        return resp.json

    # citizen ---------------------------------------------------------------------------
    def rater(self) -> FlaskClient:
        """A new phone: its own cookie jar, so its own device cookie."""
        return self.app.test_client()

    def scan(self, window: registry.Window, rater: FlaskClient | None = None) -> str:
        resp = (rater or self.client).get(f"/api/v1/scan/{self.token(window)}")
        assert resp.status_code == 200, resp.json
        return resp.json["ticket"]

    def tap(self, window: registry.Window, level: int = 5, rater: FlaskClient | None = None,
            headers: dict | None = None):
        rater = rater or self.client
        ticket = self.scan(window, rater)
        self.clock.advance(READ_SECONDS)  # a person reads the page before tapping
        return rater.post("/api/v1/ratings", json={"ticket": ticket, "level": level},
                          headers=headers or {})

    def counts(self, unit: str = "u1") -> dict[str, str]:
        return self.r.hgetall(registry.UnitKeys(unit).tot)


PHONE = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Mobile MicroMessenger/8.0.49"


def tap_from(h, window, ip="203.0.113.5", level=5, rater=None, ua=PHONE, wait=5):
    """A tap from a phone (new one unless given) at an IP, `wait` seconds after its scan."""
    rater = rater or h.rater()
    headers = {"X-Forwarded-For": ip, "User-Agent": ua}
    ticket = rater.get(f"/api/v1/scan/{h.token(window)}", headers=headers).json["ticket"]
    h.clock.advance(wait)
    return rater.post("/api/v1/ratings", json={"ticket": ticket, "level": level}, headers=headers)


def wait_for(check, seconds: float = 30) -> None:
    """Until check() is true (an OSError counts as not yet), at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("did not come up")


def stop(proc: subprocess.Popen, seconds: float = 20) -> int:
    """SIGTERM, then SIGKILL if it lingers; always reaped. Returns its exit code."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


class Stream(threading.Thread):
    """A server-sent event stream read in the background over a raw socket, as a scoring
    service would: .data holds what came, .opened and .ended the times (monotonic)."""

    def __init__(self, address: str | tuple[str, int], path: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.address, self.path, self.headers = address, path, headers
        self.data = b""
        self.opened = self.ended = 0.0
        self.start()

    def run(self) -> None:
        family = socket.AF_UNIX if isinstance(self.address, str) else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as conn:
            conn.settimeout(60)
            conn.connect(self.address)
            head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": "localhost", "Accept": "text/event-stream",
                                                        "Connection": "close",
                                                        **self.headers}.items())
            conn.sendall(f"GET {self.path} HTTP/1.1\r\n{head}\r\n".encode())
            self.opened = time.monotonic()
            try:
                while chunk := conn.recv(65536):
                    self.data += chunk
            except OSError:
                pass
            self.ended = time.monotonic()

    @property
    def status(self) -> int:
        return int(self.data.split(b" ", 2)[1]) if self.data.startswith(b"HTTP/") else 0

    def events(self) -> int:
        return self.data.count(b"event: change")


class TapStream:
    """Four phones tapping through the app at once, each tap a new rater, round the windows of
    these QR tokens, until stopped (or `seconds` pass): every acknowledged rating id, every
    answer (a scan's refusal too), when each 503 came. For tests that crash or fail over Redis
    under a stream of taps (test_failover, test_durability)."""

    def __init__(self, app, tokens: list[str], seconds: float = 60) -> None:
        self.app, self.tokens, self.seconds = app, tokens, seconds
        self.acked: list[str] = []
        self.answers: Counter = Counter()
        self.refused: list[float] = []  # monotonic times of the 503s
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self.tap, args=(i,)) for i in range(4)]

    def tap(self, n: int) -> None:
        deadline = time.monotonic() + self.seconds
        while not self.stopped.is_set() and time.monotonic() < deadline:
            n += 1
            phone = self.app.test_client()
            resp = phone.get(f"/api/v1/scan/{self.tokens[n % len(self.tokens)]}")
            if resp.status_code == 200:
                resp = phone.post("/api/v1/ratings", json={"ticket": resp.json["ticket"], "level": 5})
            self.answers[resp.status_code] += 1
            if resp.status_code in (200, 201, 202) and "rating_id" in (resp.json or {}):
                self.acked.append(resp.json["rating_id"])
            elif resp.status_code == 503:
                self.refused.append(time.monotonic())
                time.sleep(0.02)

    def wait_acked(self, count: int, seconds: float = 20) -> int:
        """Until `count` taps are acknowledged (or `seconds` pass): how many are."""
        deadline = time.monotonic() + seconds
        while len(self.acked) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.acked)

    def report(self, case: str) -> str:
        span = self.refused[-1] - self.refused[0] if self.refused else 0.0
        line = (f"{case}: {len(self.acked)} acknowledged, 503 x{len(self.refused)} over {span:.1f} s "
                f"({len({int(t) for t in self.refused})} distinct seconds); answers {dict(self.answers)}")
        print(line)
        return line

    def __enter__(self) -> TapStream:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join()
