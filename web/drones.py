"""Drone operations for hub staff (issue 13, item 2): today's sorties, the pre-flight checklist,
take-off, drop at the drop point, landing, abort.

Responsive pages that work in the console and on a 360 px phone at the drone port. Views are thin:
the rules (custody, order states, SMS) live in :mod:`dispatch.services.sorties`, the list in
:mod:`dispatch.read.drones`. Operators act only on their own hubs' sorties (anything else answers
404, never confirming that another hub's sortie exists); admins on every hub.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, FloatField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from dispatch.errors import DomainError, NotFound
from dispatch.models import utcnow
from dispatch.read.drones import SortieRow, sortie_row, todays_sorties
from dispatch.services import sorties
from web.context import db, read, settings
from web.phrases import say
from web.security import access

bp = Blueprint("drones", __name__, url_prefix="/drones")
log = logging.getLogger(__name__)


class TakeOffForm(FlaskForm):
    """The pre-flight checklist; the service refuses the take-off when an item is missing."""

    payload_kg = FloatField(validators=[InputRequired(), NumberRange(min=0, max=100)])
    battery_checked = BooleanField()
    weather_checked = BooleanField()
    permit_ref = StringField(validators=[Optional(), Length(max=sorties.MAX_TEXT)])
    pilot = StringField(validators=[Optional(), Length(max=sorties.MAX_TEXT)])  # default: the user
    pilot_licence = StringField(validators=[Optional(), Length(max=sorties.MAX_LICENCE)])


class DropForm(FlaskForm):
    """A drop: the resident's PIN when a person receives the parcel, empty at an unattended point."""

    pin = StringField(validators=[Optional(), Length(max=8)])


class LandForm(FlaskForm):
    """The landing, with the flight log's entries (both optional): events affecting safety, and a
    defect with what was done about it (which alerts the hub's board)."""

    safety_notes = TextAreaField(validators=[Optional(), Length(max=sorties.MAX_LOG_TEXT)])
    defects = TextAreaField(validators=[Optional(), Length(max=sorties.MAX_LOG_TEXT)])


class AbortForm(FlaskForm):
    reason = StringField(validators=[DataRequired(), Length(max=sorties.MAX_TEXT)])
    to_ground = BooleanField()


def _late_after() -> dt.timedelta:
    return dt.timedelta(minutes=settings().sortie_late_after_min)


def _actor() -> str:
    return f"user:{current_user.user_id}"


def _visible(route_id: str) -> SortieRow:
    try:
        return read(sortie_row, route_id, current_user.hub_scope, utcnow(), _late_after())
    except NotFound:
        log.warning("user %s asked for drone sortie %s (unknown or another hub's)", current_user.user_id,
                    route_id)
        abort(404)


def status_label(code: str) -> str:
    return {"waiting": _("waiting for take-off"), "late": _("late: not taken off"), "in_air": _("in the air"),
            "landed": _("landed"), "aborted": _("aborted")}.get(code, code)


def drone_status_label(code: str) -> str:
    return {"available": _("available"), "grounded": _("grounded"),
            "maintenance": _("maintenance")}.get(code, code)


def kind_label(code: str) -> str:
    return {"shuttle": _("shuttle (supply point → hub)"), "direct": _("direct (drop point)")}.get(code, code)


@bp.route("")
@access("operator", "admin")
def index() -> Any:
    rows = read(todays_sorties, current_user.hub_scope, utcnow(), _late_after())
    return render_template("drones/index.html", sorties=rows, status_label=status_label,
                           kind_label=kind_label)


@bp.route("/<route_id>")
@access("operator", "admin")
def show(route_id: str) -> Any:
    row = _visible(route_id)
    licence = sorties.last_licence(db(), current_user.name, row.hub_id)
    takeoff = TakeOffForm(payload_kg=row.payload_kg, pilot_licence=licence)
    return render_template("drones/sortie.html", s=row, takeoff=takeoff, drop_form=DropForm(),
                           land_form=LandForm(), abort_form=AbortForm(), status_label=status_label,
                           kind_label=kind_label, drone_status_label=drone_status_label)


def _act(route_id: str, form: FlaskForm, action: Callable[[], str]) -> Any:
    """Run one staff action for a sortie of the user's hubs and say what it did."""
    _visible(route_id)
    if not form.validate_on_submit():
        flash(_("Please fill in the form: %(fields)s", fields=", ".join(form.errors)), "error")
    else:
        try:
            flash(action(), "ok")
        except DomainError as error:
            flash(say(error), "error")
    return redirect(url_for("drones.show", route_id=route_id))


def _moved(record: sorties.SortieRecord) -> str:
    return ", ".join(f"#{n}" for n in record.moved) or "-"


@bp.route("/<route_id>/take-off", methods=["POST"])
@access("operator", "admin")
def take_off(route_id: str) -> Any:
    form = TakeOffForm()

    def run() -> str:
        checklist = sorties.PreFlight(battery_checked=bool(form.battery_checked.data),
                                      weather_checked=bool(form.weather_checked.data),
                                      payload_kg=form.payload_kg.data, permit_ref=form.permit_ref.data or "",
                                      pilot=form.pilot.data or current_user.name,
                                      pilot_licence=form.pilot_licence.data or "")
        record = sorties.take_off(db(), route_id, _actor(), utcnow(), checklist,
                                  hub_ids=current_user.hub_scope)
        return _("Take-off recorded; on board: %(orders)s.", orders=_moved(record))

    return _act(route_id, form, run)


@bp.route("/<route_id>/drop/<order_id>", methods=["POST"])
@access("operator", "admin")
def drop(route_id: str, order_id: str) -> Any:
    form = DropForm()

    def run() -> str:
        try:
            result = sorties.drop(db(), route_id, order_id, _actor(), utcnow(), pin=form.pin.data or None,
                                  max_attempts=settings().pin_max_attempts, hub_ids=current_user.hub_scope)
        except NotFound:
            abort(404)
        if result.ok:
            return _("Dropped at the drop point: delivered.")
        if result.alert_operator or result.tries_left == 0:
            raise DomainError(_("The PIN is locked: the hub's operators were alerted."))
        raise DomainError(_("Wrong PIN: %(n)s tries left.", n=result.tries_left))

    return _act(route_id, form, run)


@bp.route("/<route_id>/land", methods=["POST"])
@access("operator", "admin")
def land(route_id: str) -> Any:
    form = LandForm()

    def run() -> str:
        record = sorties.land(db(), route_id, _actor(), utcnow(), hub_ids=current_user.hub_scope,
                              safety_notes=form.safety_notes.data or "", defects=form.defects.data or "")
        said = (_("Landed; handed to the hub for the couriers: %(orders)s.", orders=_moved(record))
                if record.moved else _("Landed."))
        if (form.defects.data or "").strip():
            said += " " + _("The defect is on the hub's board.")
        return said

    return _act(route_id, form, run)


@bp.route("/<route_id>/abort", methods=["POST"])
@access("operator", "admin")
def abort_sortie(route_id: str) -> Any:
    form = AbortForm()

    def run() -> str:
        record = sorties.abort(db(), route_id, _actor(), utcnow(), form.reason.data or "",
                               to_ground=bool(form.to_ground.data), hub_ids=current_user.hub_scope)
        return _("Sortie aborted: %(orders)s back with the hub, offered to the next batch.",
                 orders=_moved(record))

    return _act(route_id, form, run)
