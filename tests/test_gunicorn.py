"""gunicorn.conf.py for real, with nothing in front: its own errors in the JSON shape, bodies
that never come, and (gevent, as `make run`) slow clients and long streams that stall no tap."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ratingsvc.embedded import free_port
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import PHONE, PROJECT, Stream, stop, wait_for


@contextlib.contextmanager
def gunicorn(redis_server, tmp_path: Path, kind: str, **settings: str):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RATINGSVC_")},
           "RATINGSVC_REDIS_URL": redis_server.url, "RATINGSVC_BIND": f"127.0.0.1:{port}",
           "RATINGSVC_WORKER_CLASS": kind, "RATINGSVC_WORKERS": "2", "RATINGSVC_PROXY_HOPS": "0",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{kind}"),
           **{f"RATINGSVC_{k}": str(v) for k, v in {**GENEROUS, **SIGNALS_OFF, **settings}.items()}}
    log_path = tmp_path / f"gunicorn-{kind}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                cwd=PROJECT, env=env, stdout=log, stderr=log)
        try:
            health = f"http://127.0.0.1:{port}/healthz"
            wait_for(lambda: urllib.request.urlopen(health, timeout=1).status == 200)
            yield port, log_path
        finally:
            stop(proc)


def raw(port: int, request: bytes, wait: float = 10) -> tuple[int, dict, bytes]:
    """Send bytes, read the answer until the server closes or `wait` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as conn:
        conn.sendall(request)
        data = b""
        with contextlib.suppress(TimeoutError):
            while chunk := conn.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


@pytest.fixture
def sync_app(redis_server, tmp_path):
    with gunicorn(redis_server, tmp_path, "sync") as (port, _):
        yield port


@pytest.mark.parametrize(("request_", "status", "code"), [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431, "headers_too_large"),
    (b"NOT A REQUEST LINE\r\n\r\n", 400, "bad_request"),
    (b"GET /r/SECRETTOKEN HTTP/9.9\r\nHost: x\r\n\r\n", 400, "bad_request"),
])
def test_gunicorn_answers_its_own_errors_in_the_json_shape(sync_app, request_, status, code):
    got, headers, body = raw(sync_app, request_)
    assert got == status and headers["Content-Type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"] and b"SECRETTOKEN" not in body


def test_a_body_declared_huge_is_refused_at_once_not_waited_for(sync_app):
    """The app had no body limit: a worker waited for 50 MB that never came."""
    start = time.monotonic()
    status, _, body = raw(sync_app, b"POST /api/v1/ratings HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                    b"application/json\r\nContent-Length: 50000000\r\n\r\n{\"ticket\"")
    assert time.monotonic() - start < 2
    assert status == 413 and json.loads(body)["error"]["code"] == "body_too_large"


def test_a_sync_worker_refuses_a_stream_and_serves_json_pages(sync_app, h):
    h.period("p1")
    scorer = h.key("scorer")
    status, _, body = raw(sync_app, b"GET /api/v1/scores/changes?period=p1 HTTP/1.1\r\nHost: x\r\n"
                                    b"Accept: text/event-stream\r\nConnection: close\r\n"
                                    + f"Authorization: {scorer['Authorization']}\r\n\r\n".encode())
    assert status == 503 and json.loads(body)["error"]["code"] == "streams_elsewhere"
    request = urllib.request.Request(f"http://127.0.0.1:{sync_app}/api/v1/scores/changes?period=p1",
                                     headers=scorer)
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200 and json.loads(answer.read())["changes"] == []


def test_gevent_slow_clients_and_long_streams_stall_no_tap(redis_server, tmp_path, h, monkeypatch):
    """`make run`'s workers. With sync workers four slow connections stalled every tap for
    34 s, and a stream was killed by the worker timeout before SSE_MAX_SECONDS."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 3")  # streams must outlive it
    h.period("p1", "2026-01-01", "2026-12-31")
    win = h.window()
    scorer = h.key("scorer")
    with gunicorn(redis_server, tmp_path, "gevent", SSE_MAX_SECONDS="6", SSE_POLL="0.1",
                  SSE_HEARTBEAT="1") as (port, log_path):
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
        for conn in slow:
            conn.sendall(b"POST /api/v1/ratings HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
        streams = [Stream(("127.0.0.1", port), "/api/v1/scores/changes?period=p1", scorer) for _ in range(4)]
        time.sleep(0.5)
        took = []
        for _ in range(5):
            start = time.monotonic()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            with opener.open(urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/scan/{h.token(win)}",
                                                    headers={"User-Agent": PHONE}), timeout=5) as answer:
                ticket = json.loads(answer.read())["ticket"]
            tap = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/ratings", method="POST",
                                         data=json.dumps({"ticket": ticket, "level": 4}).encode(),
                                         headers={"Content-Type": "application/json", "User-Agent": PHONE})
            with opener.open(tap, timeout=5) as answer:
                assert answer.status == 201
            took.append(time.monotonic() - start)
        assert max(took) < 5.0, took  # with sync workers: 34 s each
        for stream in streams:
            stream.join(15)
            assert stream.status == 200 and stream.events() == 5
            assert 5.5 < stream.ended - stream.opened < 15  # lived until SSE_MAX_SECONDS, then ended
        for conn in slow:
            conn.settimeout(10)
            assert conn.recv(100) == b""  # dropped once gunicorn's keepalive (5 s) passed
            conn.close()
    assert "WORKER TIMEOUT" not in log_path.read_text()
