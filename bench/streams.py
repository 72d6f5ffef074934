"""Change-stream clients for bench/web.py: many server-sent event streams held open at once,
as scoring services would, on raw sockets read by one thread (cheap beside the server)."""

from __future__ import annotations

import json
import re
import selectors
import socket
import statistics
import threading
import time
import urllib.request
from pathlib import Path

MARK = b"event: change"


class Streams:
    def __init__(self, port: int, path: str, headers: dict[str, str], n: int) -> None:
        self.selector = selectors.DefaultSelector()
        head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": "127.0.0.1", "Accept": "text/event-stream",
                                                   "Connection": "close", **headers}.items())
        self.stats = []
        for _ in range(n):
            conn = socket.create_connection(("127.0.0.1", port))
            conn.sendall(f"GET {path} HTTP/1.1\r\n{head}\r\n".encode())
            conn.setblocking(False)
            stat = {"opened": time.monotonic(), "ended": None, "bytes": 0, "events": 0, "head": b"",
                    "tail": b""}
            self.stats.append(stat)
            self.selector.register(conn, selectors.EVENT_READ, stat)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        open_ = len(self.stats)
        while open_:
            for key, _ in self.selector.select(timeout=1):
                stat = key.data
                try:
                    chunk = key.fileobj.recv(262144)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    stat["ended"] = time.monotonic()
                    self.selector.unregister(key.fileobj)
                    key.fileobj.close()
                    open_ -= 1
                    continue
                if len(stat["head"]) < 12:
                    stat["head"] += chunk[:12]
                seen = stat["tail"] + chunk  # a mark may straddle two reads
                stat["events"] += seen.count(MARK)
                stat["tail"] = chunk[-(len(MARK) - 1):]
                stat["bytes"] += len(chunk)

    def open_count(self) -> int:
        return sum(s["ended"] is None for s in self.stats)

    def wait(self, seconds: float) -> None:
        self.thread.join(seconds)


class LiveStreams:
    """The streams' server (gevent workers, at Nice=10 as its systemd unit), and --streams
    clients that follow one period's feed live from its end, as scoring services that have
    kept up: opened just before a run of taps, closed after, for as many runs as asked."""

    def __init__(self, stack, app_env: dict, scorer: str, period: str, n: int, lifetime: int) -> None:
        self.stack, self.period, self.n, self.lifetime = stack, period, n, lifetime
        self.headers = {"Authorization": f"Bearer {scorer}"}
        self.process, self.port, self.log = stack.start(
            "streams", "wsgi:app", {**app_env, "RATINGSVC_WORKER_CLASS": "gevent",
                                    "RATINGSVC_SSE_MAX_SECONDS": str(lifetime)},
            str(Path(__file__).resolve().parent.parent), workers=1, nice=10)
        self.clients: list[Streams] = []
        self.open_when_taps_ended: list[int] = []

    def end_of_feed(self) -> str:
        cursor = "0"
        page = f"http://127.0.0.1:{self.port}/api/v1/scores/changes?period={self.period}&limit=5000"
        while True:
            request = urllib.request.Request(f"{page}&after={cursor}", headers=self.headers)
            with urllib.request.urlopen(request, timeout=60) as answer:
                body = json.loads(answer.read())
            cursor = body["cursor"]
            if not body["more"]:
                return cursor

    def open(self) -> None:
        cursor = self.end_of_feed()
        self.clients.append(Streams(self.port, f"/api/v1/scores/changes?period={self.period}&after={cursor}",
                                    self.headers, self.n))
        time.sleep(1)  # every stream open

    def close(self) -> None:
        """After a run: how many were still open, then wait for SSE_MAX_SECONDS to end them."""
        self.open_when_taps_ended.append(self.clients[-1].open_count())
        self.clients[-1].wait(self.lifetime + 15)

    def stop(self) -> None:
        self.stack.stop(self.process, self.log)

    def summary(self) -> dict:
        stats = [s for c in self.clients for s in c.stats]
        lived = [(s["ended"] or time.monotonic()) - s["opened"] for s in stats]
        events = [s["events"] for s in stats]
        text = Path(self.log.name).read_text(errors="replace")
        return {"opened": len(stats), "ok": sum(s["head"].startswith(b"HTTP/1.1 200") for s in stats),
                "open_when_taps_ended": min(self.open_when_taps_ended), "still_open": sum(
                    c.open_count() for c in self.clients),
                "lived_s": {"min": round(min(lived), 1), "median": round(statistics.median(lived), 1),
                            "max": round(max(lived), 1)},
                "events": {"min": min(events), "max": max(events)}, "sse_max_seconds": self.lifetime,
                "worker_timeouts": text.count("WORKER TIMEOUT"),
                "slow_polls_s": [float(x) for x in re.findall(r"feed poll took ([0-9.]+) s", text)]}
