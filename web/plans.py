"""Plan review: the list of plans per hub, one version's page (KPIs, map, stops, validator report,
drone sortie log), the operator's edits and confirmation.

Views stay thin: reading is :mod:`dispatch.read.plans`, every change is a call to
:mod:`dispatch.services.plans` (which re-validates and stores a new version). Operators see only
their hubs' plans (another hub's plan answers 404, as if it did not exist); planners read; admins
do everything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from dispatch.errors import DomainError
from dispatch.lifecycle import PlanState
from dispatch.read.plans import (
    PlanPage,
    PlanView,
    RouteView,
    StopRow,
    first_eta,
    plan_hub,
    plan_page,
    plan_rows,
    plan_view,
)
from dispatch.read.search import filter_options, plans_matching
from dispatch.services import bus as bus_service
from dispatch.services import plans as plan_service
from dispatch.services.rehearsal import rehearse
from web.auth import require_hub
from web.confirm_step import confirmation_page
from web.context import db, now, read, settings
from web.filters import search_from_request
from web.maps import (
    ROUTE_PALETTE,
    HubPoint,
    MapAssets,
    MapData,
    PointFeature,
    ZoneShape,
    build_map,
    render_parts,
    route_lines,
)
from web.phrases import say, zone_name
from web.security import access

bp = Blueprint("plans", __name__, url_prefix="/plans")


def _visible_plan_hub(plan_id: str) -> str:
    """The plan's hub, or 404 when it does not exist or belongs to a hub outside the user's scope."""
    hub_id = read(plan_hub, plan_id)
    return require_hub(hub_id, f"plan {plan_id}")


# --- forms ----------------------------------------------------------------------------------------


class OrderForm(FlaskForm):
    """Drop an order, or force it onto the ground (the order is one of the plan's)."""

    order_id = HiddenField(validators=[DataRequired(), Length(max=64)])


class BusCollectedForm(FlaskForm):
    """The resident collected a bus-leg parcel at the stop: the PIN the driver passed on."""

    order_id = HiddenField(validators=[DataRequired(), Length(max=64)])
    pin = StringField(validators=[DataRequired(), Length(max=8)])


class MoveForm(FlaskForm):
    order_id = StringField(validators=[DataRequired(), Length(max=64)])
    vehicle = StringField(validators=[DataRequired(), Length(max=64)])
    position = IntegerField(default=1, validators=[NumberRange(1, 100_000)])


class ReorderForm(FlaskForm):
    vehicle = HiddenField(validators=[DataRequired(), Length(max=64)])
    numbers = StringField(validators=[DataRequired(), Length(max=20_000)])


class ConfirmForm(FlaskForm):
    """Confirm; ``as_planned`` keeps times already past as they are (else the plan is re-timed)."""

    as_planned = HiddenField()


# --- pages ----------------------------------------------------------------------------------------


@bp.route("")
@access("operator", "planner", "admin")
def index() -> Any:
    state = request.args.get("state")
    shown = state if state in (PlanState.PROPOSED, PlanState.CONFIRMED) else None
    rows = read(plan_rows, current_user.hub_scope, state=shown)
    total = len(rows)
    search = search_from_request(with_state=False)
    if search.hub_id:
        rows = [r for r in rows if r.hub_id == search.hub_id]
    if search.text or search.carrier_id:
        found = read(plans_matching, [r.plan_id for r in rows if r.plan_id], search)
        rows = [r for r in rows if r.plan_id in found]
    return render_template("plans/list.html", rows=rows, state=state, search=search, total=total,
                           filter_options=read(filter_options, current_user.hub_scope))


@bp.route("/<plan_id>")
@access("operator", "planner", "admin")
def show(plan_id: str) -> Any:
    _visible_plan_hub(plan_id)
    page = read(plan_page, plan_id, now())
    if page is None:
        abort(404)
    view = page.plan
    if request.args.get("follow") and view.id != view.latest_id:  # a re-plan finished: show it
        return redirect(url_for("plans.show", plan_id=view.latest_id))
    may_edit = current_user.role in ("operator", "admin") and view.editable
    sorties = plan_service.drone_sorties(db(), plan_id)
    return render_template(
        "plans/plan.html", plan=view, map=render_parts(plan_map(page)), sorties=sorties,
        may_edit=may_edit, confirm=ConfirmForm(), route_colour=route_colour,
        stop_slot=stop_slot, idle_couriers=idle_couriers(view), previous=page.previous,
        may_hand_over=current_user.role in ("operator", "admin") and view.state == PlanState.CONFIRMED,
        confirm_refusal=_confirm_refusal(view), past_eta=_past_eta(plan_id),
    )


def _past_eta(plan_id: str) -> dt.datetime | None:
    """The plan's first ETA when it has passed (confirming re-times the plan from now), else None."""
    first = read(first_eta, plan_id)
    return first if first is not None and first < now() - plan_service.PAST_ETA_GRACE else None


def _confirm_refusal(view: PlanView) -> str | None:
    """Why confirming would be refused now, in the operator's words (None: it may be confirmed)."""
    if view.state != PlanState.PROPOSED:
        return _("This version is %(state)s.", state=_(view.state))
    if view.replanning:
        return _("The batch is being planned again.")
    if view.id != view.latest_id:
        return _("A newer version (%(version)s) exists.", version=view.latest_version)
    if not view.ok:
        return _("The validator found %(n)s problem(s): fix them before confirming.", n=len(view.violations))
    return None


def plan_map(page: PlanPage) -> Any:
    """The plan's map: each route's line and numbered stops in the vehicle's colour (the ETA in
    the tooltip), unserved homes, the region's hubs and zones; it opens framed on the plan's hub
    and its stops."""
    view, frame = page.plan, page.frame
    points = [PointFeature(st.lon, st.lat, stop_label(st, r), "planned", number=str(st.seq),
                           colour=route_colour(r))
              for r in view.routes for st in r.deliveries]
    points += [PointFeature(u.lon, u.lat, f"#{u.number} {u.resident_code} · {_(u.reason)}", "unserved")
               for u in view.unserved if u.lon is not None and u.lat is not None]
    lines = tuple(replace(line, colour=route_colour(r))
                  for line, r in zip(route_lines(page.lines), view.routes, strict=False))
    data = MapData(
        center=(view.hub_lat, view.hub_lon),
        hubs=[HubPoint(h.code, h.name, h.kind, h.drone_port, h.lon, h.lat, own=h.id == view.hub_id)
              for h in (frame.hubs if frame else ()) if h.id == view.hub_id or h.kind == "supply"],
        points=points, points_layer_name=_("Stops"),
        zones=[ZoneShape(z.identifier, zone_name(z.name, z.names), z.type, z.geometry, z.validity, z.active)
               for z in (frame.zones if frame else ())],
        routes=lines, zoom=12,
        frame=[(view.hub_lat, view.hub_lon), *((p.lat, p.lon) for p in points)],
    )
    return build_map(data, MapAssets.under(url_for("static", filename="vendor").rstrip("/")),
                     tiles=settings().tiles)


def stop_slot(route: RouteView, stop: StopRow) -> tuple[int, int]:
    """Where a stop is for the move service, which takes the order off its route first: the
    number of the route's other stops before it, and of the route's other stops in all (the up
    and down buttons move it to one less or one more)."""
    others = [st for st in route.stops if st.order_id != stop.order_id]
    before = sum(1 for st in route.stops[: route.stops.index(stop)] if st.order_id != stop.order_id)
    return before, len(others)


def idle_couriers(view: PlanView) -> list[tuple[str, str]]:
    """Couriers on shift with no route in this version: a stop can be moved (dragged) onto them."""
    busy = {r.vehicle_id for r in view.routes if not r.drone}
    return [(vid, label) for vid, label in view.couriers if vid not in busy]


def route_colour(route: RouteView) -> str:
    """A vehicle's colour, the same on every version (see :attr:`RouteView.colour`)."""
    return ROUTE_PALETTE[route.colour % len(ROUTE_PALETTE)]


def stop_label(stop: StopRow, route: RouteView) -> str:
    """A stop's tooltip: stop number, order, resident code, ETA and vehicle (no name or address)."""
    eta = format_time(stop.eta, "short") if stop.eta is not None else "–"
    return _("Stop %(n)s · #%(number)s %(code)s · ETA %(eta)s · %(vehicle)s", n=stop.seq, number=stop.number,
             code=stop.resident_code, eta=eta, vehicle=route.label.split(" ")[0])


# --- edits ----------------------------------------------------------------------------------------


def _after(plan_id: str, action: Any) -> Any:
    """Run an edit; on success go to the new version, on refusal stay and say why."""
    try:
        new_id = action()
    except DomainError as error:
        flash(say(error), "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    flash(_("Saved as a new version; the validator checked it again."), "ok")
    return redirect(url_for("plans.show", plan_id=new_id))


def _bad_form(plan_id: str, form: FlaskForm) -> Any:
    problems = "; ".join(f"{name}: {', '.join(errors)}" for name, errors in form.errors.items())
    flash(_("The form was not accepted (%(problems)s).", problems=problems), "error")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.route("/<plan_id>/move", methods=["POST"])
@access("operator", "admin")
def move(plan_id: str) -> Any:
    _visible_plan_hub(plan_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    return _after(plan_id, lambda: plan_service.move_stop(
        db(), plan_id, form.order_id.data, form.vehicle.data, int(form.position.data or 1) - 1,
        user_id=current_user.user_id))


@bp.route("/<plan_id>/reorder", methods=["POST"])
@access("operator", "admin")
def reorder(plan_id: str) -> Any:
    _visible_plan_hub(plan_id)
    form = ReorderForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    view = read(plan_view, plan_id)
    assert view is not None
    route = next((r for r in view.routes if r.vehicle_id == form.vehicle.data and not r.drone), None)
    if route is None:
        flash(_("That courier has no route in this plan."), "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    by_number = {st.number: st.order_id for st in route.deliveries}
    try:
        numbers = [int(n) for n in re.split(r"[\s,、，]+", form.numbers.data or "") if n]
    except ValueError:
        flash(_("List the order numbers separated by commas, e.g. 12, 15, 9."), "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    unknown = [n for n in numbers if n not in by_number]
    if unknown:
        flash(_("Not on this route: %(numbers)s.", numbers=", ".join(f"#{n}" for n in unknown)), "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    return _after(plan_id, lambda: plan_service.reorder(
        db(), plan_id, route.vehicle_id, [by_number[n] for n in numbers], user_id=current_user.user_id))


@bp.route("/<plan_id>/drop/ask")
@access("operator", "admin")
def drop_step(plan_id: str) -> Any:
    """The step before dropping a stop to the next batch: which order, and who is told (nobody)."""
    _visible_plan_hub(plan_id)
    order_id = request.args.get("order_id", "")
    view = read(plan_view, plan_id)
    assert view is not None
    stop = next((st for r in view.routes for st in r.deliveries if st.order_id == order_id), None)
    if stop is None:
        abort(404)
    preview = rehearse(db(), lambda d: plan_service.drop_order(d, plan_id, order_id))
    return confirmation_page(
        preview, title=_("Drop order #%(number)s to the next batch?", number=stop.number),
        submit=_("Drop to next batch"), action=url_for("plans.drop", plan_id=plan_id),
        back=url_for("plans.show", plan_id=plan_id), fields=[("order_id", order_id)],
        effects=[_("%(name)s's order goes back to the queue; the hub's next batch plans it.",
                   name=stop.resident_name or stop.resident_code)],
        undo=_("Undo on the new version brings it back to this plan."))


@bp.route("/<plan_id>/undo", methods=["POST"])
@access("operator", "admin")
def undo(plan_id: str) -> Any:
    """Undo the last edit: the version before it comes back as the next version."""
    _visible_plan_hub(plan_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    try:
        new_id = plan_service.restore_previous(db(), plan_id, user_id=current_user.user_id)
    except DomainError as error:
        flash(say(error), "error")
        return redirect(url_for("plans.show", plan_id=plan_id))
    flash(_("Undone: the previous version is back (as a new version)."), "ok")
    return redirect(url_for("plans.show", plan_id=new_id))


@bp.route("/<plan_id>/drop", methods=["POST"])
@access("operator", "admin")
def drop(plan_id: str) -> Any:
    _visible_plan_hub(plan_id)
    form = OrderForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    return _after(plan_id, lambda: plan_service.drop_order(
        db(), plan_id, form.order_id.data, user_id=current_user.user_id))


@bp.route("/<plan_id>/ground", methods=["POST"])
@access("operator", "admin")
def ground_here(plan_id: str) -> Any:
    """Force ground as a local change: the order onto the courier where it adds least time."""
    _visible_plan_hub(plan_id)
    form = OrderForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    return _after(plan_id, lambda: plan_service.ground_here(db(), plan_id, form.order_id.data or "",
                                                            user_id=current_user.user_id))


@bp.route("/<plan_id>/force-ground", methods=["POST"])
@access("operator", "admin")
def force_ground(plan_id: str) -> Any:
    _visible_plan_hub(plan_id)
    form = OrderForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    try:
        plan_service.request_ground(db(), plan_id, form.order_id.data or "", user_id=current_user.user_id)
    except DomainError as error:
        flash(say(error), "error")
    else:  # the scheduler's worker re-plans the batch; this page refreshes until the version is there
        flash(_("The order will go by ground: the batch is being planned again; the new version "
                "appears here in a few seconds."), "ok")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.route("/<plan_id>/confirm/ask")
@access("operator", "admin")
def confirm_step(plan_id: str) -> Any:
    """The step before confirming: how many residents and couriers will be texted, sorties for
    hub staff, a re-timing (as the confirmation would do it now)."""
    _visible_plan_hub(plan_id)
    as_planned = request.args.get("as_planned") == "1"
    preview = rehearse(db(), lambda d: plan_service.confirm_plan(
        d, plan_id, current_user.user_id, now(), settings(), as_planned=as_planned))
    effects = []
    if preview.result is not None:
        done = preview.result
        effects.append(_("Each courier gets a link to their route; each resident their delivery time "
                         "and PIN."))
        if done.drone_sorties:
            effects.append(_("%(n)s drone sortie(s) go to hub staff.", n=done.drone_sorties))
        if done.retimed:
            effects.append(_("The first ETA has passed: the plan is re-timed from now first."))
    return confirmation_page(
        preview, title=_("Confirm this plan?"), submit=_("Confirm and send the texts"),
        action=url_for("plans.confirm", plan_id=plan_id), back=url_for("plans.show", plan_id=plan_id),
        fields=[("as_planned", "1")] if as_planned else [], effects=effects,
        undo=_("A confirmed plan cannot be undone (the texts are sent); the Operations page revises it."))


# --- community-bus legs: the hub hands a parcel to the driver, the resident collects it -----------


def _bus_step(plan_id: str, step: Any, done: str) -> Any:
    try:
        step()
    except DomainError as error:
        flash(say(error), "error")
    else:
        flash(done, "ok")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.route("/<plan_id>/bus/handed", methods=["POST"])
@access("operator", "admin")
def bus_handed(plan_id: str) -> Any:
    hub_id = _visible_plan_hub(plan_id)
    form = OrderForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    return _bus_step(plan_id, lambda: bus_service.hand_to_driver(
        db(), form.order_id.data, current_user.user_id, now(), hub_ids=frozenset({hub_id})),
        _("Handed to the bus driver."))


@bp.route("/<plan_id>/bus/collected", methods=["POST"])
@access("operator", "admin")
def bus_collected(plan_id: str) -> Any:
    hub_id = _visible_plan_hub(plan_id)
    form = BusCollectedForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    return _bus_step(plan_id, lambda: bus_service.collected_from_driver(
        db(), form.order_id.data, form.pin.data, current_user.user_id, now(), hub_ids=frozenset({hub_id})),
        _("Collected at the bus stop: delivered."))


@bp.route("/<plan_id>/confirm", methods=["POST"])
@access("operator", "admin")
def confirm(plan_id: str) -> Any:
    _visible_plan_hub(plan_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _bad_form(plan_id, form)
    try:
        done = plan_service.confirm_plan(db(), plan_id, current_user.user_id, now(), settings(),
                                         as_planned=form.as_planned.data == "1")
    except DomainError as error:
        flash(_("Not confirmed: %(reason)s", reason=say(error)), "error")
    else:
        if done.retimed:
            flash(_("The first ETA had passed: the plan was re-timed from now before confirming."), "ok")
        flash(_("Plan confirmed: %(couriers)s courier link(s) and %(residents)s resident ETA(s) queued, "
                "%(sorties)s drone sortie(s) for hub staff.", couriers=done.courier_messages,
                residents=done.resident_messages, sorties=done.drone_sorties), "ok")
        plan_id = done.plan_id
    return redirect(url_for("plans.show", plan_id=plan_id))
