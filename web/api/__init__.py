"""The JSON API for other systems, ``/api/v1`` (docs/api.md; the document: ``/api/v1/openapi.json``):
:mod:`web.api.base` (blueprint, bearer tokens, problem answers), :mod:`web.api.views` (the routes),
:mod:`web.api.openapi` (the OpenAPI 3.1 document)."""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from web.api import views
from web.api.base import api_errors, authenticate, bp
from web.extensions import csrf


def init_app(app: Flask) -> None:
    assert views.bp is bp  # the routes are registered on bp by importing views
    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.extensions["hakobu_bearer"] = authenticate
    app.register_error_handler(HTTPException, api_errors)
