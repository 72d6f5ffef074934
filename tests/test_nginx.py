"""nginx.conf for real: nginx in front of gunicorn (on a unix socket) and the suite's Redis."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ratingsvc import registry
from ratingsvc.embedded import free_port
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import PHONE, need_binary, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent


def nginx_binary() -> str:
    return need_binary(shutil.which("nginx") or "/usr/sbin/nginx",
                       "nginx is not installed (apt-get install nginx)")




@pytest.fixture
def stack(redis_server, tmp_path):
    """nginx (this very nginx.conf, paths substituted) -> gunicorn on a unix socket -> Redis."""
    nginx = nginx_binary()
    sock, port = tmp_path / "gunicorn.sock", free_port()
    conf = (ROOT / "nginx.conf").read_text()
    for old, new in [("user www-data;", "user root;"),
                     ("/run/nginx-ratingsvc.pid", str(tmp_path / "nginx.pid")),
                     ("/var/log/nginx/ratingsvc.error.log", str(tmp_path / "error.log")),
                     ("/var/log/nginx/ratingsvc.access.log", str(tmp_path / "access.log")),
                     ("/srv/ratingsvc/static/", f"{ROOT}/static/"),
                     ("/srv/ratingsvc/nginx-proxy.conf", str(ROOT / "nginx-proxy.conf")),
                     ("unix:/run/ratingsvc/gunicorn.sock", f"unix:{sock}"),
                     ("listen 80;", f"listen 127.0.0.1:{port};")]:
        assert old in conf, old
        conf = conf.replace(old, new)
    conf_path = tmp_path / "nginx.conf"
    conf_path.write_text(conf)
    args = [nginx, "-c", str(conf_path), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")]
    test = subprocess.run([*args, "-t"], capture_output=True, text=True)
    assert test.returncode == 0 and "syntax is ok" in test.stderr, test.stderr
    env = {**os.environ, "RATINGSVC_REDIS_URL": redis_server.url, "RATINGSVC_BIND": f"unix:{sock}",
           "RATINGSVC_WORKERS": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           **{f"RATINGSVC_{k}": str(v) for k, v in {**GENEROUS, **SIGNALS_OFF}.items()},
           "RATINGSVC_LIMIT_SCAN_IP": "3/minute", "RATINGSVC_PROXY_HOPS": "1"}
    app = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    edge = subprocess.Popen([*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: sock.exists())
        wait_for(lambda: get(port, "/healthz")[0] == 200)
        yield port
    finally:
        for proc in (edge, app):
            stop(proc, 15)


def get(port, path, headers=None, body=None, method=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method or ("POST" if body else "GET"), path,
                 body=json.dumps(body) if body else None,
                 headers={"User-Agent": PHONE, **({"Content-Type": "application/json"} if body else {}),
                          **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def test_a_rating_through_nginx_is_counted_and_static_files_come_from_nginx(stack, h):
    win = h.window()
    status, headers, data = get(stack, f"/api/v1/scan/{h.token(win)}")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    ticket = json.loads(data)["ticket"]
    status, _, data = get(stack, "/api/v1/ratings", {"Cookie": cookie}, {"ticket": ticket, "level": 5})
    assert status == 201 and json.loads(data)["status"] == "counted"
    assert h.r.hget(registry.UnitKeys("u1").tot, "5") == "1"
    status, headers, data = get(stack, "/static/rate.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert "X-RateLimit-Limit" not in headers  # nginx served it; the app never saw it
    assert get(stack, "/r/" + h.token(win))[0] == 200


def test_the_client_ip_is_the_one_nginx_saw_and_cannot_be_forged(stack, h):
    win = h.window()
    codes = [get(stack, f"/api/v1/scan/{h.token(win)}", {"X-Forwarded-For": f"10.9.9.{i}"})[0]
             for i in range(4)]
    assert codes == [200, 200, 200, 429]  # four forged addresses, one bucket: 127.0.0.1


def test_bodies_are_limited_at_the_edge(stack, h):
    status, _, _ = get(stack, "/api/v1/ratings", body={"ticket": "x" * 20000, "level": 5})
    assert status == 413


def test_limit_req_stops_a_flood_at_the_edge(stack, h):
    win = h.window()
    codes = [get(stack, f"/r/{h.token(win)}")[0] for _ in range(80)]
    assert 429 in codes and codes[0] == 200
