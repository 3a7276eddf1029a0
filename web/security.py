"""Who may use which route, enforced in one place.

Every view declares its audience with :func:`access`. ``create_app`` refuses to start when an
endpoint has no declaration, and a ``before_request`` hook enforces the declaration, so a new
route can never be reachable by accident. Console users carry a role (operator / planner /
admin) and a hub scope; couriers and residents sign in through their own single-use flows and
are represented by separate session keys, never as console users.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_login import current_user

from dispatch.services.signin import session_holder
from web.context import db, settings

F = TypeVar("F", bound=Callable[..., Any])

#: Audiences a view can declare. ``integration``: another system with an API bearer token
#: (:mod:`web.api`), never a browser session. ``monitoring``: a metrics scraper with the bearer
#: token ``HAKOBU_METRICS_TOKEN`` (:mod:`web.metrics`).
AUDIENCES = ("public", "operator", "planner", "admin", "courier", "resident", "webhook", "integration",
             "monitoring")
_STAFF = ("operator", "planner", "admin")


def access(*audiences: str) -> Callable[[F], F]:
    """Declare who may call the view: e.g. ``@access("operator", "admin")`` or ``@access("public")``."""
    unknown = [a for a in audiences if a not in AUDIENCES]
    if unknown or not audiences:
        raise ValueError(f"unknown audience(s) {unknown!r}; expected some of {AUDIENCES}")

    def mark(view: F) -> F:
        view.hakobu_access = frozenset(audiences)  # type: ignore[attr-defined]
        return view

    return mark


def declared_access(app: Flask, endpoint: str) -> frozenset[str] | None:
    view = app.view_functions.get(endpoint)
    return getattr(view, "hakobu_access", None)


def check_all_routes_declared(app: Flask) -> None:
    missing = sorted(
        e for e in app.view_functions if e != "static" and declared_access(app, e) is None
    )
    if missing:
        raise RuntimeError(f"routes without an access declaration: {', '.join(missing)}")


#: A courier's or resident's session: (the key naming who, the key of its server-side record).
_PASSWORDLESS = {"courier": ("courier_volunteer_id", "courier_session"),
                 "resident": ("resident_phone", "resident_session")}


def current_audiences() -> set[str]:
    """The audiences the current request's session belongs to (worked out once per request)."""
    if "hakobu_audiences" in g:
        return set(g.hakobu_audiences)
    found: set[str] = set()
    if current_user.is_authenticated:
        found.add(current_user.role)
    for audience, (who_key, record_key) in _PASSWORDLESS.items():
        if session.get(who_key) and _session_open(record_key, str(session[who_key])):
            found.add(audience)
    g.hakobu_audiences = frozenset(found)
    return found


def _session_open(purpose: str, who: str) -> bool:
    """Whether the cookie's courier or resident session is still open on the server: like console
    users' nonce, signing out ends it for every copy of the cookie (red-team finding, issue 17)."""
    holder = session_holder(db(), purpose, str(session.get(purpose, "")), settings().key_for("session"),
                            now=dt.datetime.now(dt.UTC))
    if holder != who:
        session.pop(purpose, None)
        return False
    return True


def _enforce() -> Any:
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None
    from flask import current_app

    allowed = declared_access(current_app, endpoint)
    if allowed is None:  # cannot happen after check_all_routes_declared; fail closed anyway
        abort(404)
    if allowed & {"public", "webhook"}:
        return None
    if allowed == {"integration"}:  # a bearer token or nothing: a session never counts
        bearer = current_app.extensions.get("hakobu_bearer")
        if bearer is None:
            abort(401)
        return bearer()
    if "monitoring" in allowed and _monitoring_token_given():
        return None
    if current_audiences() & allowed:
        return None
    if allowed & set(_STAFF) and not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if allowed == {"courier"}:
        abort(404)  # never confirm that a courier resource exists
    if allowed == {"resident"}:
        return redirect(url_for("resident.sign_in"))
    abort(403)


def _monitoring_token_given() -> bool:
    """A bearer equal to the deployment's metrics token (none set: no scraper is admitted)."""
    expected = settings().metrics_token
    given = request.headers.get("Authorization", "")
    return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


def _headers(response: Any) -> Any:
    nonce = g.get("csp_nonce", "")
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src {script}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_enforce)
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
