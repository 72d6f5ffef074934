"""Does PROXY_HOPS match the deployment? Judged per worker from the requests it serves.

The rule: PROXY_HOPS is the number of proxies in front of gunicorn that each append the
address they saw to X-Forwarded-For (nginx alone: 1; a load balancer and nginx: 2; nothing
in front, as `make run`: 0). Then every request reaches the app with exactly PROXY_HOPS
entries in X-Forwarded-For, unless its client sent some of its own.

What a mismatch does, and how it shows:
- too many hops (2 behind one nginx): the client's own X-Forwarded-For is believed, so a
  forged one escapes every per-IP limit and signal; honest requests carry fewer entries
  than PROXY_HOPS.
- too few (0 behind nginx): every citizen has the proxy's address, so one busy hall holds
  everyone; requests carry X-Forwarded-For although PROXY_HOPS is 0, or have no address at
  all (gunicorn on a unix socket).
/readyz says what it sees, and the log says it once when it starts (and again hourly).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque

log = logging.getLogger(__name__)
WINDOW = 200  # the most recent requests judged
MIN_SEEN = 20  # requests before anything is said
REPEAT = 3600.0  # seconds between repeated log warnings of the same problem
IGNORED = ("/healthz", "/readyz", "/metrics")  # probes often come straight, not through the proxy


class ProxyCheck:
    def __init__(self, hops: int) -> None:
        self.hops = hops
        self.recent: deque[str] = deque(maxlen=WINDOW)
        self.counts: Counter[str] = Counter()
        self.logged: tuple[str | None, float] = (None, 0.0)

    def observe(self, environ: dict) -> None:
        """One request, as it arrived (before ProxyFix rewrote its address)."""
        if environ.get("PATH_INFO") in IGNORED:
            return
        original = environ.get("werkzeug.proxy_fix.orig", environ)  # ProxyFix keeps the address
        forwarded = environ.get("HTTP_X_FORWARDED_FOR") or ""
        entries = forwarded.count(",") + 1 if forwarded.strip() else 0
        if self.hops == 0 and not original.get("REMOTE_ADDR"):  # a unix socket: a proxy in front
            kind = "no_address"
        else:
            kind = "fewer" if entries < self.hops else "more" if entries > self.hops else "fit"
        if len(self.recent) == WINDOW:
            self.counts[self.recent[0]] -= 1
        self.recent.append(kind)
        self.counts[kind] += 1
        problem = self.problem()
        if problem and (problem != self.logged[0] or time.monotonic() - self.logged[1] > REPEAT):
            log.warning("PROXY_HOPS: %s", problem)
            self.logged = (problem, time.monotonic())

    def problem(self) -> str | None:
        """What the recent requests say about PROXY_HOPS, or None when they fit it."""
        seen = len(self.recent)
        if seen < MIN_SEEN:
            return None
        most = {kind for kind, n in self.counts.items() if n * 2 > seen}
        if "no_address" in most and self.hops == 0:
            return ("requests arrive without a client address (gunicorn on a unix socket), so a "
                    "proxy is in front: set RATINGSVC_PROXY_HOPS to the number of proxies (nginx: 1); "
                    "with 0 every client is one address")
        if "more" in most:
            return (f"most requests carry more X-Forwarded-For entries than RATINGSVC_PROXY_HOPS="
                    f"{self.hops}: if more proxies are in front, raise it, or every client has the "
                    "address of the proxy nearest them")
        if "fewer" in most:
            return (f"most requests carry fewer X-Forwarded-For entries than RATINGSVC_PROXY_HOPS="
                    f"{self.hops}: fewer proxies are in front than it says, so a client's own "
                    "X-Forwarded-For is believed and escapes the per-address limits; lower it")
        return None

    def state(self) -> str:
        """For /readyz: ok, not yet known, or the problem."""
        if len(self.recent) < MIN_SEEN:
            return f"not judged yet ({len(self.recent)} of {MIN_SEEN} requests seen)"
        return self.problem() or "ok"
