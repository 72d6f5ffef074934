"""nginx.conf for real: nginx in front of gunicorn (on a unix socket) and the suite's Redis."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ratingsvc import registry
from ratingsvc.embedded import free_port
from tests.conftest import GENEROUS, SIGNALS_OFF
from tests.helpers import PHONE, Stream, need_binary, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
TLS_BLOCK = re.compile(r"^ *# BEGIN TLS\n(.*?)^ *# END TLS\n", re.M | re.S)
SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy",
                    "X-Content-Type-Options")
BUSY, TOO_MANY = "服务繁忙，请稍后再试。", "操作太频繁，请稍后再试。"


def nginx_binary() -> str:
    return need_binary(shutil.which("nginx") or "/usr/sbin/nginx",
                       "nginx is not installed (apt-get install nginx)")


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    openssl = need_binary(shutil.which("openssl"), "openssl is not installed (apt-get install openssl)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def uncomment_tls(conf: str) -> str:
    """nginx.conf with its TLS server block (between # BEGIN TLS and # END TLS) switched on."""
    block = TLS_BLOCK.search(conf)
    assert block, "nginx.conf has no TLS block between '# BEGIN TLS' and '# END TLS'"
    lines = [re.sub(r"^( *)# ?", r"\1", line) for line in block.group(1).splitlines(keepends=True)]
    return conf[:block.start(1)] + "".join(lines) + conf[block.end(1):]


def write_config(tmp_path: Path, port: int, sock: Path, tls: tuple[int, Path, Path] | None,
                 extra: tuple[tuple[str, str], ...] = ()) -> Path:
    """This very nginx.conf and the nginx-*.conf files it includes, into tmp_path with exactly
    the deployment paths of nginx.conf's header substituted (and TLS switched on if asked)."""
    files = {p.name: p.read_text() for p in [ROOT / "nginx.conf", *sorted(ROOT.glob("nginx-*.conf"))]}
    subs = [("user www-data;", "user root;"),
            ("/run/nginx-ratingsvc.pid", str(tmp_path / "nginx.pid")),
            ("/var/log/nginx/ratingsvc.error.log", str(tmp_path / "error.log")),
            ("/var/log/nginx/ratingsvc.access.log", str(tmp_path / "access.log")),
            ("/srv/ratingsvc/ratingsvc/static/", f"{ROOT}/ratingsvc/static/"),
            ("/srv/ratingsvc/nginx-", f"{tmp_path}/nginx-"),
            ("unix:/run/ratingsvc/gunicorn.sock", f"unix:{sock}"),
            ("unix:/run/ratingsvc-streams/streams.sock", f"unix:{sock.parent / 'streams.sock'}"),
            ("listen 80;", f"listen 127.0.0.1:{port};"), *extra]
    if tls:
        tls_port, cert, key = tls
        files["nginx.conf"] = uncomment_tls(files["nginx.conf"])
        subs += [("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;"),
                 ("/etc/ssl/ratingsvc/fullchain.pem", str(cert)),
                 ("/etc/ssl/ratingsvc/privkey.pem", str(key))]
    for old, new in subs:
        assert any(old in text for text in files.values()), old
        files = {name: text.replace(old, new) for name, text in files.items()}
    assert not any("/srv/ratingsvc" in text for text in files.values())  # every path substituted
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path / "nginx.conf"


@dataclass
class Stack:
    port: int
    dir: Path
    app: subprocess.Popen | None
    tls_port: int | None = None

    def log(self, name: str = "access") -> str:
        path = self.dir / f"{name}.log"
        return path.read_text() if path.exists() else ""


@contextlib.contextmanager
def running(tmp_path: Path, redis_server=None, tls: bool = False, app_env: dict | None = None,
            extra: tuple[tuple[str, str], ...] = ()):
    """nginx (this very nginx.conf, paths substituted) -> gunicorn on a unix socket -> Redis.
    Without redis_server, no gunicorn: the socket is a path nothing listens on."""
    nginx = nginx_binary()
    sock, port = tmp_path / "gunicorn.sock", free_port()
    tls_port = next(p for p in iter(free_port, None) if p != port) if tls else None
    conf_path = write_config(tmp_path, port, sock,
                             (tls_port, *self_signed(tmp_path)) if tls_port else None, extra)
    args = [nginx, "-c", str(conf_path), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")]
    test = subprocess.run([*args, "-t"], capture_output=True, text=True)
    assert test.returncode == 0 and "syntax is ok" in test.stderr, test.stderr
    app = streams = None
    streams_log = open(tmp_path / "streams.log", "w")  # noqa: SIM115 (closed below)
    if redis_server is not None:
        env = {**os.environ, "RATINGSVC_REDIS_URL": redis_server.url, "RATINGSVC_BIND": f"unix:{sock}",
               "RATINGSVC_WORKERS": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
               **{f"RATINGSVC_{k}": str(v) for k, v in {**GENEROUS, **SIGNALS_OFF}.items()},
               "RATINGSVC_LIMIT_SCAN_IP": "3/minute", "RATINGSVC_PROXY_HOPS": "1", **(app_env or {})}
        app = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        streams = subprocess.Popen(  # the change streams' server, as deploy/ runs it
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
            env={**env, "RATINGSVC_WORKER_CLASS": "gevent",
                 "RATINGSVC_BIND": f"unix:{tmp_path / 'streams.sock'}",
                 "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics-streams")},
            stdout=subprocess.DEVNULL, stderr=streams_log)
    edge = subprocess.Popen([*args, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        if app:
            wait_for(lambda: sock.exists() and (tmp_path / "streams.sock").exists())
            wait_for(lambda: get(port, "/healthz")[0] == 200)
        else:
            wait_for(lambda: get(port, "/static/rate.js")[0] == 200)
        yield Stack(port, tmp_path, app, tls_port)
    finally:
        for proc in (edge, app, streams):
            if proc:
                stop(proc, 15)
        streams_log.close()


@pytest.fixture(scope="module")
def stack(redis_server, tmp_path_factory):
    """One stack for the tests that leave nothing behind in nginx (Redis is flushed after
    each test that uses the app)."""
    with running(tmp_path_factory.mktemp("nginx"), redis_server) as s:
        yield s


@pytest.fixture
def own_stack(redis_server, tmp_path):
    """A stack of the test's own: a flood leaves nginx's limit_req refusing for a while."""
    with running(tmp_path, redis_server) as s:
        yield s


@pytest.fixture
def tls_stack(redis_server, tmp_path):
    """The same, with nginx.conf's TLS server block switched on (a self-signed certificate)."""
    with running(tmp_path, redis_server, tls=True) as s:
        yield s


@pytest.fixture
def no_app(tmp_path):
    """nginx alone: gunicorn's socket is a path nothing listens on."""
    with running(tmp_path) as s:
        yield s


def insecure() -> ssl.SSLContext:
    """TLS without checking the (self-signed) certificate."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def get(port, path, headers=None, body=None, method=None, *, source=None, tls=False):
    """One request on a new connection; source: the client address nginx sees."""
    address = (source, 0) if source else None
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, source_address=address,
                                           context=insecure())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=address)
    conn.request(method or ("POST" if body else "GET"), path,
                 body=json.dumps(body) if body else None,
                 headers={"User-Agent": PHONE, **({"Content-Type": "application/json"} if body else {}),
                          **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def raw(port, request: bytes):
    """A request as bytes, for what http.client will not send."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        resp = http.client.HTTPResponse(conn)
        resp.begin()
        return resp.status, dict(resp.getheaders()), resp.read()


def json_error(status, headers, data, code):
    """The app's error shape, made by nginx: {"error": {"code", "message"}}, with the
    security headers."""
    assert headers["Content-Type"].startswith("application/json"), (status, headers, data)
    error = json.loads(data)["error"]
    assert error["code"] == code and error["message"], error
    assert all(name in headers for name in SECURITY_HEADERS), headers
    return error["message"]


def test_a_rating_through_nginx_is_counted_and_static_files_come_from_nginx(stack, h):
    win = h.window()
    status, headers, data = get(stack.port, f"/api/v1/scan/{h.token(win)}")
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    ticket = json.loads(data)["ticket"]
    status, _, data = get(stack.port, "/api/v1/ratings", {"Cookie": cookie}, {"ticket": ticket, "level": 5})
    assert status == 201 and json.loads(data)["status"] == "counted"
    assert h.r.hget(registry.UnitKeys("u1").tot, "5") == "1"
    status, headers, data = get(stack.port, "/static/rate.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    assert "X-RateLimit-Limit" not in headers  # nginx served it; the app never saw it
    assert get(stack.port, "/r/" + h.token(win))[0] == 200


def test_the_page_names_versioned_files_that_nginx_serves_gzipped_for_a_year(stack, h):
    status, headers, data = get(stack.port, "/r/" + h.token(h.window()), {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', gzip.decompress(data).decode())
    assert len(urls) == 5 and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls
    for url in urls:
        status, headers, _ = get(stack.port, url, {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip", (url, headers)
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "X-RateLimit-Limit" not in headers  # from nginx, not the app


def test_static_files_carry_every_security_header(stack):
    # A location with an add_header of its own drops the server's unless it repeats them.
    status, headers, _ = get(stack.port, "/static/rate.js")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=604800"
    assert all(name in headers for name in SECURITY_HEADERS), headers
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain http


def test_the_access_log_names_no_person_and_no_token(stack, h):
    win = h.window()
    token = h.token(win)
    sent = {"X-Forwarded-For": "198.51.100.23", "Referer": f"https://pj.example.gov.cn/r/{token}"}
    # WeChat's redirect back to the page carries ?code=&state=
    assert get(stack.port, f"/r/{token}?code=wxcodeQQ&state=wxstateZZ", sent)[0] == 200
    status, headers, data = get(stack.port, f"/api/v1/scan/{token}", sent)
    assert status == 200
    cookie, ticket = headers["Set-Cookie"].split(";", 1)[0], json.loads(data)["ticket"]
    status, headers, _ = get(stack.port, "/api/v1/ratings", {**sent, "Cookie": cookie},
                             {"ticket": ticket, "level": 5})
    assert status == 201
    assert get(stack.port, "/api/v1/cases/CaseLinkToken99", sent)[0] == 404  # a rater's case link
    # (nginx writes each line just after its answer)
    wait_for(lambda: headers["X-Request-Id"] in stack.log())  # the rating's line: the last of three
    log = stack.log()
    for secret in (token, "CaseLinkToken99", "wxcodeQQ", "wxstateZZ",
                   "127.0.0.1", "198.51.100", "pj.example.gov.cn",
                   cookie.split("=", 1)[1], ticket):
        assert secret not in log, secret
    # the address cut to its /24, tokens replaced, the request id the app saw, the User-Agent
    assert ' 127.0.0.0 "GET /r/-" 200 ' in log
    assert ' 127.0.0.0 "GET /api/v1/scan/-" 200 ' in log
    assert ' 127.0.0.0 "GET /api/v1/cases/-" 404 ' in log
    rating = [line for line in log.splitlines() if '"POST /api/v1/ratings"' in line][-1]  # this one
    assert ' 127.0.0.0 "POST /api/v1/ratings" 201 ' in rating
    assert f" {headers['X-Request-Id']} " in rating and rating.endswith(f'"{PHONE}"')


def test_metrics_answer_only_where_prometheus_scrapes(stack):
    status, headers, data = get(stack.port, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain") and b"# TYPE" in data
    # 127.0.0.0/8 is all loopback on Linux: the same nginx, another client address
    assert get(stack.port, "/readyz")[0] == 200  # the load balancer on this host
    status, headers, data = get(stack.port, "/readyz", source="127.0.0.2")
    assert status == 403 and json_error(status, headers, data, "forbidden")  # it tells what is wrong
    status, headers, data = get(stack.port, "/metrics", source="127.0.0.2")
    assert status == 403
    json_error(status, headers, data, "forbidden")
    assert get(stack.port, "/healthz", source="127.0.0.2")[0] == 200  # only /metrics is closed


def test_the_client_ip_is_the_one_nginx_saw_and_cannot_be_forged(stack, h):
    win = h.window()
    codes = [get(stack.port, f"/api/v1/scan/{h.token(win)}", {"X-Forwarded-For": f"10.9.9.{i}"})[0]
             for i in range(4)]
    assert codes == [200, 200, 200, 429]  # four forged addresses, one bucket: 127.0.0.1


def test_bodies_are_limited_at_the_edge(stack, h):
    status, headers, data = get(stack.port, "/api/v1/ratings", body={"ticket": "x" * 20000, "level": 5})
    assert status == 413
    json_error(status, headers, data, "body_too_large")


def test_the_console_import_takes_a_whole_file_through_nginx(stack):
    """A 1 MB upload reaches the app (which asks for a login), not nginx's 413."""
    status, headers, data = get(stack.port, "/console/registry/import", body={"file": "x" * 1_000_000})
    assert status in (302, 400), (status, data[:200])
    status, _, _ = get(stack.port, "/console/registry/units/new", body={"name": "x" * 1_000_000})
    assert status == 413  # only the import


def test_requests_nginx_refuses_itself_get_json_errors(stack):
    status, headers, data = get(stack.port, "/api/v1/scan/" + "x" * 10000)
    assert status == 414
    json_error(status, headers, data, "uri_too_long")
    status, headers, data = get(stack.port, "/healthz", {"X-Big": "y" * 10000})
    assert status == 400
    json_error(status, headers, data, "headers_too_large")
    status, headers, data = raw(stack.port, b"GET /healthz HTTP/1.1\r\n\r\n")  # no Host
    assert status == 400
    json_error(status, headers, data, "bad_request")


def flood(port, path, tries=400):
    """Requests until nginx's limit_req refuses one: its answer (headers, body)."""
    for _ in range(tries):
        status, headers, data = get(port, path)
        if status == 429 and "X-RateLimit-Limit" not in headers:  # not the app's own 429
            return headers, data
    raise AssertionError(f"{tries} requests to {path} and limit_req never refused one")


def test_limit_req_stops_a_flood_at_the_edge(own_stack, h):
    stack = own_stack
    win = h.window()
    token = h.token(win)
    assert get(stack.port, f"/r/{token}")[0] == 200
    # The rating page (HTML): nginx's 429 is a plain Chinese page.
    headers, data = flood(stack.port, f"/r/{token}")
    assert headers["Content-Type"] == "text/html; charset=utf-8" and headers["Retry-After"] == "1"
    assert TOO_MANY in data.decode() and "Content-Security-Policy" in headers
    # The API: nginx's 429 is JSON, like the app's own.
    headers, data = flood(stack.port, f"/api/v1/scan/{token}")
    assert json_error(429, headers, data, "too_many_requests") == TOO_MANY
    assert headers["Retry-After"] == "1"
    # A refusal's error log line would name the client and the token.
    assert token not in stack.log("error")


def test_an_app_that_does_not_answer_gets_busy_answers(no_app):
    status, headers, data = get(no_app.port, "/api/v1/scan/x")
    assert status == 502 and headers["Retry-After"] == "1"
    assert json_error(status, headers, data, "unavailable") == BUSY
    status, headers, data = get(no_app.port, "/R/x")
    assert status == 502 and headers["Retry-After"] == "1"
    assert headers["Content-Type"] == "text/html; charset=utf-8" and BUSY in data.decode()
    assert all(name in headers for name in SECURITY_HEADERS), headers
    wait_for(lambda: no_app.log().count(" 502 ") == 2)
    assert ' "GET /R/-" 502 ' in no_app.log()  # the path asked for, not the error page's


def test_an_app_too_slow_gets_busy_answers(tmp_path):
    """gunicorn takes the request and never answers: nginx's 504, in the JSON shape."""
    sock = tmp_path / "gunicorn.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.bind(str(sock))
        silent.listen(16)  # accepted by the kernel, never read: as a stuck worker
        with running(tmp_path, extra=(("proxy_read_timeout 30s;", "proxy_read_timeout 1s;"),)) as stack:
            status, headers, data = get(stack.port, "/api/v1/scan/x")
            assert status == 504 and headers["Retry-After"] == "1"
            assert json_error(status, headers, data, "unavailable") == BUSY
            status, headers, data = get(stack.port, "/r/x")
            assert status == 504 and BUSY in data.decode()


def test_tls_answers_carry_hsts_and_plain_http_ones_do_not(tls_stack):
    for path in ("/static/rate.js", "/healthz"):
        status, headers, _ = get(tls_stack.tls_port, path, tls=True)
        assert status == 200 and headers["Strict-Transport-Security"] == "max-age=31536000"
        assert all(name in headers for name in SECURITY_HEADERS), (path, headers)
        status, headers, _ = get(tls_stack.port, path)
        assert status == 200 and "Strict-Transport-Security" not in headers
        assert "Content-Security-Policy" in headers
    context = insecure()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with context.wrap_socket(socket.create_connection(("127.0.0.1", tls_stack.tls_port), timeout=10)) as conn:
        assert conn.selected_alpn_protocol() == "h2"
    status, headers, data = get(tls_stack.tls_port, "/metrics", tls=True, source="127.0.0.2")
    assert status == 403 and "Strict-Transport-Security" in headers
    json_error(status, headers, data, "forbidden")


@pytest.fixture
def streaming_stack(redis_server, tmp_path):
    with running(tmp_path, redis_server, app_env={
            "RATINGSVC_SSE_MAX_SECONDS": "6", "RATINGSVC_SSE_POLL": "0.1", "RATINGSVC_SSE_HEARTBEAT": "1",
            "RATINGSVC_LIMIT_SCAN_IP": "100/minute"}) as s:
        yield s


def test_change_streams_through_nginx_do_not_starve_taps(streaming_stack, h):
    """Four streams held the four sync workers: taps waited ~32 s each, or got 504."""
    h.period("p1", "2026-01-01", "2026-12-31")
    win = h.window()
    scorer = h.key("scorer")
    streams = [Stream(("127.0.0.1", streaming_stack.port), "/api/v1/scores/changes?period=p1", scorer)
               for _ in range(4)]
    time.sleep(0.5)
    took = []
    for i in range(5):
        start = time.monotonic()
        status, headers, data = get(streaming_stack.port, f"/api/v1/scan/{h.token(win)}",
                                    {"X-Forwarded-For": f"198.51.100.{i}"})
        ticket, cookie = json.loads(data)["ticket"], headers["Set-Cookie"].split(";", 1)[0]
        status, _, _ = get(streaming_stack.port, "/api/v1/ratings", {"Cookie": cookie},
                           {"ticket": ticket, "level": 5})
        took.append(time.monotonic() - start)
        assert status == 201
    assert max(took) < 5.0, took  # with sync workers: about 32 s, or 504
    for stream in streams:
        stream.join(15)
        assert not stream.is_alive() and stream.status == 200
        assert stream.events() == 5  # each tap reached every stream
        assert 5.5 < stream.ended - stream.opened < 15  # it lived until SSE_MAX_SECONDS, then ended
