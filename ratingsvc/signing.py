"""All signing, in one module, with a salt per purpose.

- QR token: compact and uppercase base32 so the poster URL stays in QR alphanumeric mode.
  Bytes: key id (1) | window id (varint) | epoch (varint) | HMAC-SHA256 truncated to 80 bits.
- Scan ticket: itsdangerous, salt "scan-ticket", timestamped with the app's clock.
- Device cookie: itsdangerous, salt "device-cookie".
- Case link (a rater's 查看处理结果 link): itsdangerous, salt "case-link".
- Kiosk code (a window's kiosk page, /K/<code>): itsdangerous, salt "kiosk-code".
- Visit tokens are signed with their hall's own key (ratingsvc.visits).
- WeChat subscription `reserved` (the consent's way back, bound to one case): as the WeChat
  state, the time and an HMAC, a-z and 0-9 only.
- Sealing (not signing: a consenting rater's openid, and the WeChat access token, while kept
  in Redis): AES-GCM with a key derived for each purpose, bound to what it belongs to.
- Rater hash: HMAC-SHA256 with a key derived for that purpose; raw identifiers are never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from itsdangerous import BadSignature, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

MAC_BYTES = 10  # 80 bits


class BadToken(ValueError):
    """A QR token that is malformed, truncated, tampered with or signed by an unknown key."""


class BadTicket(ValueError):
    """A scan ticket whose signature does not verify."""


@dataclass(frozen=True)
class QrToken:
    window: int
    epoch: int
    kid: int


@dataclass(frozen=True)
class Ticket:
    window: int
    unit: str
    epoch: int
    device: str  # the rater's identifier, of kind `kind`
    nonce: str
    issued_at: int
    issued_ms: int
    kind: str = "device"  # device (cookie) or openid (WeChat)
    channel: str = "p"  # channels.CODES: the way the rater came (p: the window's poster)
    ticket_day: str | None = None  # a visit token's day of issue (YYYYMMDD)
    until_ms: int | None = None  # a visit token's end of validity: no tap counts after it
    hold: bool = False  # a poster tap the category holds for review (visits: poster_taps "hold")
    onsite: str = ""  # "1" from the hall's network, "0" from elsewhere, "" unknown (visits.where)
    address: str = ""  # the scan's address, as its keyed hash begins (rules.Rules.stale)
    first_ms: int | None = None  # a renewed ticket's first scan (views.citizen.renewed_from)


def parse_qr_keys(spec: str) -> dict[int, bytes]:
    """'ID:SECRET,ID:SECRET' -> {id: secret}, in the order given (the last one signs)."""
    keys: dict[int, bytes] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, secret = entry.partition(":")
        if not sep or not kid.isdigit() or not 0 <= int(kid) <= 255 or not secret:
            raise ValueError(f"QR key {entry.split(':')[0]!r}: expected ID:SECRET with ID 0-255")
        keys[int(kid)] = secret.encode()
    if not keys:
        raise ValueError("RATINGSVC_QR_KEYS holds no key")
    return keys


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(pos, min(len(data), pos + 5)):
        value |= (data[i] & 0x7F) << shift
        if not data[i] & 0x80:
            return value, i + 1
        shift += 7
    raise BadToken("bad number in token")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


class Signing:
    def __init__(self, secret_key: str, qr_keys: str, clock: Callable[[], float]) -> None:
        self._qr_keys = {kid: _derive(s, "qr-token") for kid, s in parse_qr_keys(qr_keys).items()}
        self._signing_kid = list(self._qr_keys)[-1]
        self._rater_key = _derive(secret_key.encode(), "rater-hash")
        self._clock = clock

        class ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._tickets = URLSafeTimedSerializer(secret_key, salt="scan-ticket", signer=ClockSigner)
        self._devices = URLSafeSerializer(secret_key, salt="device-cookie")
        self._openids = URLSafeSerializer(secret_key, salt="wechat-openid-cookie")
        self._case_links = URLSafeSerializer(secret_key, salt="case-link")
        self._kiosk_codes = URLSafeSerializer(secret_key, salt="kiosk-code")
        self._state_key = _derive(secret_key.encode(), "wechat-state")
        self._reserved_key = _derive(secret_key.encode(), "wechat-subscribe-reserved")
        self._secret = secret_key.encode()

    # QR tokens ---------------------------------------------------------------------------
    def qr_token(self, window: int, epoch: int) -> str:
        kid = self._signing_kid
        body = bytes([kid]) + _varint(window) + _varint(epoch)
        return _b32(body + self._qr_mac(kid, body))

    def read_qr_token(self, token: str) -> QrToken:
        text = token.strip().upper()
        try:
            raw = base64.b32decode(text + "=" * (-len(text) % 8))
        except (ValueError, TypeError) as exc:
            raise BadToken("not base32") from exc
        if _b32(raw) != text or len(raw) < 3 + MAC_BYTES:
            raise BadToken("not a canonical token")
        body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        kid = body[0]
        if kid not in self._qr_keys:
            raise BadToken("unknown key")
        if not hmac.compare_digest(mac, self._qr_mac(kid, body)):
            raise BadToken("bad signature")
        window, pos = _read_varint(body, 1)
        epoch, pos = _read_varint(body, pos)
        if pos != len(body):
            raise BadToken("trailing bytes")
        return QrToken(window=window, epoch=epoch, kid=kid)

    def _qr_mac(self, kid: int, body: bytes) -> bytes:
        return hmac.new(self._qr_keys[kid], body, hashlib.sha256).digest()[:MAC_BYTES]

    # Scan tickets ------------------------------------------------------------------------
    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(9)

    def ticket(self, window: int, unit: str, epoch: int, device: str, kind: str = "device",
               nonce: str | None = None, *, channel: str = "p", ticket_day: str | None = None,
               until_ms: int | None = None, hold: bool = False, onsite: str = "", address: str = "",
               first_ms: int | None = None) -> str:
        payload: dict[str, Any] = {"w": window, "u": unit, "e": epoch, "d": device,
                                   "n": nonce or self.new_nonce(), "i": int(self._clock() * 1000), "k": kind}
        if channel != "p":
            payload.update(c=channel, td=ticket_day, x=until_ms)
        if hold:
            payload["h"] = 1
        if onsite:
            payload["o"] = onsite
        if address:
            payload["a"] = address
        if first_ms is not None:
            payload["f"] = first_ms
        return self._tickets.dumps(payload)

    def read_ticket(self, value: str) -> Ticket:
        """Verify the signature only; the caller judges the age with ticket.issued_at."""
        try:
            payload, signed_at = self._tickets.loads(value, return_timestamp=True)
            return Ticket(window=int(payload["w"]), unit=str(payload["u"]), epoch=int(payload["e"]),
                          device=str(payload["d"]), nonce=str(payload["n"]),
                          issued_at=int(signed_at.timestamp()), issued_ms=int(payload["i"]),
                          kind=str(payload.get("k", "device")), channel=str(payload.get("c", "p")),
                          ticket_day=payload.get("td"), until_ms=payload.get("x"),
                          hold=bool(payload.get("h")), onsite=str(payload.get("o", "")),
                          address=str(payload.get("a", "")), first_ms=payload.get("f"))
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise BadTicket(str(exc)) from exc

    # Device cookie and rater hashes ------------------------------------------------------
    @staticmethod
    def new_device() -> str:
        return secrets.token_urlsafe(16)

    def device_cookie(self, device: str) -> str:
        return self._devices.dumps(device)

    def read_device_cookie(self, value: str | None) -> str | None:
        return _read_string(self._devices, value)

    def openid_cookie(self, openid: str) -> str:
        return self._openids.dumps(openid)

    def read_openid_cookie(self, value: str | None) -> str | None:
        return _read_string(self._openids, value)

    def case_link(self, rating_id: str) -> str:
        """The token of a rater's link to the case of their tap (查看处理结果): no expiry, no account."""
        return self._case_links.dumps(rating_id)

    def read_case_link(self, token: str | None) -> str | None:
        return _read_string(self._case_links, token)

    def kiosk_code(self, window: int, epoch: int) -> str:
        """The code in a window's kiosk page address (/K/<code>): whoever holds it sees the
        window's kiosk openings, so it is given to the window's managers only; revoking the
        window's code (a new epoch) stops it too."""
        return self._kiosk_codes.dumps([window, epoch])

    def read_kiosk_code(self, code: str | None) -> tuple[int, int] | None:
        """(window, epoch) of a kiosk code, or None if it is missing or forged."""
        if not code:
            return None
        try:
            found: Any = self._kiosk_codes.loads(code)
        except BadSignature:
            return None
        if (isinstance(found, list) and len(found) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in found)):
            return found[0], found[1]
        return None

    def wechat_state(self, token: str) -> str:
        """WeChat's state parameter (a-z, 0-9 only): the time and an HMAC binding it to token."""
        ts = format(int(self._clock()), "x")
        return ts + hmac.new(self._state_key, f"{ts}|{token.upper()}".encode(), "sha256").hexdigest()[:24]

    def check_wechat_state(self, token: str, state: str, max_age: int = 600) -> bool:
        ts, mac = state[:-24], state[-24:]
        try:
            age = int(self._clock()) - int(ts, 16)
        except ValueError:
            return False
        good = hmac.new(self._state_key, f"{ts}|{token.upper()}".encode(), "sha256").hexdigest()[:24]
        return 0 <= age <= max_age and hmac.compare_digest(mac, good)

    def subscribe_reserved(self, rating_id: str) -> str:
        """WeChat's `reserved` for a one-time subscription to the case of rating_id (a-z, 0-9,
        at most 128 bytes): the time and an HMAC binding it to the case."""
        ts = format(int(self._clock()), "x")
        return ts + self._reserved_mac(ts, rating_id)

    def check_subscribe_reserved(self, rating_id: str, reserved: str, max_age: int = 3600) -> bool:
        ts, mac = reserved[:-24], reserved[-24:]
        try:
            age = int(self._clock()) - int(ts, 16)
        except ValueError:
            return False
        return 0 <= age <= max_age and hmac.compare_digest(mac, self._reserved_mac(ts, rating_id))

    def _reserved_mac(self, ts: str, rating_id: str) -> str:
        return hmac.new(self._reserved_key, f"{ts}|{rating_id}".encode(), "sha256").hexdigest()[:24]

    def seal(self, purpose: str, text: str, bound_to: str) -> str:
        """text encrypted and authenticated (AES-GCM, a key per purpose), bound to bound_to:
        only unseal with the same purpose and bound_to opens it."""
        nonce = secrets.token_bytes(12)
        box = AESGCM(_derive(self._secret, f"seal/{purpose}"))
        sealed = nonce + box.encrypt(nonce, text.encode(), bound_to.encode())
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def unseal(self, purpose: str, value: str | None, bound_to: str) -> str | None:
        """What seal() sealed, or None if it is missing, damaged, sealed for something else or
        under another SECRET_KEY."""
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            box = AESGCM(_derive(self._secret, f"seal/{purpose}"))
            return box.decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
        except (InvalidTag, ValueError, UnicodeDecodeError):
            return None

    def person_hash(self, kind: str, identifier: str) -> str:
        """Keyed hash of a person's identifier (device id, openid, IP): all that is stored."""
        digest = hmac.new(self._rater_key, f"{kind}:{identifier}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]


def _read_string(serializer: URLSafeSerializer, value: str | None) -> str | None:
    """The string a signed cookie holds, or None if it is missing, forged or not a string."""
    if not value:
        return None
    try:
        found: Any = serializer.loads(value)
    except BadSignature:
        return None
    return found if isinstance(found, str) else None


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"ratingsvc/{purpose}".encode(), hashlib.sha256).digest()
