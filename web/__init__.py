"""Hakobu's web application: ``create_app`` assembles it from small ``init_app`` steps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from dispatch.config import Settings, settings_from_env
from dispatch.db import WEBHOOKS_TOPIC, Database
from dispatch.localtime import console_timezone
from dispatch.models import utcnow
from dispatch.services import outbox
from sms import webhooks as sms_webhooks
from web import (
    api,
    auth,
    board,
    closures,
    console,
    courier,
    drones,
    flight_log,
    intake,
    integrations,
    metrics,
    operations,
    parked,
    people,
    permits,
    phrases,
    planner,
    plans,
    regular,
    resident,
    security,
    sheets,
    volunteers,
)
from web.context import Hakobu
from web.extensions import babel, csrf, limiter, login_manager
from web.inputs import GuardedJSONProvider, refuse_nul, refuse_unexpected_json
from web.translations import compile_catalogues

#: Flask keys a caller (tests, deployments) may set besides Hakobu's own settings.
FLASK_KEYS = {"TESTING", "SERVER_NAME", "PREFERRED_URL_SCHEME", "WTF_CSRF_ENABLED",
              "RATELIMIT_ENABLED"}
LANGUAGES = ("ja", "en")


def create_app(config: Mapping[str, Any] | None = None, *,
               clock: Callable[[], dt.datetime] = utcnow) -> Flask:
    """Build the app. ``config`` overrides settings (unknown keys raise ``ConfigError``); ``clock``
    is what the views take as now (a test gives a fixed one: the day it plays)."""
    overrides = dict(config or {})
    flask_overrides = {k: overrides.pop(k) for k in list(overrides) if k in FLASK_KEYS}
    settings = settings_from_env().with_overrides(overrides)

    app = Flask(__name__, instance_relative_config=True)
    app.json = GuardedJSONProvider(app)  # JSON nested too deep is a 400, not a RecursionError
    app.config.update(
        SECRET_KEY=settings.key_for("flask"),  # ConfigError without HAKOBU_SECRET_KEY (the demo keeps one)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookies_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.cookies_secure,
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_DEFAULT_LOCALE="ja",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.update(flask_overrides)
    database = Database(settings.database_url)
    app.extensions["hakobu"] = Hakobu(settings=settings, db=database, clock=clock)
    _init_rate_limit_storage(app, settings, database)

    if settings.trust_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    _init_extensions(app)
    security.init_app(app)
    app.before_request(refuse_unexpected_json)  # after the access check: strangers learn nothing
    app.before_request(refuse_nul)
    phrases.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(intake.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(closures.bp)
    app.register_blueprint(regular.bp)
    app.register_blueprint(resident.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(planner.bp)
    app.register_blueprint(courier.bp)
    app.register_blueprint(operations.bp)
    app.register_blueprint(drones.bp)
    app.register_blueprint(flight_log.bp)
    app.register_blueprint(permits.bp)
    app.register_blueprint(parked.bp)
    app.register_blueprint(volunteers.bp)
    app.register_blueprint(integrations.bp)
    app.register_blueprint(metrics.bp)
    api.init_app(app)
    app.register_blueprint(sheets.bp)
    _init_sms(app, settings)
    security.check_all_routes_declared(app)
    return app


#: The SMS webhooks: exempt from CSRF because each checks its transport's signature instead.
SMS_WEBHOOKS = ("sms.twilio_inbound", "sms.twilio_status", "sms.gateway_webhook")


def _init_sms(app: Flask, settings: Settings) -> None:
    app.register_blueprint(sms_webhooks.bp)
    for endpoint in SMS_WEBHOOKS:
        view = app.view_functions[endpoint]
        csrf.exempt(view)
        security.access("webhook")(view)
    if settings.outbox_worker and not app.testing:
        from sms.sender import OutboxWorker
        from sms.transports import build_transport

        state: Hakobu = app.extensions["hakobu"]
        worker = OutboxWorker(state.db, build_transport(settings))
        state.db.after_commit(outbox.TOPIC, worker.wake)
        state.db.after_commit(WEBHOOKS_TOPIC, worker.wake)
        worker.start()
        app.extensions["hakobu_outbox"] = worker


def _init_rate_limit_storage(app: Flask, settings: Settings, database: Database) -> None:
    """Rate limits count in storage every web process shares: the database (``hakobu-db://``,
    :mod:`dispatch.ratelimits`) unless ``HAKOBU_RATELIMIT_STORAGE_URI`` names another (``redis://…``)."""
    from dispatch import ratelimits

    uri = settings.ratelimit_storage_uri or f"{ratelimits.SCHEME}://"
    app.config["RATELIMIT_STORAGE_URI"] = uri
    if uri.startswith(f"{ratelimits.SCHEME}://"):
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"engine": database.engine}


def _init_extensions(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    compile_catalogues()  # web/translations: .po in git, .mo compiled when missing or stale
    babel.init_app(app, locale_selector=_locale, timezone_selector=_timezone)

    @app.context_processor
    def _ui_language() -> dict[str, Any]:
        return {"ui_language": _locale()}

    @app.template_filter("localtime")
    def _localtime(value: Any) -> str:
        """An aware datetime in the region's timezone, in the viewer's date format."""
        if value is None:
            return ""
        from flask_babel import format_datetime

        return format_datetime(value, "short")

    @app.template_filter("localdate")
    def _localdate(value: Any) -> str:
        """A (local) date in the viewer's date format, with the weekday."""
        if value is None:
            return ""
        from flask_babel import format_date

        return format_date(value, "full")


def _locale() -> str:
    """``?lang=`` (remembered in the session, so the header's 日本語 / English switch sticks),
    else the signed-in user's language, else the browser's."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        if session.get("lang") != asked:
            session["lang"] = asked
        return asked
    if session.get("lang") in LANGUAGES:
        return str(session["lang"])
    if current_user and current_user.is_authenticated:
        return str(current_user.language)
    return request.accept_languages.best_match(LANGUAGES) or "ja"


def _timezone() -> str:
    """Times on console pages are the region's clock times: the region of the signed-in user's
    hubs (the first region for users who see every hub); UTC while no region is loaded."""
    hub_ids = None
    if has_request_context() and current_user and current_user.is_authenticated:
        hub_ids = set(getattr(current_user, "hub_ids", ())) or None
    state: Hakobu = current_app.extensions["hakobu"]
    return console_timezone(state.db, hub_ids).key


__all__ = ["Settings", "create_app"]
