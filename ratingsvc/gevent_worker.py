"""The gevent worker that serves change streams (and all of `make run`, which has no nginx
in front): gunicorn.conf.py names it `gevent` (RATINGSVC_WORKER_CLASS=gevent).

A stream is a greenlet here, so it neither holds a process nor meets gunicorn's worker
timeout, and a slow client costs a greenlet, not the worker.
"""

from __future__ import annotations

from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

IO_TIMEOUT = 30.0  # seconds a worker waits on one read or write of a client


class Gevent(GeventWorker):
    """gevent, with a time limit on every read and write of a client. A request's headers
    must arrive within gunicorn's keepalive already (5 s); this also bounds a slow body and a
    stream whose reader stopped reading, so neither holds a connection for ever."""

    def handle(self, listener, client, addr):
        client.settimeout(IO_TIMEOUT)  # GeventWorker.handle would make it blocking
        AsyncWorker.handle(self, listener, client, addr)
