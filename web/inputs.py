"""Hostile-input guards shared by the views: dates and times from a query string, numbers from a
form or JSON, and a JSON parser that refuses deep nesting (red-team findings, issue 17).

Everything a user can type reaches a view as a string; what cannot be a sane value is treated as
absent (or reported by the view), never left to raise deep inside (``OverflowError`` on 9999-12-31
plus a day, ``RecursionError`` on JSON nested 50,000 deep, ``OverflowError`` on a 400-digit number).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

#: The calendar Hakobu works in: a date outside it is malformed input, not a day to show.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
#: An ASCII integer of at most 15 digits (epoch milliseconds until the year 33658).
_ASCII_INT = re.compile(r"[0-9]{1,15}")


def parse_day(raw: str | None) -> dt.date | None:
    """An ISO date (``2026-03-03``) within :data:`FIRST_DAY` … :data:`LAST_DAY`; else None."""
    try:
        day = dt.date.fromisoformat(raw or "")
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def parse_aware_time(raw: str | None) -> dt.datetime | None:
    """An ISO time with a UTC offset whose date is within the calendar above; else None."""
    try:
        moment = dt.datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment if FIRST_DAY < moment.date() < LAST_DAY else None


def parse_epoch_ms(raw: str | None) -> dt.datetime | None:
    """An epoch time in milliseconds, ASCII digits only (``"١٢٣".isdigit()`` is true), as UTC."""
    if not raw or not _ASCII_INT.fullmatch(raw):
        return None
    try:
        return dt.datetime.fromtimestamp(int(raw) / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def finite_number(value: Any) -> float | None:
    """``value`` (a JSON number or a string) as a finite float; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):  # float(10**400) overflows; "abc" is no number
        return None
    return number if math.isfinite(number) else None


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, with nesting too deep for the parser reported as malformed JSON (a
    400, through Flask's ``on_json_loading_failed``) instead of a ``RecursionError`` (a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_guarded(s, **kwargs)


def loads_guarded(s: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that raises ``ValueError`` for nesting too deep, and for NaN or Infinity
    (not JSON, and never a coordinate or a count)."""
    import json

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        return json.loads(s, parse_constant=refuse, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def json_body(view: Any) -> Any:
    """Mark a browser-facing view that reads a JSON body itself (the courier's position)."""
    view.hakobu_json_body = True
    return view


def refuse_unexpected_json() -> None:
    """``before_request``: a JSON body only reaches a view that reads JSON (the API, the webhooks,
    views marked :func:`json_body`); any other answers 415. Flask-WTF would otherwise turn a JSON
    body into form data (``"x"``, ``1e400`` or nested objects as field values: a 500, issue 17)."""
    from flask import abort, current_app, request


    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    reads_json = getattr(view, "hakobu_json_body", False) or _machine_facing(request.endpoint)
    if not reads_json:
        abort(415)


def refuse_nul() -> None:
    """``before_request``: a NUL character in the path, query or form answers 404 (path) or 400.

    No person types one, SQLite stores it but PostgreSQL refuses it in any text value (a
    ``DataError`` deep in a query: a 500 on PostgreSQL only, found by the route fuzzer)."""
    from flask import abort, request

    if any("\x00" in value for value in (request.view_args or {}).values() if isinstance(value, str)):
        abort(404)
    if _machine_facing(request.endpoint or ""):
        return  # a gateway's text is kept as sent (NUL stripped); the API validates its own query
    for values in (request.args, request.form if request.method not in ("GET", "HEAD") else None):
        if values and any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
            abort(400)


def _machine_facing(endpoint: str) -> bool:
    """The API and the gateways' webhooks: they read and validate their own bodies."""
    from flask import current_app

    from web.security import declared_access

    return bool((declared_access(current_app, endpoint) or set()) & {"integration", "webhook"})
