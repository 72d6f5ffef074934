"""ratingsvc: signed QR codes per service window, one-tap citizen ratings, mobile scores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import configcheck, console, durability, errors, limiting, logs, metrics, scoring
from .cases.notify import ReplyNotice
from .cases.policy import Policy
from .cases.rates import CasesCache
from .extensions import RatingApi, redis_store
from .proxycheck import ProxyCheck
from .rules import Rules
from .settings import defaults
from .signing import Signing
from .wechat import WeChat

STATIC_DIR = Path(__file__).resolve().parent / "static"

API_SETTINGS = {
    "API_TITLE": "ratingsvc",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "JSON_AS_ASCII": False,
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then RATINGSVC_* from the environment, then ``config``. Opens no connection."""
    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.from_mapping(defaults())
    app.config.from_mapping(API_SETTINGS)
    app.config.from_prefixed_env("RATINGSVC")
    if config:
        app.config.from_mapping(config)
    configcheck.finalize(app.config)
    # Relative to the working directory at start, once: closing writes there and the download
    # reads there, whatever the working directory is later (send_file would take a relative
    # path against the app's package).
    app.config["EXPORT_DIR"] = str(Path(app.config["EXPORT_DIR"]).resolve())
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    proxy = app.extensions["ratingsvc.proxy"] = ProxyCheck(app.config["PROXY_HOPS"])
    app.before_request(lambda: proxy.observe(request.environ))
    errors.init_app(app)
    redis_store.init_app(app)
    limiting.init_app(app)
    app.extensions["ratingsvc.rules"] = Rules.from_config(app.config)
    app.extensions["ratingsvc.cases"] = Policy.from_config(app.config)
    app.extensions["ratingsvc.counts_cache"] = scoring.CountsCache()
    app.extensions["ratingsvc.cases_cache"] = CasesCache()
    app.extensions["ratingsvc.durability"] = durability.Guard(app.config["TAP_DURABILITY"],
                                                                 app.config["TAP_REPLICAS"])
    c = app.config
    wechat = app.extensions["ratingsvc.wechat"] = WeChat(
        c["WECHAT_APPID"], c["WECHAT_SECRET"], c["WECHAT_OPEN_URL"], c["WECHAT_API_URL"],
        c["WECHAT_TIMEOUT"], c["WECHAT_MP_URL"]) if c["WECHAT_APPID"] and c["WECHAT_SECRET"] else None
    signing = app.extensions["ratingsvc.signing"] = Signing(
        app.config["SECRET_KEY"], app.config["QR_KEYS"], app.config["CLOCK"])
    public_url = c["PUBLIC_URL"].rstrip("/")
    app.extensions["ratingsvc.case_reply"] = ReplyNotice(
        lambda: app.extensions["ratingsvc.redis"], signing, wechat, c["WECHAT_SUBSCRIBE_TEMPLATE"],
        lambda rating_id: f"{public_url}/r/case/{signing.case_link(rating_id)}",
        lambda outcome: metrics.CASE_NOTICES.labels(outcome).inc())

    from .views import (
        assets,
        case_page,
        cases,
        changes,
        citizen,
        citizen_case,
        closing,
        health,
        level,
        manage,
        posters,
        results,
        review,
        scores,
        statistics,
        visits,
    )

    api = RatingApi(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "an API key: rsk_..."})
    for blueprint in (citizen.blp, level.blp, citizen_case.blp, manage.blp, posters.blp, scores.blp,
                      changes.blp, closing.blp, review.blp, cases.blp, visits.blp, visits.office,
                      statistics.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(citizen.pages)
    app.register_blueprint(case_page.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(visits.pages)
    assets.init_app(app)
    app.jinja_env.globals["asset_url"] = assets.asset_url
    console.init_app(app)
    app.register_blueprint(health.blp)
    limiting.limiter.exempt(health.blp)
    metrics.init_app(app)
    logs.init_app(app)
    return app
