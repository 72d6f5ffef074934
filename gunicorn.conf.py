"""gunicorn settings for ratingsvc: gunicorn -c gunicorn.conf.py wsgi:app

Environment:
  RATINGSVC_BIND          127.0.0.1:8000, or unix:/run/ratingsvc/gunicorn.sock behind nginx
  RATINGSVC_WORKERS       processes (default: 2 per core for sync, 1 for gevent)
  RATINGSVC_WORKER_CLASS  sync (default: taps, behind nginx, which buffers whole requests) or
                          gevent (the change streams' server behind nginx, and `make run`,
                          which has no nginx in front: a stream or a slow client is a greenlet,
                          not a process; see ratingsvc/gevent_worker.py)
  PROMETHEUS_MULTIPROC_DIR  where the workers keep the metrics that /metrics adds up (var/metrics)

The app's own settings (RATINGSVC_*) are checked here, in the master, before any worker
starts: a bad one stops gunicorn with the reason.
"""

import multiprocessing
import os
import shutil
import sys

WORKER_CLASSES = {"sync": "sync", "gevent": "ratingsvc.gevent_worker.Gevent"}

kind = os.environ.get("RATINGSVC_WORKER_CLASS", "sync")
if kind not in WORKER_CLASSES:
    sys.exit(f"RATINGSVC_WORKER_CLASS={kind!r}: expected one of {', '.join(WORKER_CLASSES)}")
worker_class = WORKER_CLASSES[kind]
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


def on_starting(server):
    """A fresh metrics directory for a fresh master (old workers' files would be added up);
    then, before any worker starts, refuse a bad configuration, and answer gunicorn's own
    errors (400, 414, 431) in the app's JSON shape (the workers inherit it)."""
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)
    from ratingsvc import create_app
    from ratingsvc.settings import ConfigError
    from ratingsvc.workers import json_errors

    try:
        create_app()  # checks every RATINGSVC_* setting; opens no connection
    except ConfigError as exc:
        server.log.error("ratingsvc cannot start: %s", exc)
        sys.exit(1)
    json_errors()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
