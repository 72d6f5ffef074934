"""Every setting checked at start, not at first use: types, ranges, formats, and in
production the secrets. A bad configuration raises ConfigError with a message naming the
variable; the app never starts on it."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many
from redis.connection import parse_url

from . import topology
from .hours import parse_text
from .settings import DEMO_OFFICE, DEV_QR_KEYS, DEV_SECRET, DURABILITY, ENVIRONMENTS, SETTINGS, ConfigError
from .signing import parse_qr_keys

MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 96  # estimated from the secret's own character frequencies
#: what placeholders look like (deploy/env.example's among them)
PLACEHOLDER = re.compile(r"put-|change.?me|replace.?me|placeholder|example|your.?secret|secret.?here"
                         r"|do-not-use|^(secret|password)", re.IGNORECASE)
WECHAT_APPID = re.compile(r"^wx[0-9a-f]{16}$")
WECHAT_SECRET = re.compile(r"^[0-9a-f]{32}$")


def _positive(value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError("expected a number above 0")


def _not_negative(value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("expected a number of 0 or more")


def _fraction(value: float) -> None:
    if not 0 < value <= 1:
        raise ValueError("expected a share above 0 and at most 1")


def _between(low: int, high: int) -> Callable[[int], None]:
    def check(value: int) -> None:
        if not low <= value <= high:
            raise ValueError(f"expected {low} to {high}")
    return check


def _one_of(*allowed: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
    return check


def _hours_text(value: str) -> None:
    if value:
        parse_text(value)  # ValueError says what is wrong


def _limits(value: str) -> None:
    try:
        if not parse_many(value):
            raise ValueError
    except ValueError:
        raise ValueError("expected rate limits such as '60/minute' or '60/minute;2000/hour'") from None


def _redis_url(value: str) -> None:
    topology.check(value)  # BadRedisUrl is a ValueError
    if topology.scheme(value) in ("redis+sentinel", "redis+cluster"):
        return
    try:
        parse_url(value)  # port, database and options, as the client will read them
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a Redis URL: {exc}") from None


def _public_url(value: str) -> None:
    url = urlsplit(value)
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment \
            or url.path not in ("", "/"):
        raise ValueError("expected scheme and host only, such as https://pj.example.gov.cn")


def _base_url(value: str) -> None:
    url = urlsplit(value)
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        raise ValueError("expected a base URL such as https://mp.weixin.qq.com")


def _template_id(value: str) -> None:
    if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", value):
        raise ValueError("expected the template id as WeChat shows it (letters, digits, '-' and '_')")


def _timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone such as Asia/Shanghai") from None


def _office(value: str) -> None:
    if len(value) > 60:
        raise ValueError("expected the office's name, at most 60 characters")


def _regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


def _qr_keys(value: str) -> None:
    parse_qr_keys(value)


def _cookie_name(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise ValueError("expected 1-64 letters, digits, '-' or '_'")


def _calendar_file(value: str) -> None:
    from .cases.workdays import CalendarError, read_overrides
    try:
        read_overrides(value)
    except CalendarError as exc:
        raise ValueError(str(exc).split(": ", 1)[-1]) from None


#: name -> check(value) raising ValueError; settings not named here only need their type.
CHECKS: dict[str, Callable[[Any], None]] = {
    "ENV": _one_of(*ENVIRONMENTS),
    "QR_KEYS": _qr_keys,
    "REDIS_URL": _redis_url,
    "REDIS_APPENDFSYNC": _one_of("always", "everysec", "no"),
    "TAP_DURABILITY": _one_of(*DURABILITY),
    "WAITAOF_TIMEOUT_MS": _positive,
    "WAIT_TIMEOUT_MS": _positive,
    "TAP_REPLICAS": _positive,
    "REDIS_TIMEOUT": _positive,
    "RETRY_AFTER": _between(1, 3600),
    "PUBLIC_URL": _public_url,
    "TIMEZONE": _timezone,
    "EVALUATION_OFFICE": _office,
    "TICKET_MAX_AGE": _positive,
    "DETAILS_MAX_AGE": _positive,
    "RATING_CHANGE_SECONDS": _between(0, 86400),
    "IDEMPOTENCY_TTL": _positive,
    "DEVICE_COOKIE": _cookie_name,
    "SCORE_PRIOR_WEIGHT": _not_negative,
    "SCORE_MIN_N": _not_negative,
    "WECHAT_TIMEOUT": _positive,
    "WECHAT_MP_URL": _base_url,
    "WECHAT_SUBSCRIBE_TEMPLATE": _template_id,
    "POW_BITS": _between(0, 32),
    "SSE_MAX_SECONDS": _positive,
    "SSE_HEARTBEAT": _positive,
    "SSE_POLL": _positive,
    "SSE_CPU_SHARE": _fraction,
    "FEED_RETENTION_SECONDS": _between(3600, 366 * 86400),  # an hour to a year
    "FEED_SWEEP_SECONDS": _between(1, 86400),
    "PROXY_HOPS": _between(0, 5),
    "CASE_MAX_LEVEL": _between(0, 5),
    "CASE_VERIFY_DAYS": _between(1, 60),
    "CASE_RECTIFY_DAYS": _between(1, 120),
    "CASE_FOLLOWUP_DAYS": _between(1, 60),
    "APPEAL_DAYS": _between(1, 60),
    "CASE_CALENDAR_FILE": _calendar_file,
    "MAX_BODY_BYTES": _between(1024, 16 * 1024 * 1024),
    **{name: _limits for name in SETTINGS if name.startswith("LIMIT_")},
    **{name: _not_negative for name in SETTINGS if name.startswith("RULE_")},
    # (after the rules' common check, which these replace)
    "RULE_AUTOMATION_UA": _regex,
    "RULE_DEFAULT_HOURS": _hours_text,
    "RULE_OFFSITE_SHARE": _fraction,
}


#: settings that are no more -> what took their place: one still set would be ignored silently
RETIRED = {
    "RULE_OFFSITE_FACTOR": "'offsite' weighs a window's share from outside against the hall's usual "
                           "one now: RATINGSVC_RULE_OFFSITE_ODDS and RATINGSVC_RULE_OFFSITE_SHARE",
}


def finalize(config: MutableMapping[str, Any]) -> None:
    """Coerce environment strings to each default's type, check every setting, and refuse
    unsafe production setups. Raises ConfigError naming the first bad variable."""
    env = config.get("ENV", SETTINGS["ENV"][0])
    if env not in ENVIRONMENTS:  # first: a mistyped ENV must not start on development secrets
        raise ConfigError(f"RATINGSVC_ENV={env!r}: expected exactly one of {', '.join(ENVIRONMENTS)}")
    for name, instead in RETIRED.items():
        if name in config:
            raise ConfigError(f"RATINGSVC_{name} is no more: {instead}")
    for name, (default, _) in SETTINGS.items():
        value = config.get(name, default)
        try:
            config[name] = type(default)(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"RATINGSVC_{name}={value!r}: expected {type(default).__name__}") from exc
        check = CHECKS.get(name)
        try:
            if check is not None:
                check(config[name])
        except ValueError as exc:
            raise ConfigError(f"RATINGSVC_{name}={value!r}: {exc}") from None
    if bool(config["WECHAT_APPID"]) != bool(config["WECHAT_SECRET"]):
        raise ConfigError("RATINGSVC_WECHAT_APPID and RATINGSVC_WECHAT_SECRET go together: "
                          "set both for WeChat identity, or neither")
    if config["ENV"] == "production":
        check_production(config)


def weakness(secret: str) -> str | None:
    """Why a secret is unfit for production, or None."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if PLACEHOLDER.search(secret):
        return "a placeholder, not a secret"
    counts = Counter(secret)
    bits = -sum(n * math.log2(n / len(secret)) for n in counts.values())
    period = next((p for p in range(1, len(secret) // 2 + 1)
                   if all(secret[i] == secret[i % p] for i in range(len(secret)))), None)
    if bits < MIN_SECRET_BITS or period is not None or _longest_run(secret) >= 6:
        return "too regular to be random (repeated characters, a repeated pattern or a run)"
    return None


def _longest_run(text: str) -> int:
    """The longest stretch of characters in steps of one, up or down ("abcdef", "987654")."""
    longest = run = 1
    step = 0
    for a, b in zip(text, text[1:], strict=False):
        d = ord(b) - ord(a)
        run = (run + 1 if d == step else 2) if abs(d) == 1 else 1
        step = d
        longest = max(longest, run)
    return longest


def check_production(config: MutableMapping[str, Any]) -> None:
    hint = "; make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    secret = config["SECRET_KEY"]
    problem = "the development default" if secret == DEV_SECRET else weakness(secret)
    if problem:
        raise ConfigError(f"RATINGSVC_SECRET_KEY is {problem}: production needs a random secret"
                          f" of at least {MIN_SECRET_LENGTH} characters{hint}")
    dev_qr = parse_qr_keys(DEV_QR_KEYS)
    qr_keys = parse_qr_keys(config["QR_KEYS"])
    if len(set(qr_keys.values())) < len(qr_keys):
        raise ConfigError("RATINGSVC_QR_KEYS: two keys have the same secret; each needs its own")
    for kid, raw in qr_keys.items():
        key = raw.decode()
        problem = "the development default" if raw in dev_qr.values() else weakness(key)
        if key == secret:
            problem = "equal to RATINGSVC_SECRET_KEY"
        if problem:
            raise ConfigError(f"RATINGSVC_QR_KEYS: key {kid} is {problem}: production needs a random "
                              f"secret of at least {MIN_SECRET_LENGTH} characters per key{hint}")
    office = config["EVALUATION_OFFICE"].strip()
    if not office or office == DEMO_OFFICE or PLACEHOLDER.search(office):
        raise ConfigError("RATINGSVC_EVALUATION_OFFICE: production needs the real name of the office "
                          "that runs the evaluation (the citizen page shows it), e.g. 蔡甸区纠风办")
    if urlsplit(config["PUBLIC_URL"]).scheme != "https":
        raise ConfigError(f"RATINGSVC_PUBLIC_URL={config['PUBLIC_URL']!r}: production needs https:// "
                          "(cookies are sent without Secure over http)")
    if config["WECHAT_APPID"] and not WECHAT_APPID.match(config["WECHAT_APPID"]):
        raise ConfigError("RATINGSVC_WECHAT_APPID: expected wx and 16 hex digits, as WeChat shows it")
    if config["WECHAT_SECRET"] and not WECHAT_SECRET.match(config["WECHAT_SECRET"]):
        raise ConfigError("RATINGSVC_WECHAT_SECRET: expected 32 hex digits, as WeChat shows the AppSecret")
