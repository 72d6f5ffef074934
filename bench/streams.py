"""Change-stream clients for bench/web.py: many server-sent event streams held open at once,
as scoring services would, on raw sockets read by one thread (cheap beside the server)."""

from __future__ import annotations

import selectors
import socket
import statistics
import threading
import time

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

    def summary(self) -> dict:
        lived = [(s["ended"] or time.monotonic()) - s["opened"] for s in self.stats]
        events = [s["events"] for s in self.stats]
        return {"streams": len(self.stats),
                "ok": sum(s["head"].startswith(b"HTTP/1.1 200") for s in self.stats),
                "still_open": self.open_count(),
                "lived_s": {"min": round(min(lived), 1), "median": round(statistics.median(lived), 1),
                            "max": round(max(lived), 1)},
                "events": {"min": min(events), "max": max(events)},
                "mbytes": round(sum(s["bytes"] for s in self.stats) / 1e6, 1)}
