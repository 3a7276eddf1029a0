"""The flight log page (issue 14, item 3): a day's 飛行記録 and 日常点検記録 to print or download
as CSV, and the day's flight-plan data to enter into DIPS 2.0. Operators and admins, their hubs
only. Reading is :mod:`dispatch.read.flight_log`; the CLI is ``hakobu sorties log|plan``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from dispatch.localtime import console_timezone
from dispatch.read.flight_log import (
    FlightRecord,
    Inspection,
    PlannedFlight,
    as_csv,
    flight_records,
    flown_days,
    inspections,
    planned_flights,
)
from web.context import db, now, read
from web.security import access

bp = Blueprint("flight_log", __name__, url_prefix="/flight-log")

#: CSV downloads by name: (read model, row type).
DOWNLOADS = {
    "flights": (flight_records, FlightRecord),
    "inspections": (inspections, Inspection),
    "plan": (planned_flights, PlannedFlight),
}


def _day() -> dt.date:
    """``?date=YYYY-MM-DD`` or today in the hubs' time; a malformed date is a 400."""
    text = request.args.get("date", "")
    if not text:
        return now().astimezone(console_timezone(db(), current_user.hub_scope)).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        abort(400)


@bp.route("")
@access("operator", "admin")
def index() -> Any:
    day, scope = _day(), current_user.hub_scope
    return render_template(
        "flight_log/index.html",
        day=day,
        flights=read(flight_records, day, scope),
        inspections=read(inspections, day, scope),
        planned=read(planned_flights, day, scope),
        days=read(flown_days, scope),
    )


@bp.route("/<kind>.csv")
@access("operator", "admin")
def download(kind: str) -> Any:
    if kind not in DOWNLOADS:
        abort(404)
    reader, row_type = DOWNLOADS[kind]
    day = _day()
    body = "\ufeff" + as_csv(read(reader, day, current_user.hub_scope), row_type)  # BOM: Excel reads UTF-8
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=flight-{kind}-{day.isoformat()}.csv"},
    )
