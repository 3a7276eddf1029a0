"""The handoff board: for each parcel of the hub's day, who holds it now and its chain of custody so
far, exceptions on top (failed delivery, locked PIN, overdue against the ETA, welfare notes).

The page renders the board once; ``web/static/board.js`` then polls :func:`data` (JSON) every
~10 s and redraws the table without reloading. Reading is :func:`dispatch.read.board.board`.
Custody changes are recorded by the courier and hub services (``dispatch.services``), never here;
the one write is acknowledging an alert (:func:`dispatch.services.delivery.acknowledge_alert`,
operators and admins of the alert's hub).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, replace
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from dispatch.errors import NotFound
from dispatch.models import utcnow
from dispatch.read.board import Board
from dispatch.read.board import board as read_board
from dispatch.read.search import filter_options, matches
from dispatch.services.delivery import acknowledge_alert
from web.context import db, read, settings
from web.filters import search_args, search_from_request
from web.inputs import parse_day
from web.phrases import say
from web.security import access

bp = Blueprint("board", __name__, url_prefix="/board")
log = logging.getLogger(__name__)

#: The states a parcel of the board can be in (the state filter).
PARCEL_STATES = ("planned", "dispatched", "in_transit", "delivered", "failed", "returned", "confirmed",
                 "cancelled")
#: How often the page polls for changes.
POLL_SECONDS = 10


def _board() -> Board:
    """The board of the signed-in user's hubs for ``?day=`` (today when absent or malformed), its
    parcels narrowed to the search (``?q=``, ``?state=``, ``?hub=``, ``?route=``; alerts all stay)."""
    whole = read(read_board, current_user.hub_scope, utcnow(), _day(), sortie_late_after=_late_after())
    search = search_from_request()
    if not search.active:
        return whole
    private = not can_acknowledge()  # planners see codes: their search finds codes and numbers only
    return replace(whole, parcels=tuple(
        p for p in whole.parcels
        if matches(search, number=p.number, name="" if private else p.resident_name, code=p.resident_code,
                   phone="" if private else p.resident_phone, state=p.state, hub_id=p.hub_id,
                   carrier_id=p.carrier_id)))


def _late_after() -> dt.timedelta:
    """How long after its planned start a sortie that has not taken off is flagged on the board."""
    return dt.timedelta(minutes=settings().sortie_late_after_min)


#: What only the hub's operators (who call people) see of a parcel or an alert: planners, who read
#: the board, see codes.
PRIVATE = ("resident_name", "resident_phone", "volunteer_phone")


def call_title(name: str) -> str:
    """The call link's title, as ``templates/_person.html`` words it."""
    return _("Call %(name)s", name=name)


def holder_label(holder: str | None) -> str:
    """Who holds a parcel, in the viewer's words (nothing handed yet: it is at the hub)."""
    return holder if holder is not None else _("at the hub")


# --- views ----------------------------------------------------------------------------------------


def _day() -> dt.date | None:
    return parse_day(request.args.get("day"))


def exception_label(code: str) -> str:
    return {"welfare": _("welfare note"), "pin_locked": _("PIN locked"), "failed": _("delivery failed"),
            "sortie_late": _("drone sortie not taken off"), "overdue": _("overdue"),
            "returned": _("returned"), "order_parked": _("parked for a call"),
            "delivery_failed": _("delivery failed"),
            "account_locked": _("console account locked"), "drone_defect": _("drone defect")}.get(code, code)


class AcknowledgeForm(FlaskForm):
    """The alert's acknowledge button: CSRF only (the alert is in the URL)."""


def can_acknowledge() -> bool:
    """Planners read the board; the hub's operators (and admins) deal with its alerts."""
    return bool(current_user.role in ("operator", "admin"))


@bp.route("")
@access("operator", "planner", "admin")
def board() -> Any:
    search = search_from_request()
    return render_template("board/board.html", board=_board(), poll_seconds=POLL_SECONDS,
                           search=search, search_args=search_args(search),
                           filter_options=read(filter_options, current_user.hub_scope),
                           parcel_states=[(s, _(s)) for s in PARCEL_STATES],
                           exception_label=exception_label, holder_label=holder_label,
                           day_arg=request.args.get("day", ""),
                           can_acknowledge=can_acknowledge(), ack_form=AcknowledgeForm())


@bp.route("/alerts/<alert_id>/acknowledge", methods=["POST"])
@access("operator", "admin")
def acknowledge(alert_id: str) -> Any:
    """Mark an alert seen: it leaves the board's alert list (the record and who saw it stay)."""
    if not AcknowledgeForm().validate_on_submit():  # CSRFProtect answers 400 before this; belt and braces
        abort(400)
    try:
        acknowledge_alert(db(), alert_id, current_user.user_id, now=utcnow(), hub_ids=current_user.hub_scope)
    except NotFound:
        log.warning("user %s tried to acknowledge alert %s (unknown or another hub's)",
                    current_user.user_id, alert_id)
        abort(404)
    flash(_("Alert acknowledged."), "ok")
    day = _day()
    return redirect(url_for("board.board", day=day.isoformat()) if day else url_for("board.board"))


@bp.route("/data")
@access("operator", "planner", "admin")
def data() -> Any:
    """The board as JSON for the page's poller: labels translated and times local, ready to show."""
    view = _board()
    may_ack, day_arg = can_acknowledge(), request.args.get("day") or None

    def when(value: dt.datetime | None) -> str:
        return format_datetime(value, "short") if value else ""

    def shown(row: dict[str, Any]) -> dict[str, Any]:
        return row if may_ack else {k: v for k, v in row.items() if k not in PRIVATE}

    return jsonify({
        "day": view.day.isoformat(),
        "generated_at": when(view.generated_at),
        "alerts": [shown({
            "kind": a.kind, "label": exception_label(a.kind), "number": a.order_number,
            "text": say(a.text), "at": when(a.created_at), "resident_code": a.resident_code,
            "resident_name": a.resident_name, "resident_phone": a.resident_phone,
            "call_title": call_title(a.resident_name or a.resident_code or ""),
            "volunteer": a.volunteer, "volunteer_phone": a.volunteer_phone,
            "call_volunteer_title": call_title(a.volunteer), "from_label": _("from"),
            "ack_url": url_for("board.acknowledge", alert_id=a.id, day=day_arg) if may_ack else None,
        }) for a in view.alerts],
        "parcels": [shown({
            **{k: v for k, v in asdict(p).items() if k not in ("chain", "eta", "hub_id", "holder")},
            "holder": holder_label(p.holder), "state_label": _(p.state), "eta": when(p.eta),
            "call_title": call_title(p.resident_name or p.resident_code),
            "exception_labels": [exception_label(e) for e in p.exceptions],
            "chain": [{"giver": h.giver, "taker": h.taker, "proof": _(h.proof), "at": when(h.at)}
                      for h in p.chain],
        }) for p in view.parcels],
    })
