"""Proof of work: off by default; when on, a tap needs the answer to its own ticket's challenge."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ratingsvc import proofofwork
from tests.helpers import need_binary

POW_JS = Path(__file__).resolve().parent.parent / "ratingsvc" / "static" / "pow.js"


def test_off_by_default(h):
    win = h.window()
    body = h.client.get(f"/api/v1/scan/{h.token(win)}").json
    assert "pow" not in body
    assert h.client.post("/api/v1/ratings", json={"ticket": body["ticket"], "level": 5}).status_code == 201


def test_a_tap_needs_the_answer_to_its_own_challenge(rules):
    h = rules(POW_BITS=10)
    win = h.window()
    scan = h.client.get(f"/api/v1/scan/{h.token(win)}").json
    assert scan["pow"]["bits"] == 10
    challenge, ticket = scan["pow"]["challenge"], scan["ticket"]
    post = lambda **extra: h.client.post(  # noqa: E731
        "/api/v1/ratings", json={"ticket": ticket, "level": 5, **extra})
    missing = post()
    assert missing.status_code == 403 and missing.json["error"]["code"] == "pow_required"
    wrong = next(str(n) for n in range(10**6) if proofofwork.zero_bits(challenge, str(n)) < 10)
    assert post(pow=wrong).json["error"]["code"] == "pow_invalid"
    other = h.client.get(f"/api/v1/scan/{h.token(win)}").json["pow"]["challenge"]
    assert post(pow=proofofwork.solve(other, 10)).status_code == 403  # another ticket's answer
    assert post(pow=proofofwork.solve(challenge, 10)).status_code == 201


@pytest.mark.parametrize("bits", [1, 8, 12])
def test_the_pages_solver_finds_what_the_server_accepts(bits):
    node = need_binary(shutil.which("node"), "node is not installed: static/pow.js is not run")
    challenges = [f"c{i}-Zx_9" for i in range(5)]
    script = (f"const pow = require({json.dumps(str(POW_JS))});"
              f"console.log(JSON.stringify({json.dumps(challenges)}.map(c => pow.solve(c, {bits}))))")
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60, check=True)
    for challenge, solution in zip(challenges, json.loads(out.stdout), strict=True):
        assert proofofwork.verify(challenge, solution, bits)
        assert solution == proofofwork.solve(challenge, bits)  # the smallest, as in Python
