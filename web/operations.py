"""Operations: what an operator switches when the day changes (issue 5, item 9).

One page per hub scope: couriers on today's confirmed routes (call one off), the hub's drones
(ground / back in service), the weather hold, and the region's no-fly zones (switch on / off / back
to schedule). Every switch is a call to :mod:`dispatch.services.disruptions`, which revises the
confirmed plans and queues the SMS of everyone affected; the flash message says what moved.
Operators act only on their own hubs (anything else answers 404).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length

from dispatch.errors import DomainError
from dispatch.models import Batch, Drone, Hub, Plan, Route, Volunteer, Zone, utcnow
from dispatch.services import disruptions
from web.auth import require_hub
from web.context import db, settings
from web.security import access

bp = Blueprint("operations", __name__, url_prefix="/operations")
log = logging.getLogger(__name__)


class SwitchForm(FlaskForm):
    """One switch: which thing (``target``) and to what (``value``)."""

    target = HiddenField(validators=[DataRequired(), Length(max=64)])
    value = HiddenField(validators=[AnyOf(["on", "off", "schedule", "grounded", "maintenance", "available"])])


@dataclass(frozen=True)
class HubOps:
    hub: Hub
    couriers: list[tuple[Volunteer, int]]  # on a confirmed route today, with stops
    drones: list[Drone]
    zones: list[Zone]


def _hubs() -> list[HubOps]:
    scope = current_user.hub_scope
    out = []
    with db().read() as s:
        query = select(Hub).where(Hub.kind == "hub").order_by(Hub.code)
        if scope is not None:
            query = query.where(Hub.id.in_(scope))
        for hub in s.scalars(query):
            rows = s.execute(
                select(Volunteer, Route).join(Route, Route.volunteer_id == Volunteer.id)
                .join(Plan, Plan.id == Route.plan_id).join(Batch, Batch.id == Plan.batch_id)
                .where(Batch.hub_id == hub.id, Plan.state == "confirmed", Route.state != "done")
                .order_by(Volunteer.code)).all()
            stops: dict[str, tuple[Volunteer, int]] = {}
            for volunteer, route in rows:
                count = sum(1 for st in route.stops if st.kind == "delivery")
                stops[volunteer.id] = (volunteer, stops.get(volunteer.id, (volunteer, 0))[1] + count)
            drones = list(s.scalars(select(Drone).where(Drone.hub_id == hub.id).order_by(Drone.code)))
            zones = list(s.scalars(select(Zone).where(Zone.region_id == hub.region_id)
                                   .order_by(Zone.identifier)))
            s.expunge_all()
            out.append(HubOps(hub, list(stops.values()), drones, zones))
    return out


def _own(model: type[Any], object_id: str) -> Any:
    """The object if it belongs to a hub (or, for zones, a region) in the user's scope, else 404."""
    with db().read() as s:
        obj = s.get(model, object_id)
        if obj is None:
            abort(404)
        hubs = {obj.hub_id} if hasattr(obj, "hub_id") else set(s.scalars(
            select(Hub.id).where(Hub.region_id == obj.region_id)))
        if model is Hub:
            hubs = {obj.id}
        if not any(current_user.may_see_hub(h) for h in hubs):
            require_hub(next(iter(hubs), None), f"{model.__name__} {object_id}")
        s.expunge(obj)
        return obj


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
    flash(" · ".join(parts), "ok")


def _form() -> SwitchForm:
    form = SwitchForm()
    if not form.validate_on_submit():
        abort(400)
    return form


@bp.route("")
@access("operator", "admin")
def index() -> Any:
    return render_template("operations/index.html", hubs=_hubs(), form=SwitchForm())


@bp.route("/courier", methods=["POST"])
@access("operator", "admin")
def courier_off() -> Any:
    form = _form()
    volunteer = _own(Volunteer, form.target.data or "")
    return _run(lambda: disruptions.courier_cancels(
        db(), volunteer.id, utcnow(), actor=f"user:{current_user.user_id}", settings=settings()),
        _("Courier %(code)s called off for today.", code=volunteer.code))


@bp.route("/weather", methods=["POST"])
@access("operator", "admin")
def weather() -> Any:
    form = _form()
    hub = _own(Hub, form.target.data or "")
    on = form.value.data == "on"
    return _run(lambda: disruptions.set_weather_hold(
        db(), hub.id, on, utcnow(), actor=f"user:{current_user.user_id}", settings=settings()),
        _("Weather hold on at %(hub)s: drones grounded.", hub=hub.name) if on
        else _("Weather hold lifted at %(hub)s.", hub=hub.name))


@bp.route("/drone", methods=["POST"])
@access("operator", "admin")
def drone() -> Any:
    form = _form()
    target = _own(Drone, form.target.data or "")
    status = form.value.data if form.value.data in ("grounded", "maintenance", "available") else "grounded"
    return _run(lambda: disruptions.ground_drone(
        db(), target.id, utcnow(), actor=f"user:{current_user.user_id}", status=status, settings=settings()),
        _("Drone %(code)s is now %(status)s.", code=target.code, status=_(status)))


@bp.route("/zone", methods=["POST"])
@access("operator", "admin")
def zone() -> Any:
    form = _form()
    target = _own(Zone, form.target.data or "")
    active = {"on": True, "off": False}.get(form.value.data or "")
    return _run(lambda: disruptions.set_zone(
        db(), target.id, active, utcnow(), actor=f"user:{current_user.user_id}", settings=settings()),
        _("Zone %(name)s: %(state)s.", name=target.name,
          state=_("active") if active else _("inactive") if active is False else _("by schedule")))


def _run(action: Any, what: str) -> Any:
    try:
        result = action()
    except DomainError as error:
        flash(str(error), "error")
    else:
        _report(result, what)
    return redirect(url_for("operations.index"))
