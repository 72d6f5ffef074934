"""Proof of visit: halls, their keys, and visit tokens (no Flask here).

A hall (办事大厅) has a number, a name, its windows, a key and a validity. Its queue machines
make visit tokens offline with the key (examples/visit_token.py is the reference, README
"Visit tokens"); its online queue system asks the API for them with the same key. A token is
one service at one window: a rating through it counts once, whoever sends it, within the
hall's validity (record.lua dedupes on its nonce in the dedupe hash of its day of issue).
Channels: "T" visit (a queue ticket or the window's screen), "M" SMS link, "K" a kiosk opening
(made by the server only, 30 seconds).

Redis: ``rs:halls`` set of hall numbers; ``rs:hall:<n>`` hash name, key (sealed), windows
(JSON), valid (minutes), active, created, networks (JSON: the hall's own addresses, CIDR);
``rs:hallwin`` hash window -> hall;
``rs:hall:<n>:serial`` the server's own counter (device 0); ``rs:kiosk:<window>`` the window's
kiosk opening (a token), for 30 seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass, field

import redis

from . import rkeys
from .records import RegistryError
from .signing import BadToken, Signing, _read_varint, _varint

VERSION = 1
CONTEXT = b"ratingsvc/visit-token/v1"
MAC_BYTES = 10
CHANNEL_BYTES = {"visit": b"T", "sms": b"M", "kiosk": b"K"}
BY_BYTE = {v[0]: k for k, v in CHANNEL_BYTES.items()}
KEY_PREFIX = "rsh_"
SEAL = "hall-key"
VALID_MAX = 2880  # minutes: a token's dedupe entry lives DEDUPE_TTL (3 days) from its day of issue
KIOSK_SECONDS = 30
SKEW_SECONDS = 300  # a machine's clock ahead of the server's by this much still issues


@dataclass
class Hall:
    id: int
    name: str
    windows: list[int] = field(default_factory=list)
    valid_minutes: int = 1440
    active: bool = True
    created: float = 0.0
    networks: list[str] = field(default_factory=list)  # the hall's own addresses (CIDR): on site


@dataclass(frozen=True)
class VisitToken:
    version: int
    channel: str  # visit | sms | kiosk
    hall: int
    window: int
    issued: int  # Unix seconds
    device: int
    serial: int

    @property
    def nonce(self) -> str:
        """What the counting script dedupes on: one rating per token (never a poster ticket's
        nonce, which has no '.')."""
        return f"v:{CHANNEL_BYTES[self.channel].decode()}{self.hall}.{self.device}.{self.serial}"


class BadVisit(ValueError):
    """A visit token that cannot count: code names why (unknown, expired, early, window)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _record(hid: int) -> str:
    return f"rs:hall:{hid}"


def key_text(hid: int, key: bytes) -> str:
    return f"{KEY_PREFIX}{hid}_{base64.b32encode(key).decode().rstrip('=')}"


def parse_key(text: str) -> tuple[int, bytes] | None:
    prefix, sep, rest = text.strip().partition("_")
    hall, sep2, secret = rest.partition("_")
    if prefix + sep != KEY_PREFIX or not sep2 or not hall.isdigit():
        return None
    try:
        return int(hall), base64.b32decode(secret + "=" * (-len(secret) % 8))
    except ValueError:
        return None


def make_token(key: bytes, *, hall: int, window: int, issued: int, serial: int, device: int,
               channel: str = "visit") -> str:
    body = bytes([VERSION]) + CHANNEL_BYTES[channel] + b"".join(
        _varint(n) for n in (hall, window, issued, device, serial))
    return base64.b32encode(body + _mac(key, body)).decode().rstrip("=")


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, CONTEXT + body, hashlib.sha256).digest()[:MAC_BYTES]


def parse_token(token: str) -> tuple[VisitToken, bytes, bytes]:
    """(token, body, MAC) of a token's text, not yet verified; BadToken if malformed."""
    text = token.strip().upper()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except ValueError as exc:
        raise BadToken("not base32") from exc
    if base64.b32encode(raw).decode().rstrip("=") != text or len(raw) < 7 + MAC_BYTES:
        raise BadToken("not a canonical token")
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if body[0] != VERSION or body[1] not in BY_BYTE:
        raise BadToken("unknown version or channel")
    numbers, pos = [], 2
    for _ in range(5):
        n, pos = _read_varint(body, pos)
        numbers.append(n)
    if pos != len(body):
        raise BadToken("trailing bytes")
    hall, window, issued, device, serial = numbers
    return VisitToken(VERSION, BY_BYTE[body[1]], hall, window, issued, device, serial), body, mac


# Halls -----------------------------------------------------------------------------------
def _hall(hid: int, data: dict[str, str]) -> Hall:
    return Hall(id=hid, name=data["name"], windows=json.loads(data.get("windows") or "[]"),
                valid_minutes=int(data.get("valid", 1440)), active=data.get("active") != "0",
                created=float(data.get("created", 0)), networks=json.loads(data.get("networks") or "[]"))


def get_hall(r: redis.Redis, hid: int) -> Hall:
    data = r.hgetall(_record(hid)) if r.sismember(rkeys.HALLS, hid) else {}
    if not data:
        raise RegistryError("hall", hid)
    return _hall(hid, data)


def list_halls(r: redis.Redis) -> list[Hall]:
    ids = sorted(int(h) for h in r.smembers(rkeys.HALLS))
    with r.pipeline(transaction=False) as p:
        for hid in ids:
            p.hgetall(_record(hid))
        rows = p.execute()
    return [_hall(hid, d) for hid, d in zip(ids, rows, strict=True) if d]


def _check_windows(r: redis.Redis, hid: int, windows: list[int]) -> None:
    """Each window exists and is in no other hall."""
    if not windows:
        return
    with r.pipeline(transaction=False) as p:
        p.hmget(rkeys.WINDOWS, windows)
        p.hmget(rkeys.HALL_WINDOWS, windows)
        units, halls = p.execute()
    for wid, unit, hall in zip(windows, units, halls, strict=True):
        if unit is None:
            raise RegistryError("window", wid)
        if hall is not None and int(hall) != hid:
            raise RegistryError("window", wid, "in_other_hall")


def _save(r: redis.Redis, hall: Hall, old: list[int]) -> None:
    with r.pipeline(transaction=False) as p:
        p.hset(_record(hall.id), mapping={
            "name": hall.name, "windows": json.dumps(hall.windows), "valid": hall.valid_minutes,
            "active": "1" if hall.active else "0", "created": hall.created,
            "networks": json.dumps(hall.networks)})
        gone = sorted(set(old) - set(hall.windows))
        if gone:
            p.hdel(rkeys.HALL_WINDOWS, *gone)
        if hall.windows:
            p.hset(rkeys.HALL_WINDOWS, mapping=dict.fromkeys(hall.windows, hall.id))
        p.sadd(rkeys.HALLS, hall.id)
        p.execute()


def create_hall(r: redis.Redis, signing: Signing, *, name: str, windows: list[int], valid_minutes: int,
                now: float, networks: list[str] | None = None) -> tuple[Hall, str]:
    """A new hall and its key, as text (shown once: only a sealed copy is kept)."""
    hid = int(r.incr(rkeys.HALL_SEQ))
    windows = sorted(set(windows))
    _check_windows(r, hid, windows)
    hall = Hall(hid, name, windows, valid_minutes, True, now, networks_of(networks or []))
    key = secrets.token_bytes(32)
    r.hset(_record(hid), "key", signing.seal(SEAL, key.hex(), str(hid)))
    _save(r, hall, [])
    return hall, key_text(hid, key)


def update_hall(r: redis.Redis, hid: int, *, name: str | None = None, windows: list[int] | None = None,
                valid_minutes: int | None = None, active: bool | None = None,
                networks: list[str] | None = None) -> Hall:
    old = get_hall(r, hid)
    hall = Hall(hid, old.name if name is None else name,
                old.windows if windows is None else sorted(set(windows)),
                old.valid_minutes if valid_minutes is None else valid_minutes,
                old.active if active is None else active, old.created,
                old.networks if networks is None else networks_of(networks))
    _check_windows(r, hid, hall.windows)
    _save(r, hall, old.windows)
    return hall


def new_key(r: redis.Redis, signing: Signing, hid: int) -> str:
    """A new key for the hall (the old one stops: its tokens not yet rated no longer count)."""
    get_hall(r, hid)
    key = secrets.token_bytes(32)
    r.hset(_record(hid), "key", signing.seal(SEAL, key.hex(), str(hid)))
    return key_text(hid, key)


def hall_key(r: redis.Redis, signing: Signing, hid: int) -> bytes | None:
    sealed = signing.unseal(SEAL, r.hget(_record(hid), "key"), str(hid))
    return bytes.fromhex(sealed) if sealed else None


def key_matches(r: redis.Redis, signing: Signing, hid: int, presented: str) -> bool:
    """Whether presented is hall hid's key as text (constant time)."""
    parsed = parse_key(presented)
    key = hall_key(r, signing, hid)
    return parsed is not None and key is not None and parsed[0] == hid and hmac.compare_digest(parsed[1], key)


def window_hall(r: redis.Redis, wid: int) -> int | None:
    hid = r.hget(rkeys.HALL_WINDOWS, wid)
    return int(hid) if hid is not None else None


# Tokens ----------------------------------------------------------------------------------
def verify(r: redis.Redis, signing: Signing, token: str, now: float) -> tuple[VisitToken, int, str | None]:
    """(the token, until when it counts: Unix seconds, its hall's networks as stored: for
    onsite()), if it may count now: its hall's key
    signed it, its window is in the hall, and it is within the hall's validity (a kiosk
    opening's: 30 seconds). BadToken if forged or malformed; BadVisit(code) else (its window
    not in the hall, the hall inactive, expired, early)."""
    vt, body, mac = parse_token(token)
    with r.pipeline(transaction=False) as p:
        p.sismember(rkeys.HALLS, vt.hall)
        p.hmget(_record(vt.hall), "key", "valid", "active", "networks")
        p.hget(rkeys.HALL_WINDOWS, vt.window)
        known, (sealed, valid, active, networks), in_hall = p.execute()
    plain = signing.unseal(SEAL, sealed, str(vt.hall)) if known else None
    if plain is None or not hmac.compare_digest(mac, _mac(bytes.fromhex(plain), body)):
        raise BadToken("bad signature")
    if vt.channel == "kiosk" and vt.device != 0:
        raise BadToken("a kiosk opening comes from the server")
    if active == "0":
        raise BadVisit("hall_inactive")
    if in_hall is None or int(in_hall) != vt.hall:
        raise BadVisit("window")
    seconds = KIOSK_SECONDS if vt.channel == "kiosk" else int(valid or 1440) * 60
    if vt.issued > now + SKEW_SECONDS:
        raise BadVisit("early")
    if now - vt.issued > seconds:
        raise BadVisit("expired")
    return vt, vt.issued + seconds, networks


def issue(r: redis.Redis, signing: Signing, hid: int, window: int, *, channel: str, now: float) -> str:
    """A token the server makes for the hall (device 0, its own serials)."""
    key = hall_key(r, signing, hid)
    if key is None:
        raise RegistryError("hall", hid)
    if window_hall(r, window) != hid:
        raise RegistryError("window", window, "not_in_hall")
    serial = int(r.incr(f"{_record(hid)}:serial"))
    return make_token(key, hall=hid, window=window, issued=int(now), serial=serial, device=0,
                      channel=channel)


def open_kiosk(r: redis.Redis, signing: Signing, hid: int, window: int, now: float) -> str:
    """Open the window's kiosk for one rating, for 30 seconds: its opening, a kiosk token."""
    token = issue(r, signing, hid, window, channel="kiosk", now=now)
    r.set(f"rs:kiosk:{window}", token, ex=KIOSK_SECONDS)
    return token


def kiosk_opening(r: redis.Redis, window: int) -> str | None:
    return r.get(f"rs:kiosk:{window}")


def close_kiosk(r: redis.Redis, window: int, nonce: str) -> None:
    """The opening whose token has this nonce is used: the kiosk shows no buttons any more."""
    token = kiosk_opening(r, window)
    if token is not None and parse_token(token)[0].nonce == nonce:
        r.delete(f"rs:kiosk:{window}")


def networks_of(texts: list[str]) -> list[str]:
    """CIDR networks, normalised (ValueError for one that is not)."""
    return [str(ipaddress.ip_network(t.strip(), strict=False)) for t in texts if t.strip()]


@dataclass(frozen=True)
class Where:
    hold: bool  # a poster tap here is held: the category holds them where visit tokens exist
    onsite: str  # "1": from the hall's own network; "0": from elsewhere, the hall has networks; "": unknown


def where(r: redis.Redis, hall: int | None, category: str, ip: str | None) -> Where:
    """What a poster scan's window (its hall: registry.window_scan) and address say: nothing
    to read for a window in no hall, else one round trip. Whether its poster taps are held
    (its category's poster_taps "hold", the hall active), and whether the rater is on site."""
    if hall is None:
        return Where(False, "")
    with r.pipeline(transaction=False) as p:
        p.hget(rkeys.category(category), "poster_taps")
        p.hmget(_record(hall), "active", "networks")
        policy, (active, networks) = p.execute()
    return Where(policy == "hold" and active == "1", onsite(networks if active == "1" else None, ip))


def onsite(networks: str | None, ip: str | None) -> str:
    """"1" if ip is in the hall's networks (as stored, JSON), "0" if not, "" if it has none."""
    nets = json.loads(networks or "[]")
    if not nets:
        return ""
    try:
        addr = ipaddress.ip_address(ip or "")
    except ValueError:
        return "0"
    return "1" if any(addr in ipaddress.ip_network(n) for n in nets) else "0"
