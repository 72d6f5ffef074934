"""Every setting is checked at start: a mistyped or unsafe one refuses to start, naming it."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from ratingsvc import create_app
from ratingsvc.settings import SETTINGS, ConfigError
from tests.helpers import PROJECT

EXAMPLE_LINES = (PROJECT / "deploy" / "env.example").read_text().splitlines()
ENV_EXAMPLE = dict(line.split("=", 1) for line in EXAMPLE_LINES if line.startswith("RATINGSVC_"))


def good() -> dict[str, str]:
    """A production configuration that starts."""
    return {"ENV": "production", "SECRET_KEY": secrets.token_urlsafe(32),
            "QR_KEYS": f"1:{secrets.token_urlsafe(32)}", "PUBLIC_URL": "https://pj.caidian.gov.cn",
            "EVALUATION_OFFICE": "蔡甸区纠风办"}


def test_a_good_production_configuration_starts(config):
    app = create_app({**config, **good(), "WECHAT_APPID": "wx1234567890abcdef",
                      "WECHAT_SECRET": secrets.token_hex(16)})
    assert app.config["ENV"] == "production"


@pytest.mark.parametrize("env", ["Production", "prod", " production", "production ", "PRODUCTION",
                                 "staging", ""])
def test_env_must_be_exactly_one_of_the_known_names(config, env):
    """A near miss must not start in development mode on the public development secrets."""
    with pytest.raises(ConfigError, match=r"RATINGSVC_ENV=.*expected exactly one of development, production"):
        create_app({**config, **good(), "ENV": env})


def test_env_from_the_environment_is_checked_too(config, monkeypatch):
    monkeypatch.setenv("RATINGSVC_ENV", "Production")
    with pytest.raises(ConfigError, match="RATINGSVC_ENV"):
        create_app({"REDIS_URL": config["REDIS_URL"]})


def test_a_retired_setting_refuses_to_start_saying_what_took_its_place(config, monkeypatch):
    """RATINGSVC_RULE_OFFSITE_FACTOR, once advised for a hall mostly on mobile data, would be
    ignored silently now that 'offsite' learns the hall's share."""
    monkeypatch.setenv("RATINGSVC_RULE_OFFSITE_FACTOR", "6")
    with pytest.raises(ConfigError, match="RATINGSVC_RULE_OFFSITE_FACTOR is no more: .*RULE_OFFSITE_ODDS"):
        create_app({"REDIS_URL": config["REDIS_URL"]})


WEAK = {
    "the development default": {"SECRET_KEY": SETTINGS["SECRET_KEY"][0]},
    "short": {"SECRET_KEY": "Xq7!v9Lp2#"},
    "env.example's placeholder": {"SECRET_KEY": ENV_EXAMPLE["RATINGSVC_SECRET_KEY"] + "-and-longer-still"},
    "one repeated character": {"SECRET_KEY": "s" * 40},
    "a repeated pattern": {"SECRET_KEY": "Ab3$" * 10},
    "a run": {"SECRET_KEY": "abcdefghijklmnopqrstuvwxyz0123456789"},
    "QR: the development default": {"QR_KEYS": SETTINGS["QR_KEYS"][0]},
    "QR: env.example's placeholder": {"QR_KEYS": ENV_EXAMPLE["RATINGSVC_QR_KEYS"] + "-and-longer-still"},
    "QR: short": {"QR_KEYS": "1:short"},
    "QR: the second key weak": {"QR_KEYS": f"1:{secrets.token_urlsafe(32)},2:{'q' * 40}"},
}


@pytest.mark.parametrize("override", WEAK.values(), ids=WEAK.keys())
def test_production_refuses_default_placeholder_and_weak_secrets(config, override):
    name = next(iter(override))
    with pytest.raises(ConfigError, match=f"RATINGSVC_{name}"):
        create_app({**config, **good(), **override})


@pytest.mark.parametrize("office", [SETTINGS["EVALUATION_OFFICE"][0], " ",
                                    ENV_EXAMPLE["RATINGSVC_EVALUATION_OFFICE"]])
def test_production_names_the_real_office(config, office):
    """The citizen page says who runs the evaluation: never the demo name in production."""
    with pytest.raises(ConfigError, match="RATINGSVC_EVALUATION_OFFICE"):
        create_app({**config, **good(), "EVALUATION_OFFICE": office})


def test_production_refuses_two_qr_keys_alike(config):
    key = secrets.token_urlsafe(32)
    with pytest.raises(ConfigError, match="RATINGSVC_QR_KEYS: two keys have the same secret"):
        create_app({**config, **good(), "QR_KEYS": f"1:{key},2:{key}"})


def test_production_refuses_a_qr_key_equal_to_the_secret_key(config):
    conf = good()
    with pytest.raises(ConfigError, match="RATINGSVC_QR_KEYS: key 1 is equal to RATINGSVC_SECRET_KEY"):
        create_app({**config, **conf, "QR_KEYS": f"1:{conf['SECRET_KEY']}"})


@pytest.mark.parametrize(("override", "name"), [
    ({"PUBLIC_URL": "http://pj.caidian.gov.cn"}, "PUBLIC_URL"),
    ({"WECHAT_APPID": "wx1234567890abcdef", "WECHAT_SECRET": secrets.token_hex(15)}, "WECHAT_SECRET"),
    ({"WECHAT_APPID": "wx1234567890abcdef", "WECHAT_SECRET": secrets.token_urlsafe(24)}, "WECHAT_SECRET"),
    ({"WECHAT_APPID": "1234567890abcdef", "WECHAT_SECRET": secrets.token_hex(16)}, "WECHAT_APPID"),
])
def test_production_refuses_http_and_malformed_wechat_credentials(config, override, name):
    with pytest.raises(ConfigError, match=f"RATINGSVC_{name}"):
        create_app({**config, **good(), **override})


BAD_ANYWHERE = [
    *[(name, "lots") for name in SETTINGS if name.startswith("LIMIT_")],
    ("LIMIT_RATING_IP", ""), ("RULE_AUTOMATION_UA", "curl|(wget"), ("TIMEZONE", "Mars/Olympus_Mons"),
    ("REDIS_URL", "http://127.0.0.1:6379"), ("PUBLIC_URL", "ftp://pj.example"),
    ("PUBLIC_URL", "https://pj.example/r"), ("PUBLIC_URL", "pj.example"), ("PROXY_HOPS", "-1"),
    ("PROXY_HOPS", "9"), ("POW_BITS", "40"), ("REDIS_TIMEOUT", "0"), ("REDIS_TIMEOUT", "nan"),
    ("SSE_POLL", "-1"), ("RULE_BURST_FACTOR", "-2"), ("RULE_IP_WINDOW_MAX", "-1"),
    ("RULE_DEFAULT_HOURS", "every day"), ("RULE_HALL_WINDOWS", "-1"),
    ("REDIS_URL", "redis://127.0.0.1:abc/0"), ("REDIS_URL", "redis://127.0.0.1:6379/0?socket_timeout=x"),
    ("TAP_DURABILITY", "sometimes"), ("REDIS_APPENDFSYNC", "sometimes"), ("DEVICE_COOKIE", "rs dev"),
    ("QR_KEYS", "300:abc"), ("MAX_BODY_BYTES", "10"), ("TICKET_MAX_AGE", "half an hour"),
    ("RATING_CHANGE_SECONDS", "-1"), ("RATING_CHANGE_SECONDS", "2 minutes"),
    ("WECHAT_APPID", "wx1234567890abcdef"),  # without its secret: WeChat identity would be off
]


@pytest.mark.parametrize(("name", "value"), BAD_ANYWHERE)
def test_a_bad_setting_is_refused_at_start_in_any_environment(config, monkeypatch, name, value):
    monkeypatch.setenv(f"RATINGSVC_{name}", value)
    conf = {k: v for k, v in config.items() if k != name and not k.startswith(("LIMIT_", "RULE_"))}
    with pytest.raises(ConfigError, match=f"RATINGSVC_{name}"):
        create_app(conf)


def test_gunicorn_refuses_to_start_on_a_bad_setting_and_says_why(tmp_path):
    """LIMIT_RATING_IP=lots started, and then every tap answered 500."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RATINGSVC_")},
           "RATINGSVC_LIMIT_RATING_IP": "lots", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "RATINGSVC_BIND": f"unix:{tmp_path / 'g.sock'}"}
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert re.search(r"RATINGSVC_LIMIT_RATING_IP='lots': expected rate limits", done.stderr), \
        done.stderr[-2000:]
    assert not (tmp_path / "g.sock").exists()
