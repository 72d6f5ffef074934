"""Every setting, listed once, with its default and a one-line meaning.

Each can be set from the environment as ``RATINGSVC_<NAME>`` (Flask's
``from_prefixed_env``) or passed to ``create_app(config)``.
"""

from __future__ import annotations

import time
from typing import Any

DEV_SECRET = "dev-only-secret-do-not-use-in-production"
DEV_QR_KEYS = "1:dev-only-qr-key-do-not-use-in-production"
DEMO_OFFICE = "示例区纠风办（演示）"

DURABILITY = ("server", "always", "waitaof", "replica")
ENVIRONMENTS = ("development", "production")

#: name -> (default, meaning)
SETTINGS: dict[str, tuple[Any, str]] = {
    "ENV": ("development", "development or production (exactly); production refuses default, placeholder "
            "or weak secrets and http:// PUBLIC_URL"),
    "SECRET_KEY": (DEV_SECRET, "signs scan tickets and device cookies; keys the rater hashes"),
    "QR_KEYS": (DEV_QR_KEYS, "QR signing keys 'ID:SECRET,...' (ID 0-255); the last signs new codes"),
    "REDIS_URL": ("redis://127.0.0.1:6379/0", "the Redis server: redis://, rediss://, unix://, "
                  "redis+sentinel://HOSTS/SERVICE or redis+cluster://HOSTS (README: Scaling out)"),
    "VAR_DIR": ("var", "make run: where the embedded Redis keeps its data (relative to the project)"),
    "REDIS_APPENDFSYNC": ("always", "make run: the embedded Redis's fsync policy: always, everysec or no"),
    "TAP_DURABILITY": ("always", "when a tap is acknowledged: always (Redis must run with appendfsync "
                       "always, so a tap is on disk before its answer; /readyz and the taps check), "
                       "waitaof (each tap waits for WAITAOF 1 0: Redis 7.2+ or Valkey), replica (each tap "
                       "waits for WAIT TAP_REPLICAS: on a replica before its answer, so a failover loses "
                       "none; Sentinel and Cluster) or server (in Redis's memory only: a crash with a full "
                       "disk can lose acknowledged taps)"),
    "TAP_REPLICAS": (1, "replica: how many replicas must have a tap before its answer (all of a "
                     "master's replicas, for a failover to any of them to lose none)"),
    "WAIT_TIMEOUT_MS": (1000, "replica: milliseconds a tap waits for its replicas before answering 503"),
    "WAITAOF_TIMEOUT_MS": (1000, "waitaof: milliseconds a tap waits for the disk before answering 503"),
    "REDIS_TIMEOUT": (1.0, "seconds to connect to or wait for Redis before answering 503 (under "
                      "appendfsync always a reply waits for the disk's fsync)"),
    "RETRY_AFTER": (1, "seconds in the Retry-After header of a 503"),
    "PUBLIC_URL": ("http://127.0.0.1:8000",
                   "scheme and host that QR codes point to (https:// in production)"),
    "MAX_BODY_BYTES": (65536, "largest request body the app reads; a bigger one is refused with 413"),
    "EVALUATION_OFFICE": (DEMO_OFFICE, "who runs the evaluation, named on the citizen page (本评价由…组织); "
                          "production refuses the demo name"),
    "TIMEZONE": ("Asia/Shanghai", "time zone of the calendar day (dedupe, day counters), and the "
                 "offset of every time in answers, files and logs"),
    "TICKET_MAX_AGE": (1800, "seconds a scan ticket stays valid"),
    "DETAILS_MAX_AGE": (1800, "seconds after a tap during which its rater may add a reason"),
    "RATING_CHANGE_SECONDS": (120, "seconds after a tap during which its rater may change its level "
                              "(a mistaken face); 0: off"),
    "IDEMPOTENCY_TTL": (86400, "seconds an Idempotency-Key's first answer is kept"),
    "DEVICE_COOKIE": ("rs_dev", "name of the long-lived signed device cookie"),
    "SCORE_PRIOR_WEIGHT": (20.0, "C: pseudo-ratings at the category mean in the shrunk score"),
    "SCORE_MIN_N": (30, "below this many counted taps a unit's status is 'insufficient'"),
    "WECHAT_APPID": ("", "official account AppID: with WECHAT_SECRET, raters are WeChat openids"),
    "WECHAT_SECRET": ("", "official account AppSecret (from the environment only)"),
    "WECHAT_OPEN_URL": ("https://open.weixin.qq.com", "base URL of WeChat's authorize page"),
    "WECHAT_API_URL": ("https://api.weixin.qq.com", "base URL of WeChat's API (code for openid, access "
                       "token, subscription messages)"),
    "WECHAT_MP_URL": ("https://mp.weixin.qq.com", "base URL of WeChat's one-time subscription confirm page"),
    "WECHAT_SUBSCRIBE_TEMPLATE": ("", "template id of the official account's one-time subscription "
                                  "message: a rater of a 差评 may ask for a WeChat notice of the unit's "
                                  "reply (needs WECHAT_APPID); empty: no notices"),
    "WECHAT_TIMEOUT": (3.0, "seconds to wait for WeChat's API"),
    "POW_BITS": (0, "proof of work on each tap: leading zero bits (0: off; 14 takes a phone <1 s)"),
    "EXPORT_DIR": ("var/exports", "where closing a period writes its export and result; a relative "
                   "path is taken from the working directory at start"),
    "SSE_MAX_SECONDS": (300.0, "a change stream (SSE) ends after this; the client reconnects"),
    "SSE_HEARTBEAT": (15.0, "seconds between heartbeat comments on a quiet change stream"),
    "SSE_POLL": (0.5, "seconds between looks for new changes on a change stream"),
    "SSE_CPU_SHARE": (0.05, "at most this share of a stream process's time goes to reading the feed; "
                      "under load its streams then lag by up to a poll's cost / this"),
    "FEED_RETENTION_SECONDS": (604800, "the change feed keeps changes this long (7 days); an older cursor "
                               "is answered 410 cursor_expired: re-read the score table"),
    "FEED_SWEEP_SECONDS": (60, "the change feed's relay reads only the logs of units marked as changed; "
                           "every this many seconds it also sweeps all units (a chunk a relay), to find "
                           "a change whose mark was lost to a crash, at most this late"),
    "RETAIN_CLOSED_DAYS": (30, "Redis keeps a closed period's day counters and log entries this many days "
                           "after it closed; then `ratingsvc periods prune` (after checking the export) "
                           "removes what no open period, open case or unrelayed change needs"),
    "SESSION_IDLE_MINUTES": (30, "a console session ends after this many minutes without a request"),
    "SESSION_MAX_HOURS": (12, "a console session ends this many hours after login, however busy"),
    "TOTP_ISSUER": ("ratingsvc", "the name an authenticator app shows next to a console account's codes"),
    "CASE_MAX_LEVEL": (2, "a counted tap at or below this level (差评: 2) opens a case; 0: no cases"),
    "CASE_VERIFY_DAYS": (1, "working days to verify a case (核实, contact the rater)"),
    "CASE_RECTIFY_DAYS": (15, "working days from a case's opening to rectify or explain, with a reply "
                          "(local rules use 5, 7 or 15)"),
    "CASE_FOLLOWUP_DAYS": (5, "working days after the reply in which the citizen may rate the handling; "
                           "then the case closes"),
    "APPEAL_DAYS": (5, "working days after a tap in which its unit may appeal it (申诉)"),
    "CASE_CALENDAR_FILE": ("", "holidays and adjusted working days for years chinesecalendar does not "
                           "know yet: lines 'YYYY-MM-DD holiday' or 'YYYY-MM-DD workday'"),
    "PROXY_HOPS": (1, "proxies in front (nginx: 1) whose X-Forwarded-For is trusted; 0: none"),
    # Hard limits: over them the answer is 429. Per IP with flask-limiter; per rater and per
    # window inside the recording script (no extra round trip).
    "LIMIT_DEFAULT_IP": ("600/minute", "every endpoint, per client IP"),
    "LIMIT_SCAN_IP": ("120/minute;3000/hour", "rating page and scan, per client IP"),
    "LIMIT_SCAN_WINDOW": ("600/minute", "scans of one window's code"),
    "LIMIT_SCAN_RATER": ("60/minute", "scans by one device or openid"),
    "LIMIT_RATING_IP": ("60/minute;2000/hour",
                        "ratings, reasons and level changes, per client IP, counted in each worker's memory"),
    "LIMIT_API_KEY": ("600/minute", "management and scoring endpoints, per API key"),
    "LIMIT_LOGIN_ACCOUNT": ("5 per 15 minutes", "console logins (and second-factor codes) per account name, "
                            "failed or not"),
    "LIMIT_LOGIN_IP": ("30 per 15 minutes", "console logins (and second-factor codes) per client IP"),
    "LIMIT_RATER": ("20/hour", "taps of one rater on one unit"),
    "LIMIT_WINDOW": ("120/minute", "taps on one window"),
    # Signals: a tap that trips one is held (recorded, not counted) for review. 0 turns one off.
    "RULE_IP_WINDOW_MAX": (12, "new raters from one IP on one window within 10-20 minutes"),
    "RULE_IP_FLAG_MINUTES": (180, "an IP flagged on a window stays so until this long after its last tap"),
    "RULE_BURST_MIN": (15, "new raters on one window within 10-20 minutes before a burst is possible"),
    "RULE_BURST_FACTOR": (5.0, "a burst is this many times the window's rate over the last 24 hours"),
    "RULE_RATER_WINDOWS_MAX": (1, "windows of one unit a rater may rate in a day before holds"),
    "RULE_VISIT_WINDOWS": (2, "windows of one unit a rater may rate in one visit (受理, then 缴费)"),
    "RULE_VISIT_MINUTES": (480, "minutes from a rater's first tap of the day that are one visit (受理 in the "
                           "morning, 领证 after lunch)"),
    "RULE_RETURN_DAYS": (3, "the day within RULE_RETURN_WINDOW on which one rater's taps of a unit are held"),
    "RULE_RETURN_WINDOW": (30, "days over which RULE_RETURN_DAYS is counted"),
    "RULE_IP_UNIT_MAX": (4, "new raters a day on one unit from one address outside its hall's networks"),
    "RULE_OFFSITE_MIN": (5, "a window's new raters a day from outside its hall's networks before 'offsite'"),
    "RULE_OFFSITE_ODDS": (1000, "'offsite' holds when a window's share of them today would come less often "
                          "than once in this many days at the hall's usual share (0: off)"),
    "RULE_OFFSITE_SHARE": (0.5, "the least share of raters from outside its networks taken as a hall's usual "
                           "one (its share over the last 7 days where higher)"),
    "RULE_HALL_WINDOWS": (3, "where no hall network is known: windows of a unit one address must have "
                             "had counted raters on today to be taken for the hall itself"),
    "RULE_HALL_MINUTES": (60, "... the first of them at least this many minutes before"),
    "RULE_DEFAULT_HOURS": ("1-7 07:00-20:00", "opening hours of a window with none of its own, no unit "
                           "default and no other window of its unit with hours (\"\": none)"),
    "RULE_VOLUME_MARGIN": (5, "counted taps a window may have in a day above its services done (imported "
                           "volumes) before 'volume' holds its poster taps (0: off)"),
    "RULE_HOURS_GRACE": (60, "minutes after closing (and before opening) that still count"),
    "RULE_LATE_TICKET": (900, "seconds after a scan from which its ticket is good only from the scan's "
                         "address (from another: 403 ticket_expired, and the page scans again)"),
    "RULE_MIN_TAP_MS": (800, "milliseconds between scan and tap below which it looks automated"),
    "RULE_AUTOMATION_UA": (
        r"^$|curl|wget|python|httpie|go-http|okhttp|java/|libwww|headless|phantomjs|selenium|bot\b",
        "User-Agent pattern (case-insensitive) that looks automated"),
}

class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says why."""


def defaults() -> dict[str, Any]:
    values = {name: default for name, (default, _) in SETTINGS.items()}
    values["CLOCK"] = time.time  # tests pass a clock they control
    return values


def markdown_table() -> str:
    """The README's settings table (``python -m ratingsvc.settings`` prints it)."""
    secret = {"SECRET_KEY", "QR_KEYS", "WECHAT_SECRET"}
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, (default, meaning) in SETTINGS.items():
        shown = "(dev value)" if name in secret and default else f"`{default}`".replace("|", "\\|")
        rows.append(f"| `RATINGSVC_{name}` | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join(rows)


def rewrite_readme(path: str) -> None:
    """Put the current table between the README's settings markers."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.index("\n", text.index("<!-- settings:")) + 1
    end = text.index("\n<!-- /settings -->")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + markdown_table() + text[end:])


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--readme"]:
        rewrite_readme(sys.argv[2])
    else:
        print(markdown_table())
