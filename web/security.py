"""Who may use which route, enforced in one place.

Every view declares its audience with :func:`access`. ``create_app`` refuses to start when an
endpoint has no declaration, and a ``before_request`` hook enforces the declaration, so a new
route can never be reachable by accident. Console users carry a role (operator / planner /
admin) and a hub scope; couriers and residents sign in through their own single-use flows and
are represented by separate session keys, never as console users.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])

#: Audiences a view can declare. ``integration``: another system with an API bearer token
#: (:mod:`web.api`), never a browser session.
AUDIENCES = ("public", "operator", "planner", "admin", "courier", "resident", "webhook", "integration")
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


def current_audiences() -> set[str]:
    """The audiences the current request's session belongs to."""
    found: set[str] = set()
    if current_user.is_authenticated:
        found.add(current_user.role)
    if session.get("courier_volunteer_id"):
        found.add("courier")
    if session.get("resident_phone"):
        found.add("resident")
    return found


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
    if current_audiences() & allowed:
        return None
    if allowed & set(_STAFF) and not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if allowed == {"courier"}:
        abort(404)  # never confirm that a courier resource exists
    if allowed == {"resident"}:
        return redirect(url_for("resident.sign_in"))
    abort(403)


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
