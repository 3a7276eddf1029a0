"""Operations: what an operator switches when the day changes (issue 5, item 9).

One page per hub scope: couriers on today's confirmed routes (call one off), the hub's drones
(ground / back in service), the weather hold, and the region's no-fly zones (switch on / off / back
to schedule). Every switch is a call to :mod:`dispatch.services.disruptions`, which revises the
confirmed plans and queues the SMS of everyone affected; the flash message says what moved.
Operators act only on their own hubs (anything else answers 404).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, TimeField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.localtime import console_timezone
from dispatch.read.operations import SwitchTarget, hub_operations, switch_target
from dispatch.services import disruptions
from dispatch.services.rehearsal import rehearse
from dispatch.weather import readings
from dispatch.weather.limits import Weather
from dispatch.weather.readings import FIELDS
from web.auth import require_any_hub
from web.confirm_step import confirmation_page
from web.context import db, now, read, settings
from web.phrases import say
from web.security import access

bp = Blueprint("operations", __name__, url_prefix="/operations")


class SwitchForm(FlaskForm):
    """One switch: which thing (``target``) and to what (``value``)."""

    target = HiddenField(validators=[DataRequired(), Length(max=64)])
    value = HiddenField(validators=[AnyOf(["on", "off", "schedule", "grounded", "maintenance", "available"])])


class WeatherForm(FlaskForm):
    """A manual weather entry for a hub, today from ``starts`` to ``ends`` (local time); an empty
    value is unknown. Applied to the next cutoff's plans and to every take-off checklist."""

    target = HiddenField(validators=[DataRequired(), Length(max=64)])
    starts = TimeField(validators=[InputRequired()])
    ends = TimeField(validators=[InputRequired()])
    wind_ms = FloatField(validators=[Optional(), NumberRange(min=0, max=100)])
    gust_ms = FloatField(validators=[Optional(), NumberRange(min=0, max=150)])
    precip_mmh = FloatField(validators=[Optional(), NumberRange(min=0, max=500)])
    temp_c = FloatField(validators=[Optional(), NumberRange(min=-60, max=60)])
    visibility_m = FloatField(validators=[Optional(), NumberRange(min=0, max=100_000)])


def _target(kind: str, object_id: str) -> SwitchTarget:
    """The hub, courier, drone or zone to switch, if it belongs to a hub in the user's scope (a
    zone: to a hub of its region), else 404."""
    target = read(switch_target, kind, object_id)
    require_any_hub(target.hub_ids if target else None, f"{kind} {object_id}")
    assert target is not None
    return target


def revision_lines(result: disruptions.Revision) -> list[str]:
    """What a revision moved, one phrase each (the flash after a switch, the step before it)."""
    parts = []
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
    return parts


def _report(result: disruptions.Revision, what: str) -> None:
    flash(" · ".join([what, *revision_lines(result)]), "ok")


def _form() -> SwitchForm:
    form = SwitchForm()
    if not form.validate_on_submit():
        abort(400)
    return form


@bp.route("")
@access("operator", "admin")
def index() -> Any:
    hubs = read(hub_operations, current_user.hub_scope, now())
    return render_template("operations/index.html", hubs=hubs, form=SwitchForm())


def _step_words(action: str, label: str, value: str) -> tuple[str, str] | None:
    """The step's title and button for a switch that re-plans confirmed routes and texts people
    (``value`` as the switch's form sends it); None for one that needs no step."""
    if action == "courier":
        return _("Call %(code)s off for today?", code=label), _("Call off and re-plan")
    if action == "weather" and value == "on":
        return _("Weather hold at %(hub)s?", hub=label), _("Ground all drones and re-plan")
    if action == "drone" and value in ("grounded", "maintenance"):
        return _("Ground drone %(code)s?", code=label), _("Ground and re-plan")
    if action == "zone":
        return _("Switch zone %(name)s?", name=label), _("Switch and re-plan")
    return None


_KINDS = {"courier": "courier", "weather": "hub", "drone": "drone", "zone": "zone"}
_ENDPOINTS = {"courier": "operations.courier_off", "weather": "operations.weather",
              "drone": "operations.drone", "zone": "operations.zone"}


@bp.route("/<action>/ask")
@access("operator", "admin")
def confirm_step(action: str) -> Any:
    """The step before a switch: what it would move and who it would text, run now and rolled
    back (the same service as the switch)."""
    if action not in _KINDS:
        abort(404)
    value = request.args.get("value", "")
    target = _target(_KINDS[action], request.args.get("target", ""))
    words = _step_words(action, target.label, value)
    if words is None:
        abort(404)
    preview = rehearse(db(), lambda d: _SERVICES[action](d, target, value))
    undo = {"courier": _("Undo: “Bring back” in the list of couriers called off (their moved stops stay "
                         "where they went)."),
            "weather": _("Undo: lift the weather hold (the moved stops stay where they went)."),
            "drone": _("Undo: put the drone back in service (the moved stops stay where they went).")}
    return confirmation_page(
        preview, title=words[0], submit=words[1], action=url_for(_ENDPOINTS[action]),
        back=url_for("operations.index"), fields=[("target", target.id), ("value", value)],
        effects=revision_lines(preview.result) if preview.result is not None else [],
        undo=undo.get(action, ""))


def _courier_off(d: Database, target: SwitchTarget, _value: str) -> disruptions.Revision:
    return disruptions.courier_cancels(d, target.id, now(), actor=f"user:{current_user.user_id}",
                                       settings=settings())


def _weather(d: Database, target: SwitchTarget, value: str) -> disruptions.Revision:
    return disruptions.set_weather_hold(d, target.id, value == "on", now(),
                                        actor=f"user:{current_user.user_id}", settings=settings())


def _drone(d: Database, target: SwitchTarget, value: str) -> disruptions.Revision:
    status = value if value in ("grounded", "maintenance", "available") else "grounded"
    return disruptions.ground_drone(d, target.id, now(), actor=f"user:{current_user.user_id}", status=status,
                                    settings=settings())


def _zone(d: Database, target: SwitchTarget, value: str) -> disruptions.Revision:
    return disruptions.set_zone(d, target.id, {"on": True, "off": False}.get(value), now(),
                                actor=f"user:{current_user.user_id}", settings=settings())


_SERVICES = {"courier": _courier_off, "weather": _weather, "drone": _drone, "zone": _zone}


@bp.route("/courier/back", methods=["POST"])
@access("operator", "admin")
def courier_back() -> Any:
    """Undo a call-off: the courier is on shift again (from the next batch and re-plan)."""
    form = _form()
    volunteer = _target("courier", form.target.data or "")
    try:
        code = disruptions.courier_returns(db(), volunteer.id, now(), actor=f"user:{current_user.user_id}")
    except DomainError as error:
        flash(say(error), "error")
    else:
        flash(_("Courier %(code)s is back on shift: planned again from the next batch.", code=code), "ok")
    return redirect(url_for("operations.index"))


@bp.route("/courier", methods=["POST"])
@access("operator", "admin")
def courier_off() -> Any:
    form = _form()
    volunteer = _target("courier", form.target.data or "")
    return _run(lambda: _courier_off(db(), volunteer, "off"),
                _("Courier %(code)s called off for today.", code=volunteer.label))


@bp.route("/weather", methods=["POST"])
@access("operator", "admin")
def weather() -> Any:
    form = _form()
    hub = _target("hub", form.target.data or "")
    on = form.value.data == "on"
    return _run(lambda: _weather(db(), hub, form.value.data or ""),
        _("Weather hold on at %(hub)s: drones grounded.", hub=hub.label) if on
        else _("Weather hold lifted at %(hub)s.", hub=hub.label))


@bp.route("/weather/reading", methods=["POST"])
@access("operator", "admin")
def weather_reading() -> Any:
    """Record the weather an operator observes or expects (the ``manual`` provider)."""
    form = WeatherForm()
    hub = _target("hub", form.target.data or "")
    if not form.validate_on_submit():
        flash(_("Please fill in the form: %(fields)s", fields=", ".join(form.errors)), "error")
        return redirect(url_for("operations.index"))
    tz = console_timezone(db(), current_user.hub_scope)
    today = now().astimezone(tz).date()
    start = dt.datetime.combine(today, form.starts.data, tz)
    end = dt.datetime.combine(today, form.ends.data, tz)
    if end <= start:
        flash(_("The end of the period must be after its start."), "error")
        return redirect(url_for("operations.index"))
    values = Weather(**{f: getattr(form, f).data for f in FIELDS})
    readings.record(db(), hub.id, [readings.Reading(start, end, values)], "manual",
                    f"user:{current_user.user_id}", now=now())
    flash(_("Weather recorded for %(hub)s: the next plans and every take-off check it.", hub=hub.label), "ok")
    return redirect(url_for("operations.index"))


@bp.route("/drone", methods=["POST"])
@access("operator", "admin")
def drone() -> Any:
    form = _form()
    target = _target("drone", form.target.data or "")
    status = form.value.data if form.value.data in ("grounded", "maintenance", "available") else "grounded"
    return _run(lambda: _drone(db(), target, status),
        _("Drone %(code)s is now %(status)s.", code=target.label, status=_(status)))


@bp.route("/zone", methods=["POST"])
@access("operator", "admin")
def zone() -> Any:
    form = _form()
    target = _target("zone", form.target.data or "")
    active = {"on": True, "off": False}.get(form.value.data or "")
    return _run(lambda: _zone(db(), target, form.value.data or ""),
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
