"""gunicorn settings for ratingsvc: gunicorn -c gunicorn.conf.py wsgi:app

Environment:
  RATINGSVC_BIND          127.0.0.1:8000, or unix:/run/ratingsvc/gunicorn.sock behind nginx
  RATINGSVC_WORKERS       processes (default: 2 per core for sync, 1 for gevent)
  RATINGSVC_WORKER_CLASS  sync (default: taps, behind nginx, which hands over whole requests)
                          or gevent (the change streams' server behind nginx, and `make run`,
                          which has no nginx in front: a stream or a slow client is a greenlet,
                          not a process)
  PROMETHEUS_MULTIPROC_DIR  where the workers keep the metrics that /metrics adds up (var/metrics)

The master imports nothing of the app (gevent patches the workers after the fork): it checks
the app's settings with `ratingsvc check` in a child process before any worker starts, and a
bad one stops gunicorn with the reason.
"""

import json
import multiprocessing
import os
import shutil
import subprocess
import sys

from gunicorn import util

kind = os.environ.get("RATINGSVC_WORKER_CLASS", "sync")
if kind not in ("sync", "gevent"):
    sys.exit(f"RATINGSVC_WORKER_CLASS={kind!r}: expected sync or gevent")
IO_TIMEOUT = 30.0  # gevent: seconds a worker waits on one read or write of a client


def gevent_worker():
    """gevent, with a time limit on every read and write of a client. A request's headers
    must arrive within keepalive already; this also bounds a slow body and a stream whose
    reader stopped reading, so neither holds a connection for ever."""
    from gunicorn.workers.base_async import AsyncWorker
    from gunicorn.workers.ggevent import GeventWorker

    class Gevent(GeventWorker):
        def handle(self, listener, client, addr):
            client.settimeout(IO_TIMEOUT)  # GeventWorker.handle would make it blocking
            AsyncWorker.handle(self, listener, client, addr)

    return Gevent


worker_class = gevent_worker if kind == "gevent" else "sync"  # gunicorn calls a function
bind = os.environ.get("RATINGSVC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("RATINGSVC_WORKERS", 2 * multiprocessing.cpu_count() if kind == "sync" else 1))
worker_connections = 1000  # gevent: connections (streams among them) per worker
timeout = 30
graceful_timeout = 20
keepalive = 5  # gevent: a request's headers must arrive within this too
control_socket_disable = True  # no control socket under ~/.gunicorn
accesslog = None  # the app logs each request as JSON, by route, with tokens left out
errorlog = "-"

metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.abspath("var/metrics"))

#: gunicorn answers these itself (a malformed or oversized request line or headers)
ERRORS = {400: ("bad_request", "请求格式有误。"), 403: ("forbidden", "无权访问。"),
          414: ("uri_too_long", "请求地址过长。"), 417: ("expectation_failed", "请求格式有误。"),
          431: ("headers_too_large", "请求头过大。"), 501: ("not_implemented", "不支持这种请求。"),
          500: ("internal", "服务器出错了，请稍后再试。")}


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn's util.write_error, in the app's {"error": {"code", "message"}} shape instead
    of HTML. The detail (mesg) is left out: it can quote the request line, tokens and all."""
    code, message = ERRORS.get(status_int, ERRORS[400])
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json; charset=utf-8\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_json_error  # the workers call util.write_error(...)


def on_starting(server):
    """Refuse a bad configuration before any worker starts; a fresh metrics directory for a
    fresh master (old workers' files would be added up)."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    check = subprocess.run([sys.executable, "-m", "ratingsvc", "check"], capture_output=True, text=True,
                           env=env)
    if check.returncode:
        server.log.error("ratingsvc cannot start: %s", (check.stderr or check.stdout).strip())
        sys.exit(1)
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
