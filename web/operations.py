"""Operations: what an operator switches when the day changes (issue 5, item 9).

One page per hub scope: couriers on today's confirmed routes (call one off), the hub's drones
(ground / back in service), the weather hold, and the region's no-fly zones (switch on / off / back
to schedule). Every switch is a call to :mod:`dispatch.services.disruptions`, which revises the
confirmed plans and queues the SMS of everyone affected; the flash message says what moved.
Operators act only on their own hubs (anything else answers 404).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length

from dispatch.errors import DomainError
from dispatch.read.operations import SwitchTarget, hub_operations, switch_target
from dispatch.services import disruptions
from web.auth import require_any_hub
from web.context import db, now, read, settings
from web.phrases import say
from web.security import access

bp = Blueprint("operations", __name__, url_prefix="/operations")


class SwitchForm(FlaskForm):
    """One switch: which thing (``target``) and to what (``value``)."""

    target = HiddenField(validators=[DataRequired(), Length(max=64)])
    value = HiddenField(validators=[AnyOf(["on", "off", "schedule", "grounded", "maintenance", "available"])])


def _target(kind: str, object_id: str) -> SwitchTarget:
    """The hub, courier, drone or zone to switch, if it belongs to a hub in the user's scope (a
    zone: to a hub of its region), else 404."""
    target = read(switch_target, kind, object_id)
    require_any_hub(target.hub_ids if target else None, f"{kind} {object_id}")
    assert target is not None
    return target


def _report(result: disruptions.Revision, what: str) -> None:
    parts = [what]
    if result.moved:
        parts.append(_("%(n)s stop(s) moved to other couriers", n=len(result.moved)))
    if result.queued:
        parts.append(_("%(n)s order(s) back to the queue", n=len(result.queued)))
    if result.bring_back:
        parts.append(_("%(n)s parcel(s) to bring back to the hub", n=len(result.bring_back)))
    if result.resolve:
        parts.append(_("%(n)s proposed plan(s) sent back to the solver", n=len(result.resolve)))
    if result.in_air:
        parts.append(_("%(n)s sortie(s) in the air: tell the pilot to land now (Drones page)",
                       n=len(result.in_air)))
    flash(" · ".join(parts), "ok")


def _form() -> SwitchForm:
    form = SwitchForm()
    if not form.validate_on_submit():
        abort(400)
    return form


@bp.route("")
@access("operator", "admin")
def index() -> Any:
    hubs = read(hub_operations, current_user.hub_scope)
    return render_template("operations/index.html", hubs=hubs, form=SwitchForm())


@bp.route("/courier", methods=["POST"])
@access("operator", "admin")
def courier_off() -> Any:
    form = _form()
    volunteer = _target("courier", form.target.data or "")
    return _run(lambda: disruptions.courier_cancels(
        db(), volunteer.id, now(), actor=f"user:{current_user.user_id}", settings=settings()),
        _("Courier %(code)s called off for today.", code=volunteer.label))


@bp.route("/weather", methods=["POST"])
@access("operator", "admin")
def weather() -> Any:
    form = _form()
    hub = _target("hub", form.target.data or "")
    on = form.value.data == "on"
    return _run(lambda: disruptions.set_weather_hold(
        db(), hub.id, on, now(), actor=f"user:{current_user.user_id}", settings=settings()),
        _("Weather hold on at %(hub)s: drones grounded.", hub=hub.label) if on
        else _("Weather hold lifted at %(hub)s.", hub=hub.label))


@bp.route("/drone", methods=["POST"])
@access("operator", "admin")
def drone() -> Any:
    form = _form()
    target = _target("drone", form.target.data or "")
    status = form.value.data if form.value.data in ("grounded", "maintenance", "available") else "grounded"
    return _run(lambda: disruptions.ground_drone(
        db(), target.id, now(), actor=f"user:{current_user.user_id}", status=status, settings=settings()),
        _("Drone %(code)s is now %(status)s.", code=target.label, status=_(status)))


@bp.route("/zone", methods=["POST"])
@access("operator", "admin")
def zone() -> Any:
    form = _form()
    target = _target("zone", form.target.data or "")
    active = {"on": True, "off": False}.get(form.value.data or "")
    return _run(lambda: disruptions.set_zone(
        db(), target.id, active, now(), actor=f"user:{current_user.user_id}", settings=settings()),
        _("Zone %(name)s: %(state)s.", name=target.label,
          state=_("active") if active else _("inactive") if active is False else _("by schedule")))


def _run(action: Any, what: str) -> Any:
    try:
        result = action()
    except DomainError as error:
        flash(say(error), "error")
    else:
        _report(result, what)
    return redirect(url_for("operations.index"))
