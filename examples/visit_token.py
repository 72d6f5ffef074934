#!/usr/bin/env python3
"""Reference implementation of ratingsvc's visit token, version 1: what a queue machine (取号机)
or a window's screen runs to make tokens offline. Python 3 standard library only; port it as
it stands (README "Visit tokens").

    token = BASE32( body || MAC )            uppercase, no "=" padding
    body  = 0x01                             version
            channel                          one byte: "T" (0x54) a visit, "M" (0x4D) an SMS link
            varint(hall) varint(window)      the hall's and the window's numbers
            varint(issued)                   Unix time of issue, seconds
            varint(device) varint(serial)    the issuing machine's number in the hall (0: the
                                             server) and its own counter: unique per hall
    MAC   = HMAC-SHA256(key, "ratingsvc/visit-token/v1" || body), its first 10 bytes
    varint: 7 bits a byte, least significant first, high bit set on all bytes but the last
    key   = the hall key's bytes: BASE32-decode of the part after "rsh_<hall>_"

The QR code or SMS link carries <PUBLIC_URL>/V/<token> (upper case: QR alphanumeric mode).

    python3 examples/visit_token.py rsh_3_... 17 1              # window 17, serial 1, issued now
    python3 examples/visit_token.py rsh_3_... 17 42 1780000000   # issued then (the test vector's)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
import time

VERSION = 1
CONTEXT = b"ratingsvc/visit-token/v1"
MAC_BYTES = 10


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def hall_key(text: str) -> tuple[int, bytes]:
    """(hall number, key bytes) of a hall key "rsh_<hall>_<base32>"."""
    prefix, hall, secret = text.strip().split("_", 2)
    if prefix != "rsh":
        raise ValueError("a hall key starts with rsh_")
    return int(hall), base64.b32decode(secret + "=" * (-len(secret) % 8))


def make_token(key: bytes, *, hall: int, window: int, issued: int, serial: int, device: int = 1,
               channel: str = "T") -> str:
    body = bytes([VERSION]) + channel.encode("ascii") + b"".join(
        varint(n) for n in (hall, window, issued, device, serial))
    mac = hmac.new(key, CONTEXT + body, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(body + mac).decode("ascii").rstrip("=")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    hall, key = hall_key(sys.argv[1])
    issued = int(sys.argv[4]) if len(sys.argv) > 4 else int(time.time())
    print(make_token(key, hall=hall, window=int(sys.argv[2]), issued=issued, serial=int(sys.argv[3])))
