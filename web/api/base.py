"""The blueprint of the JSON API, its bearer-token check and its error answers.

The JSON API for other systems, ``/api/v1`` (docs/api.md; the document: ``/api/v1/openapi.json``).

Each request carries ``Authorization: Bearer hkb_...``, a token an admin issued to an integration
(:mod:`dispatch.services.integrations`). Routes declare the ``integration`` audience; the access
layer (:mod:`web.security`) calls :func:`authenticate` for them, which leaves the caller in
``g.api_caller``, its hub scope the integration's hubs. No session cookie is read or set, so the
API needs no CSRF token. Errors are RFC 9457 problem details, in English: they are read by
developers of the other system, not by residents or staff.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from dispatch.services.integrations import Caller
from dispatch.services.integrations import authenticate as authenticate_token
from web.api.openapi import query_parameters
from web.context import db, now

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PREFIX = "/api/"


def problem(status: int, title: str, detail: str = "", errors: list[str] | None = None,
            headers: dict[str, str] | None = None) -> Any:
    """An RFC 9457 problem answer."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def authenticate() -> Any:
    """The access layer's check for ``integration`` routes: None when the bearer token is valid
    (the caller is kept in ``g.api_caller``), else the 401 answer."""
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    caller = authenticate_token(db(), secret.strip(), now=now()) if scheme.lower() == "bearer" else None
    if caller is None:
        return problem(401, "Unauthorized", "a valid bearer token is required",
                       headers={"WWW-Authenticate": 'Bearer realm="hakobu"'})
    g.api_caller = caller
    return None


def _documented_query() -> Any:
    """400 for a query parameter the document does not list for this operation (a typo such as
    ``?stat=confirmed`` must not silently mean "every state")."""
    rule = request.url_rule
    if rule is None:
        return None
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix(bp.url_prefix or ""))
    allowed = query_parameters(path, request.method)
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        return problem(400, "Bad Request", "unknown query parameter(s): " + ", ".join(unknown))
    return None


bp.before_request(_documented_query)


def caller() -> Caller:
    found: Caller = g.api_caller
    return found


def api_errors(error: HTTPException) -> Any:
    """HTTP errors under /api/ as problem details (the console's pages keep their HTML ones)."""
    if not request.path.startswith(PREFIX):
        return error
    return problem(error.code or 500, error.name, error.description or "")
