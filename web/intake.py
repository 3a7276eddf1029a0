"""Operators' intake tools: phone-proxy order entry, the SMS review queue, the SMS simulator."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from dispatch.demo import simulator_outbox
from dispatch.errors import DomainError, NotFound
from dispatch.read.intake import (
    conversation,
    find_residents,
    resident_brief,
    review_queue,
    simulator_residents,
)
from dispatch.read.people import callers
from dispatch.read.volunteers import simulator_volunteers
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services import ordering
from dispatch.services.review import order_from_review, register_proxy_from_review, resolve_review
from sms.parser import Order as ParsedOrder
from sms.parser import parse as parse_sms
from sms.sender import send_due
from sms.service import receive_sms, render_message
from sms.transports import SimulatorTransport
from web.auth import require_hub
from web.context import db, now, read, settings
from web.forms import choices
from web.phrases import say
from web.security import access

bp = Blueprint("intake", __name__, url_prefix="/intake")
ITEM_ROWS = 6


@bp.app_context_processor
def _simulator_flag() -> dict[str, bool]:
    """Lets console pages (the confirmed plan) point to the simulator's sent texts in a demo."""
    return {"sms_simulated": settings().sms_transport == "simulator"}


class PhoneOrderForm(FlaskForm):
    """Labels and choices are translated when the form is built, i.e. per request in the viewer's
    language (the same effect as ``lazy_gettext``, with ``_()`` so that the catalogue's documented
    ``pybabel extract`` command, which knows only the default keywords, finds the strings)."""

    wish = SelectField("When", default="0:any")
    priority = SelectField("Priority", default="2")
    caller = SelectField("Caller", default="", validate_choice=True)
    needs_training = SelectField("Courier must be trained in", default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wish.label.text, self.priority.label.text = _("When"), _("Priority")
        self.caller.label.text = _("Who is calling")
        self.caller.choices = choices([("", _("the resident"))])
        self.wish.choices = self.wish_choices()
        self.priority.choices = choices([("1", _("1 urgent (medicine)")), ("2", _("2 normal")),
                                         ("3", _("3 low"))])
        self.needs_training.label.text = _("Courier must be trained in")
        self.needs_training.choices = choices([("", _("any courier")), ("medicine", _("medicine")),
                                               ("welfare", _("welfare"))])
        for i in range(ITEM_ROWS):
            self[f"item{i}"].label.text = _("Item")
            self[f"qty{i}"].label.text = _("Quantity")


    @staticmethod
    def wish_choices() -> list[tuple[str, str]]:
        """When the order should come, as the operator picks it (day offset : part of the day)."""
        return choices([
            ("0:any", _("Today")), ("0:morning", _("Today morning")), ("0:afternoon", _("Today afternoon")),
            ("1:any", _("Tomorrow")), ("1:morning", _("Tomorrow morning")),
            ("1:afternoon", _("Tomorrow afternoon"))])


for _i in range(ITEM_ROWS):
    setattr(PhoneOrderForm, f"item{_i}", StringField(validators=[Optional(), Length(max=60)]))
    setattr(PhoneOrderForm, f"qty{_i}", IntegerField(default=1, validators=[Optional(), NumberRange(1, 20)]))


@bp.route("/phone")
@access("operator", "admin")
def phone_search() -> Any:
    query = request.args.get("q", "").strip()
    found = read(find_residents, query, current_user.hub_scope) if query else []
    return render_template("intake/phone_search.html", query=query, found=found)


@bp.route("/phone/<resident_id>", methods=["GET", "POST"])
@access("operator", "admin")
def phone_order(resident_id: str) -> Any:
    brief = read(resident_brief, resident_id)
    require_hub(brief.hub_id if brief else None, f"resident {resident_id}")
    assert brief is not None
    form = PhoneOrderForm()
    form.caller.choices = choices([("", _("the resident")), *(
        (proxy_id, name) for proxy_id, name, _relation in read(callers, resident_id))])
    if form.validate_on_submit():
        items = [ItemRequest(str(getattr(form, f"item{i}").data).strip(), getattr(form, f"qty{i}").data or 1)
                 for i in range(ITEM_ROWS) if (getattr(form, f"item{i}").data or "").strip()]
        day, part = (form.wish.data or "0:any").split(":")
        try:
            placed = ordering.place_order(db(), resident_id, items, channel="phone",
                                          now=dt.datetime.now(dt.UTC), time_wish=TimeWish(int(day), part),
                                          entered_by_user_id=current_user.user_id,
                                          proxy_id=form.caller.data or None,
                                          priority=int(form.priority.data or 2),
                                          needs_training=form.needs_training.data or "")
        except DomainError as error:
            flash(say(error), "error")
        else:
            flash(_("Order #%(number)s placed for %(name)s.", number=placed.number, name=brief.name), "ok")
            return redirect(url_for("intake.phone_search"))
    return render_template("intake/phone_order.html", form=form, resident=brief, rows=ITEM_ROWS,
                           orders=ordering.orders_of(db(), resident_id, limit=5))


class ResolveForm(FlaskForm):
    note = StringField(validators=[Optional(), Length(max=300)])


#: Item rows of the review queue's order form.
REVIEW_ITEM_ROWS = 4


class ReviewOrderForm(FlaskForm):
    """Turn a queued text into the order it asked for: the resident, the items, when."""

    resident_id = SelectField(validators=[DataRequired()])
    wish = SelectField(default="0:any")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resident_id.label.text, self.wish.label.text = _("Resident"), _("When")
        self.wish.choices = PhoneOrderForm.wish_choices()
        for i in range(REVIEW_ITEM_ROWS):
            self[f"item{i}"].label.text = _("Item")
            self[f"qty{i}"].label.text = _("Quantity")


for _i in range(REVIEW_ITEM_ROWS):
    setattr(ReviewOrderForm, f"item{_i}", StringField(validators=[Optional(), Length(max=60)]))
    setattr(ReviewOrderForm, f"qty{_i}", IntegerField(default=1, validators=[Optional(), NumberRange(1, 20)]))


class ReviewProxyForm(FlaskForm):
    """Register the number a queued text came from as a resident's proxy, consent on record."""

    resident_id = SelectField(validators=[DataRequired()])
    name = StringField(validators=[DataRequired(), Length(max=200)])
    relation = SelectField(validators=[DataRequired()])
    consent_note = StringField(validators=[DataRequired(), Length(max=300)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resident_id.label.text, self.name.label.text = _("Resident"), _("Proxy's name")
        self.relation.label.text, self.consent_note.label.text = _("Relation"), _("How the resident agreed")
        self.relation.choices = choices([("family", _("family")), ("welfare", _("welfare worker")),
                                         ("hub_staff", _("hub staff")), ("neighbour", _("neighbour"))])


def _parsed_items(body: str) -> list[tuple[str, int]]:
    """The items a text asked for, as the SMS parser reads them (nothing when it reads no order):
    the review form starts from them, the operator corrects what the parser could not."""
    command = parse_sms(body)
    if isinstance(command, ParsedOrder):
        return [(item.name, item.quantity) for item in command.items][:REVIEW_ITEM_ROWS]
    return []


def _resident_choices() -> list[tuple[str, str]]:
    return [(r.id, f"{r.name} ({r.code})") for r in read(simulator_residents, current_user.hub_scope)]


def _not_accepted(form: FlaskForm) -> Any:
    problems = "; ".join(f"{form[name].label.text}: {', '.join(errors)}"
                         for name, errors in form.errors.items())
    flash(_("The form was not accepted (%(problems)s).", problems=problems), "error")
    return redirect(url_for("intake.review"))


@bp.route("/review")
@access("operator", "admin")
def review() -> Any:
    items = read(review_queue, current_user.hub_scope)
    residents = _resident_choices()
    return render_template("intake/review.html", items=items, form=ResolveForm(), residents=residents,
                           parsed={m.id: _parsed_items(m.body) for m in items}, rows=REVIEW_ITEM_ROWS,
                           wishes=[(c.value, c.label) for c in PhoneOrderForm.wish_choices()],
                           relations=[(c.value, c.label) for c in ReviewProxyForm().relation.choices])


@bp.route("/review/<message_id>/order", methods=["POST"])
@access("operator", "admin")
def review_order(message_id: str) -> Any:
    """One step: the order the text asked for, the resident's confirmation SMS, the text closed."""
    form = ReviewOrderForm()
    form.resident_id.choices = choices(_resident_choices())
    if not form.validate_on_submit():
        return _not_accepted(form)
    items = [ItemRequest(str(form[f"item{i}"].data).strip(), form[f"qty{i}"].data or 1)
             for i in range(REVIEW_ITEM_ROWS) if (form[f"item{i}"].data or "").strip()]
    day, part = (form.wish.data or "0:any").split(":")
    try:
        placed = order_from_review(db(), message_id, current_user.user_id, form.resident_id.data or "",
                                   items, now=now(), hub_ids=current_user.hub_scope,
                                   time_wish=TimeWish(int(day), part))
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(_("Not placed: %(reason)s", reason=say(error)), "error")
    else:
        flash(_("Order #%(number)s placed; the resident is texted and the text is closed.",
                number=placed.number), "ok")
    return redirect(url_for("intake.review"))


@bp.route("/review/<message_id>/proxy", methods=["POST"])
@access("operator", "admin")
def review_proxy(message_id: str) -> Any:
    """One step: the sender's number registered as the chosen resident's proxy, the text closed."""
    form = ReviewProxyForm()
    form.resident_id.choices = choices(_resident_choices())
    if not form.validate_on_submit():
        return _not_accepted(form)
    try:
        register_proxy_from_review(db(), message_id, current_user.user_id, form.resident_id.data or "",
                                   name=form.name.data or "", relation=form.relation.data or "",
                                   consent_note=form.consent_note.data or "", now=now(),
                                   hub_ids=current_user.hub_scope)
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(_("Not registered: %(reason)s", reason=say(error)), "error")
    else:
        flash(_("The number is registered as a proxy; its next texts are understood. The text is closed."),
              "ok")
    return redirect(url_for("intake.review"))


@bp.route("/review/<message_id>", methods=["POST"])
@access("operator", "admin")
def resolve(message_id: str) -> Any:
    form = ResolveForm()
    if not form.validate_on_submit():
        abort(400)
    scope = current_user.hub_scope
    if not resolve_review(db(), message_id, current_user.user_id, form.note.data or "", scope):
        abort(404)
    return redirect(url_for("intake.review"))


#: The simulator's "sent messages" filter: ``?sent=`` → the reply templates it shows (all when empty).
SENT_FILTERS: dict[str, tuple[str, ...]] = {
    "all": (),
    "couriers": ("courier_route_link", "route_changed", "courier_released"),
    "pins": ("order_planned", "order_by_bus", "eta_changed"),
}


def message_kind(template: str) -> str:
    """A short, translated name for the kind of a sent text (its reply template)."""
    kinds = {
        "courier_route_link": _("courier route link"), "route_changed": _("courier route changed"),
        "courier_released": _("courier called off"), "order_planned": _("delivery time and PIN"),
        "order_by_bus": _("bus stop, time and PIN"),
        "eta_changed": _("new delivery time"), "order_received": _("order received"),
        "out_for_delivery": _("out for delivery"), "delivered": _("delivered"),
        "delivery_failed": _("delivery failed"), "login_code": _("sign-in code"),
    }
    return kinds.get(template, template.replace("_", " "))


class SimulatorForm(FlaskForm):
    phone = SelectField("From", validators=[DataRequired()])
    body = TextAreaField("Message", validators=[DataRequired(), Length(max=1600)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phone.label.text, self.body.label.text = _("From"), _("Message")  # see PhoneOrderForm


@bp.route("/simulator", methods=["GET", "POST"])
@access("operator", "admin")
def simulator() -> Any:
    """Text as a resident would (demo and training); replies appear as the resident sees them.

    Below the conversation, every text the simulator transport has sent to the operator's hubs
    (courier route links, residents' delivery PINs, …), so a trainer can open a courier's link and
    read a resident's PIN the way their phones would show them.

    Only with the simulator transport: on a console that sends real SMS, a simulated text would
    reach a real resident's phone, and draining the outbox here would mark real residents' queued
    texts as sent without sending them."""
    if settings().sms_transport != "simulator":
        return render_template("intake/simulator_off.html", transport=settings().sms_transport), 409
    residents = read(simulator_residents, current_user.hub_scope)
    form = SimulatorForm()
    helpers = read(simulator_volunteers, current_user.hub_scope)
    form.phone.choices = choices([(r.phone, f"{r.code} · {r.name} ({r.phone})") for r in residents] + [
        (phone, f"{code} · {name} ({phone}) · " + _("volunteer")) for phone, code, name in helpers] + [
        ("+819099990000", _("An unknown number") + " (+819099990000)")])
    if request.method == "GET" and request.args.get("phone") in {c.value for c in form.phone.choices}:
        form.phone.data = request.args["phone"]  # only a number the operator may pick: no other thread
    if form.validate_on_submit():
        receive_sms(db(), "simulator", None, form.phone.data or "", form.body.data or "",
                    dt.datetime.now(dt.UTC), settings=settings())
        send_due(db(), SimulatorTransport())  # the simulator "delivers" at once
        return redirect(url_for("intake.simulator", phone=form.phone.data))
    shown_kind = request.args.get("sent", "all") if request.args.get("sent") in SENT_FILTERS else "all"
    thread = read(conversation, form.phone.data) if form.phone.data else []
    shown = [(m, m.body or render_message(m.template, m.language, m.params, m.timezone)) for m in thread]
    return render_template("intake/simulator.html", form=form, thread=shown,
                           sent=simulator_outbox(db(), current_user.hub_scope, SENT_FILTERS[shown_kind]),
                           sent_filter=shown_kind, message_kind=message_kind)
