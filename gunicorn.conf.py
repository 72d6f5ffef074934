"""gunicorn settings for ratingsvc: gunicorn -c gunicorn.conf.py wsgi:app

Environment: RATINGSVC_BIND (127.0.0.1:8000, or unix:/run/ratingsvc/gunicorn.sock behind
nginx), RATINGSVC_WORKERS (2 per core), PROMETHEUS_MULTIPROC_DIR (var/metrics), where the
workers keep the metrics that /metrics adds up.
"""

import multiprocessing
import os
import shutil

bind = os.environ.get("RATINGSVC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("RATINGSVC_WORKERS", 2 * multiprocessing.cpu_count()))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
control_socket_disable = True  # no control socket under ~/.gunicorn
accesslog = None  # the app logs each request as JSON, by route, with tokens left out
errorlog = "-"

metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.abspath("var/metrics"))


def on_starting(server):
    """A fresh metrics directory for a fresh master: old workers' files would be added up."""
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
