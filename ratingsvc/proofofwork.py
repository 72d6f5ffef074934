"""Self-hosted proof of work on a tap: find s with SHA-256("<challenge>:<s>") starting with
`bits` zero bits. The challenge is the scan ticket's nonce, so each ticket needs its own work.
static/pow.js solves it in the page; RATINGSVC_POW_BITS=0 turns it off.
"""

from __future__ import annotations

import hashlib
import itertools


def zero_bits(challenge: str, solution: str) -> int:
    digest = hashlib.sha256(f"{challenge}:{solution}".encode()).digest()
    return 256 - int.from_bytes(digest, "big").bit_length()


def verify(challenge: str, solution: str | None, bits: int) -> bool:
    return bits <= 0 or (solution is not None and zero_bits(challenge, solution) >= bits)


def solve(challenge: str, bits: int) -> str:
    """What the page does (for tests and the simulation)."""
    for n in itertools.count():
        if zero_bits(challenge, str(n)) >= bits:
            return str(n)
    raise AssertionError("unreachable")
