"""The volunteer courier's mobile page (issue 6, items 7-9): sign in with the SMS link, see only one's
own routes, and record pick-ups, deliveries (PIN), failed deliveries, returns and welfare notes,
and share the position while a route is under way.

Views are thin: every rule (who may act on what, custody, states, SMS, deduplication) is in
:mod:`dispatch.services.delivery`, and what the pages show is read by :mod:`dispatch.read.courier`
(the route's line is the one stored with the plan version, as on the plan page). Each action is an
ordinary form (CSRF, works without JavaScript) carrying an ``action_id``; ``static/courier.js``
adds the offline queue: actions taken without signal are kept on the phone and sent when it
returns, and the server's deduplication by ``action_id`` makes a replay harmless. A request that
asks for JSON gets the outcome as JSON instead of a redirect. Anything that is not the courier's
answers 404, and the attempt is logged with ids only (never names, phones or addresses).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from dispatch.errors import DomainError, NotFound
from dispatch.models import utcnow
from dispatch.read import courier as courier_read
from dispatch.read.sheets import route_sheet
from dispatch.services import delivery, signin
from web.context import db, read, settings
from web.extensions import limiter
from web.inputs import finite_number, json_body, parse_epoch_ms
from web.maps import HubPoint, MapAssets, MapData, PointFeature, RouteLine, build_map, render_parts
from web.phrases import say
from web.security import access
from web.sheets import render_sheet

bp = Blueprint("courier", __name__)
log = logging.getLogger("hakobu.courier")

#: How far back a queued action's own time (taken on the phone) is believed; older is clamped.
MAX_QUEUED_AGE = dt.timedelta(hours=24)
#: Clock skew tolerated for an action time from the phone.
MAX_CLOCK_AHEAD = dt.timedelta(minutes=2)
#: The browser shares its position this often while a route is under way (issue: 30-60 s).
POSITION_EVERY_S = 45


class ActionForm(FlaskForm):
    """CSRF only: the action forms are read field by field (they differ per action)."""


# --- helpers ------------------------------------------------------------------------------------


def _volunteer_id() -> str:
    volunteer_id = session.get("courier_volunteer_id")
    if not volunteer_id:  # cannot happen behind @access("courier"); fail closed
        abort(404)
    return str(volunteer_id)


def _refused(what: str) -> Response:
    """Log an attempt on something that is not the courier's (ids only) and answer 404."""
    log.warning("courier %s refused: %s %s", session.get("courier_volunteer_id"), request.endpoint, what)
    abort(404)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _action_time() -> dt.datetime:
    """When the courier acted: the phone's time for an action queued offline (``at``, epoch ms),
    believed within :data:`MAX_QUEUED_AGE` and :data:`MAX_CLOCK_AHEAD`; otherwise now."""
    now = utcnow()
    at = parse_epoch_ms(request.form.get("at"))
    return at if at is not None and now - MAX_QUEUED_AGE <= at <= now + MAX_CLOCK_AHEAD else now


def _float(name: str) -> float | None:
    return finite_number(request.form.get(name, "").strip() or None)


def _message(outcome: delivery.Outcome) -> tuple[str, str]:
    """The courier-facing text of an outcome and its flash category."""
    d = outcome.detail
    if outcome.kind == "pick_up":
        parts = []
        if d.get("picked"):
            parts.append(ngettext("Picked up %(num)d parcel.", "Picked up %(num)d parcels.",
                                  len(d["picked"])))
        if d.get("waiting"):
            parts.append(ngettext("%(num)d parcel is not at the hub yet (its drone has not landed).",
                                  "%(num)d parcels are not at the hub yet (their drone has not landed).",
                                  len(d["waiting"])))
        if d.get("skipped"):
            parts.append(ngettext("%(num)d parcel is not to be taken (cancelled or held by someone else).",
                                  "%(num)d parcels are not to be taken (cancelled or held by someone else).",
                                  len(d["skipped"])))
        if not parts:
            parts.append(_("You already carry these parcels."))
        return " ".join(parts), "ok" if d.get("picked") or not parts else "error"
    if outcome.status == "wrong_pin":
        return ngettext("Wrong PIN. %(num)d try left.", "Wrong PIN. %(num)d tries left.",
                        int(d.get("tries_left", 0))), "error"
    if outcome.status == "locked":
        return _("The PIN is locked after too many wrong tries. The hub has been told; please call "
                 "the hub."), "error"
    texts = {
        "deliver": _("Order #%(number)s delivered. Thank you!", number=d.get("number")),
        "handover": _("Order #%(number)s left with the consenting %(to)s.", number=d.get("number"),
                      to=_("neighbour") if d.get("to") == "neighbour" else _("community hall")),
        "fail": _("Recorded: order #%(number)s could not be delivered. Please bring it back to the hub.",
                  number=d.get("number")),
        "return": _("Order #%(number)s is back at the hub.", number=d.get("number")),
        "welfare": _("Your note was sent to the hub."),
    }
    return texts.get(outcome.kind, _("Done.")), "ok"


def _respond(outcome: delivery.Outcome, route_id: str | None, anchor: str = "") -> Any:
    text, category = _message(outcome)
    if _wants_json():
        return jsonify({**outcome.to_json(), "message": text})
    _feedback(text, category, route_id, anchor)
    return _back(route_id, anchor)


#: The session key of an action's outcome, shown once on the route page next to the stop it is about.
FEEDBACK = "courier_feedback"


def _feedback(text: str, category: str, route_id: str | None, anchor: str) -> None:
    """Say how an action went where the courier acted: in the stop's card (the page comes back
    at ``#anchor``), or in the route's summary card; at the top only off the route page."""
    if route_id:
        session[FEEDBACK] = {"at": anchor or "route-summary", "text": text, "category": category}
    else:
        flash(text, category)


def _back(route_id: str | None, anchor: str = "") -> Response:
    if route_id:
        return redirect(url_for("courier.route", route_id=route_id) + (f"#{anchor}" if anchor else ""))
    return redirect(url_for("courier.routes"))


def _run(action: Any, route_id: str | None, anchor: str, what: str) -> Any:
    """Check CSRF, run ``action()`` and answer: outcome, 404 (logged) or the domain's error."""
    if not ActionForm().validate_on_submit():
        if _wants_json():
            return jsonify({"status": "error", "message": _("The form expired. Please try again.")}), 400
        _feedback(_("The form expired. Please try again."), "error", route_id, anchor)
        return _back(route_id, anchor)
    try:
        outcome = action()
    except NotFound:
        return _refused(what)
    except DomainError as error:
        if _wants_json():
            return jsonify({"status": "error", "message": say(error)}), 422
        _feedback(say(error), "error", route_id, anchor)
        return _back(route_id, anchor)
    return _respond(outcome, route_id, anchor)


def _route_of_order() -> str | None:
    """Where to send the courier back after an action: the route page the form was on."""
    return request.form.get("route_id") or None


# --- sign-in ------------------------------------------------------------------------------------


@bp.route("/c/<token>", methods=["GET", "POST"])
@access("public")
@limiter.limit("20 per minute")
def link(token: str) -> Any:
    """The link from the SMS. GET shows a one-button page (SMS apps that preview links must not
    use up a single-use link); the button (pressed by courier.js at once) redeems it."""
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        key = settings().key_for("courier_link")
        volunteer_id = signin.redeem_courier_link(db(), token, key, now=utcnow())
        if volunteer_id is None:
            return render_template("courier/expired.html"), 410
        session.clear()  # a fresh session at sign-in
        session["courier_volunteer_id"] = volunteer_id
        session["courier_session"] = signin.open_session(
            db(), "courier_session", settings().key_for("session"), now=utcnow(), volunteer_id=volunteer_id)
        log.info("courier %s signed in with a link", volunteer_id)
        return redirect(url_for("courier.routes"))
    return render_template("courier/link.html", form=form)


@bp.route("/courier/login/<token>", methods=["GET"])
@access("public")
@limiter.limit("20 per minute")
def link_long(token: str) -> Any:
    """The longer form of the link that confirmed plans send; same page as ``/c/<token>``."""
    return redirect(url_for("courier.link", token=token))


@bp.route("/courier/sign-out", methods=["POST"])
@access("courier")
def sign_out() -> Any:
    if ActionForm().validate_on_submit():
        signin.end_session(db(), "courier_session", session.get("courier_session", ""),
                           settings().key_for("session"), now=utcnow())
        session.clear()
    return render_template("courier/signed_out.html")


# --- pages --------------------------------------------------------------------------------------


@bp.route("/courier/")
@access("courier")
def routes() -> Any:
    try:
        mine = read(courier_read.courier_routes, _volunteer_id())
    except NotFound:
        session.clear()
        return render_template("courier/expired.html"), 410
    return render_template("courier/routes.html", routes=mine, form=ActionForm(),
                           route_state_label=_route_state_label)


@bp.route("/courier/route/<route_id>")
@access("courier")
def route(route_id: str) -> Any:
    volunteer_id = _volunteer_id()
    try:
        current = delivery.resolve_route(db(), volunteer_id, route_id)
    except NotFound:
        return _refused(f"route {route_id}")
    if current is None:
        flash(_("This route was changed by the hub and you have no stops on it any more."), "error")
        return redirect(url_for("courier.routes"))
    if current != route_id:
        flash(_("The hub changed your route. This is the new one."), "ok")
        return redirect(url_for("courier.route", route_id=current))
    with db().read() as s:
        view = courier_read.route_view(s, volunteer_id, route_id)
        line = courier_read.route_line(s, volunteer_id, route_id)
    folium_map = build_map(_map_data(view, line),
                           MapAssets.under(url_for("static", filename="vendor").rstrip("/")),
                           tiles=settings().tiles)
    feedback = session.pop(FEEDBACK, None)
    return render_template("courier/route.html", view=view, map=render_parts(folium_map), form=ActionForm(),
                           feedback=feedback if isinstance(feedback, dict) else None,
                           new_action_id=lambda: secrets.token_urlsafe(16), reasons=_fail_reasons(),
                           position_every_s=POSITION_EVERY_S, state_label=_state_label)


def _state_label(state: str) -> str:
    """An order state in the courier's words."""
    labels = {"planned": _("at the hub"), "dispatched": _("picked up"), "in_transit": _("on board"),
              "delivered": _("delivered"), "failed": _("not delivered"), "returned": _("back at the hub"),
              "confirmed": _("back at the hub"), "cancelled": _("cancelled")}
    return labels.get(state, state)


def _route_state_label(state: str) -> str:
    labels = {"planned": _("to do"), "active": _("under way"), "done": _("done"), "cancelled": _("cancelled")}
    return labels.get(state, state)


def _fail_reasons() -> list[tuple[str, str]]:
    labels = {"nobody_home": _("Nobody home"), "refused": _("Refused"),
              "address_not_found": _("Address not found"), "other": _("Other")}
    return [(code, labels[code]) for code in delivery.FAIL_REASONS]


def _map_data(view: courier_read.RouteView, path: list[list[float]]) -> MapData:
    """The courier's own stops (labelled by stop number and order number only), the hub, the line."""
    points = [PointFeature(s.lon, s.lat, f"{s.seq}. #{s.number}", s.state) for s in view.stops
              if s.kind == "delivery"]
    return MapData(
        center=(view.hub_lat, view.hub_lon),
        hubs=[HubPoint("", view.hub_name, "hub", False, view.hub_lon, view.hub_lat)],
        points=points, points_layer_name=_("Stops"),
        routes=[RouteLine("", view.mode, (path,))] if path else [], zoom=14,
    )


@bp.route("/courier/route/<route_id>/sheet")
@access("courier")
def sheet(route_id: str) -> Any:
    """The courier's own route on paper (the same sheet the hub prints)."""
    found = read(route_sheet, route_id, _volunteer_id())
    if found is None:
        return _refused(f"route sheet {route_id}")
    return render_sheet(found, url_for("courier.route", route_id=route_id))


@bp.route("/courier/sw.js")
@access("public")
def service_worker() -> Any:
    """The courier pages' service worker, served under /courier/ so that its scope covers them
    (``static/courier_sw.js``: the route, stops and queued actions open without signal)."""
    response = current_app.send_static_file("courier_sw.js")
    response.headers["Content-Type"] = "application/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"  # a new version is picked up at the next load
    return response


@bp.route("/courier/token")
@access("courier")
def token() -> Any:
    """A fresh CSRF token, for the offline queue replaying actions after the page's has expired."""
    return jsonify({"csrf_token": generate_csrf()})


# --- actions ------------------------------------------------------------------------------------


@bp.route("/courier/route/<route_id>/pick-up", methods=["POST"])
@access("courier")
def pick_up(route_id: str) -> Any:
    volunteer_id = _volunteer_id()
    order_id = request.form.get("order_id") or None

    def act() -> delivery.Outcome:
        return delivery.pick_up(db(), volunteer_id, request.form.get("action_id", ""), _action_time(),
                                route_id=route_id, order_ids=[order_id] if order_id else None,
                                lon=_float("lon"), lat=_float("lat"))

    return _run(act, route_id, f"order-{order_id}" if order_id else "", f"route {route_id}")


@bp.route("/courier/order/<order_id>/deliver", methods=["POST"])
@access("courier")
def deliver(order_id: str) -> Any:
    volunteer_id = _volunteer_id()

    def act() -> delivery.Outcome:
        return delivery.deliver(db(), volunteer_id, order_id, request.form.get("pin", ""),
                                request.form.get("action_id", ""), _action_time(),
                                lon=_float("lon"), lat=_float("lat"),
                                max_attempts=settings().pin_max_attempts)

    return _run(act, _route_of_order(), f"order-{order_id}", f"order {order_id}")


@bp.route("/courier/order/<order_id>/hand-over", methods=["POST"])
@access("courier")
def hand_over(order_id: str) -> Any:
    volunteer_id = _volunteer_id()

    def act() -> delivery.Outcome:
        return delivery.hand_over(db(), volunteer_id, order_id, request.form.get("to", ""),
                                  request.form.get("action_id", ""), _action_time(),
                                  note=request.form.get("note", ""), lon=_float("lon"), lat=_float("lat"))

    return _run(act, _route_of_order(), f"order-{order_id}", f"order {order_id}")


@bp.route("/courier/order/<order_id>/fail", methods=["POST"])
@access("courier")
def fail(order_id: str) -> Any:
    volunteer_id = _volunteer_id()

    def act() -> delivery.Outcome:
        return delivery.fail(db(), volunteer_id, order_id, request.form.get("reason", ""),
                             request.form.get("action_id", ""), _action_time(),
                             note=request.form.get("note", ""))

    return _run(act, _route_of_order(), f"order-{order_id}", f"order {order_id}")


@bp.route("/courier/order/<order_id>/return", methods=["POST"])
@access("courier")
def return_to_hub(order_id: str) -> Any:
    volunteer_id = _volunteer_id()

    def act() -> delivery.Outcome:
        return delivery.return_to_hub(db(), volunteer_id, order_id, request.form.get("action_id", ""),
                                      _action_time(), lon=_float("lon"), lat=_float("lat"))

    return _run(act, _route_of_order(), f"order-{order_id}", f"order {order_id}")


@bp.route("/courier/order/<order_id>/welfare", methods=["POST"])
@access("courier")
def welfare(order_id: str) -> Any:
    volunteer_id = _volunteer_id()

    def act() -> delivery.Outcome:
        return delivery.welfare_note(db(), volunteer_id, request.form.get("text", ""),
                                     request.form.get("action_id", ""), _action_time(), order_id=order_id)

    return _run(act, _route_of_order(), f"order-{order_id}", f"order {order_id}")


@bp.route("/courier/position", methods=["POST"])
@access("courier")
@json_body
@limiter.limit("10 per minute")
def position() -> Any:
    """The browser's position (JSON ``{"lon", "lat", "accuracy"}``; CSRFProtect checks the
    ``X-CSRFToken`` header before this runs)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify({"status": "error", "message": "expected a JSON object {lon, lat, accuracy}"}), 400
    lon, lat = finite_number(data.get("lon")), finite_number(data.get("lat"))
    accuracy = finite_number(data.get("accuracy"))
    if lon is None or lat is None or (data.get("accuracy") is not None and accuracy is None):
        return jsonify({"status": "error", "message": "lon and lat must be numbers"}), 400
    try:
        delivery.share_position(db(), _volunteer_id(), lon, lat, accuracy, utcnow())
    except DomainError as error:
        return jsonify({"status": "refused", "message": say(error)}), 409
    return jsonify({"status": "ok"})
