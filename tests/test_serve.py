"""`make run`'s path for real: `ratingsvc serve` with its embedded Redis, under gunicorn."""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import zxingcpp
from PIL import Image

from ratingsvc.embedded import free_port

START_TIMEOUT = 60


class Served:
    """`python -m ratingsvc serve` in the background; .lines is what it printed."""

    def __init__(self, var: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RATINGSVC_")}
        env.update(RATINGSVC_VAR_DIR=str(var), PYTHONUNBUFFERED="1")
        self.env = env
        self.log = open(var.parent / f"serve-{port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ratingsvc", "serve", "--port", str(port), "--workers", "2"],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env, start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not any("Press Ctrl-C" in line for line in self.lines):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.kill()
                raise AssertionError(f"serve did not come up: {self.lines}")
            time.sleep(0.1)

    def kill(self) -> None:
        """Last resort: the whole process group (serve, gunicorn, redis-server)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.reader.join(5)
        self.proc.stdout.close()
        self.log.close()

    def find(self, pattern: str) -> str:
        text = "".join(self.lines)
        match = re.search(pattern, text)
        assert match, text
        return match.group(1)

    def stop(self) -> int | None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()  # nothing of it may outlive the test, even when it did stop cleanly
        return code


PHONE = ("Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.49 NetType/WIFI Language/zh_CN")


def call(opener, url, body=None, key=None):
    headers = {"User-Agent": PHONE}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with opener.open(urllib.request.Request(url, data=data, headers=headers), timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_serve_prints_urls_and_keys_and_the_loop_works_end_to_end(tmp_path):
    port = free_port()
    served = Served(tmp_path / "var", port)
    try:
        page = served.find(r"(http://127\.0\.0\.1:\d+/r/[A-Z0-9]+)")
        png_url = served.find(r"\n\s+(http://\S+/qr\.png)\n")
        admin, scorer = served.find(r"admin key:\s+(rsk_\S+)"), served.find(r"scorer key:\s+(rsk_\S+)")
        assert "(demo data loaded)" in "".join(served.lines)
        phone = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(
            http.cookiejar.CookieJar()))
        status, html = call(phone, page)
        assert status == 200 and b"rate.js" in html
        token = page.rsplit("/", 1)[1]
        status, body = call(phone, f"{served.base}/api/v1/scan/{token}")
        assert status == 200
        ticket = json.loads(body)["ticket"]
        time.sleep(1)  # a person reads the page: a tap within RULE_MIN_TAP_MS looks automated
        assert call(phone, f"{served.base}/api/v1/ratings", {"ticket": ticket, "level": 4})[0] == 201
        assert call(phone, f"{served.base}/api/v1/ratings", {"ticket": ticket, "level": 4})[0] == 200

        status, png = call(phone, png_url, key=admin)
        assert status == 200
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text
        assert decoded == f"{served.base.upper()}/R/{token}"

        period = served.find(r"period=(\w+)")
        status, body = call(phone, f"{served.base}/api/v1/scores?period={period}", key=scorer)
        units = json.loads(body)["units"]
        assert status == 200 and len(units) == 330
        assert [(u["unit"], u["counts"]["4"]) for u in units if u["n"]] == [("of-001", 1)]

        # The console, and its first office admin, whose password must be changed first.
        console = served.find(r"console \(in a browser\): (http://\S+/console/)")
        password = served.find(r"first office admin: user admin, password (\S+) ")
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, login_page = call(browser, console)
        assert status == 200 and "登录".encode() in login_page
        csrf = re.search(rb'name="csrf-token" content="([^"]+)"', login_page)[1].decode()
        form = urllib.parse.urlencode({"username": "admin", "password": password,
                                       "csrf_token": csrf}).encode()
        with browser.open(urllib.request.Request(f"{console}login", data=form), timeout=10) as resp:
            assert resp.url.endswith("/console/password") and "临时密码".encode() in resp.read()

        # The command line, without RATINGSVC_REDIS_URL, uses the Redis `make run` started.
        made = subprocess.run([sys.executable, "-m", "ratingsvc", "keys", "create", "--role", "scorer",
                               "--name", "cli"], env=served.env, capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        sock = tmp_path / "var" / "redis" / "redis.sock"
        assert f"Redis: unix://{sock}?db=0 (the one `make run` uses)" in made.stderr
        status, body = call(phone, f"{served.base}/api/v1/scores?period={period}", key=made.stdout.strip())
        assert status == 200
    finally:
        assert served.stop() == 0
    assert not (tmp_path / "var" / "run" / "redis.json").exists()

    again = Served(tmp_path / "var", port)  # same data: nothing reloaded, the tap kept
    try:
        assert "(demo data loaded)" not in "".join(again.lines)
        assert "first office admin" not in "".join(again.lines)  # shown once
        assert "users reset-password" in "".join(again.lines)
        scorer = again.find(r"scorer key:\s+(rsk_\S+)")
        status, body = call(urllib.request.build_opener(),
                            f"{again.base}/api/v1/units/of-001/score?period={period}", key=scorer)
        assert status == 200 and json.loads(body)["n"] == 1
        old = call(urllib.request.build_opener(), f"{again.base}/api/v1/units", key=admin)[0]
        assert old == 401  # each run mints new demo keys and retires the old ones
    finally:
        assert again.stop() == 0
    assert (tmp_path / "var" / "redis" / "appendonlydir").is_dir() or list(
        (tmp_path / "var" / "redis").glob("*.aof"))


def test_serve_says_the_port_is_taken_before_it_starts_anything(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RATINGSVC_")}
        done = subprocess.run([sys.executable, "-m", "ratingsvc", "serve", "--port", str(port)],
                              env={**env, "RATINGSVC_VAR_DIR": str(tmp_path / "var")},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"cannot listen on 127.0.0.1:{port}: Address already in use. Stop "
                                   "what uses it, or choose another port: ratingsvc serve --port N")
    assert "ratingsvc is up" not in done.stdout and "rsk_" not in done.stdout
    assert not (tmp_path / "var" / "redis").exists()  # no Redis was started
