"""PROXY_HOPS that does not fit the deployment is said in /readyz and the log."""

from __future__ import annotations

import logging

import pytest

from ratingsvc import create_app
from ratingsvc.proxycheck import MIN_SEEN, ProxyCheck


def judged(hops: int, requests: list[tuple[str, str | None]]) -> str | None:
    check = ProxyCheck(hops)
    for remote, forwarded in requests:
        environ = {"PATH_INFO": "/api/v1/ratings", "REMOTE_ADDR": remote}
        if forwarded is not None:
            environ["HTTP_X_FORWARDED_FOR"] = forwarded
        check.observe(environ)
    return check.problem()


NGINX = ("127.0.0.1", "203.0.113.7")  # one nginx: it appends the address it saw
NGINX_ON_A_SOCKET = ("", "203.0.113.7")
DIRECT = ("203.0.113.7", None)
FORGED_THROUGH_NGINX = ("127.0.0.1", "10.1.2.3, 203.0.113.7")


@pytest.mark.parametrize(("hops", "request_", "found"), [
    (1, NGINX, None), (0, DIRECT, None), (2, ("127.0.0.1", "198.51.100.1, 10.0.0.2"), None),
    (0, NGINX_ON_A_SOCKET, "without a client address"),
    (0, NGINX, "more X-Forwarded-For entries than RATINGSVC_PROXY_HOPS=0"),
    (1, ("127.0.0.1", "198.51.100.1, 10.0.0.2"), "more X-Forwarded-For entries than RATINGSVC_PROXY_HOPS=1"),
    (2, NGINX, "fewer X-Forwarded-For entries than RATINGSVC_PROXY_HOPS=2"),
    (1, NGINX_ON_A_SOCKET, None),  # as deployed: gunicorn on a unix socket has no client address
    (2, NGINX_ON_A_SOCKET, "fewer X-Forwarded-For entries than RATINGSVC_PROXY_HOPS=2"),
    (1, DIRECT, "fewer X-Forwarded-For entries than RATINGSVC_PROXY_HOPS=1"),
])
def test_what_the_requests_say_about_proxy_hops(hops, request_, found):
    problem = judged(hops, [request_] * 50)
    assert (problem is None) if found is None else (found in problem), problem


def test_a_few_clients_sending_their_own_header_are_no_mismatch():
    assert judged(1, [NGINX] * 40 + [FORGED_THROUGH_NGINX] * 10) is None
    assert judged(1, [NGINX] * 10 + [FORGED_THROUGH_NGINX] * 40) is not None


def test_nothing_is_judged_before_enough_requests_and_probes_do_not_count():
    assert judged(2, [NGINX] * (MIN_SEEN - 1)) is None
    check = ProxyCheck(2)
    for _ in range(50):
        check.observe({"PATH_INFO": "/readyz", "REMOTE_ADDR": "10.0.0.1"})
    assert check.problem() is None and check.state().startswith("not judged yet")


def test_readyz_and_the_log_say_it(config, caplog):
    """Behind nginx on a unix socket with PROXY_HOPS=0, every citizen is one address."""
    app = create_app({**config, "PROXY_HOPS": 0})
    c = app.test_client()
    with caplog.at_level(logging.WARNING, logger="ratingsvc.proxycheck"):
        for _ in range(MIN_SEEN + 5):
            c.get("/api/v1/openapi.json", environ_base={"REMOTE_ADDR": ""},
                  headers={"X-Forwarded-For": "203.0.113.7"})
    ready = c.get("/readyz").json
    assert ready["status"] == "ok" and "set RATINGSVC_PROXY_HOPS" in ready["proxy"]
    warnings = [r for r in caplog.records if "PROXY_HOPS" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every request


def test_readyz_says_ok_when_the_requests_fit(config):
    app = create_app({**config, "PROXY_HOPS": 1})
    c = app.test_client()
    for _ in range(MIN_SEEN):
        c.get("/api/v1/openapi.json", headers={"X-Forwarded-For": "203.0.113.7"})
    assert c.get("/readyz").json["proxy"] == "ok"
