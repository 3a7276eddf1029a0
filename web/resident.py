"""Residents' (and their proxies') ordering page: phone number + one-time SMS code, then a very
simple form. Large text, no JavaScript, works on small old browsers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from dispatch.errors import DomainError
from dispatch.read.resident import hub_card, hub_phones
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services import ordering, signin
from web.context import db, now, read, settings
from web.extensions import limiter
from web.forms import choices
from web.phrases import say
from web.security import access

bp = Blueprint("resident", __name__, url_prefix="/order")
ITEM_ROWS = 5
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalize_phone(raw: str) -> str:
    """Accept what people type (0x0-xxxx-xxxx, spaces, full-width digits) and return E.164 (+81)."""
    import unicodedata

    digits = re.sub(r"[^\d+]", "", unicodedata.normalize("NFKC", raw))
    if digits.startswith("0") and not digits.startswith("00"):
        digits = "+81" + digits[1:]
    elif digits.startswith("00"):
        digits = "+" + digits[2:]
    return digits


class PhoneForm(FlaskForm):
    phone = StringField("Phone number", validators=[DataRequired(), Length(max=30)])


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$")])


class OrderForm(FlaskForm):
    resident = SelectField("For", validators=[DataRequired()])
    wish = SelectField("When", choices=choices([("0:any", "Today, any time")]), default="0:any")


for _i in range(ITEM_ROWS):
    setattr(OrderForm, f"item{_i}", StringField(f"Item {_i + 1}", validators=[Optional(), Length(max=60)]))
    setattr(OrderForm, f"qty{_i}", IntegerField(f"Quantity {_i + 1}", default=1,
                                                validators=[Optional(), NumberRange(1, 20)]))


class CancelForm(FlaskForm):
    pass


def _wish_choices(today_closed: bool) -> list[tuple[str, str]]:
    """When the order should come. After the hub's last cutoff (at night) tomorrow comes first and
    is the default: an order placed then cannot come today (the service would move a "today" wish
    to the next delivery day anyway, so the today choices stay valid)."""
    today = [("0:any", _("Today, any time")), ("0:morning", _("Today morning")),
             ("0:afternoon", _("Today afternoon"))]
    tomorrow = [("1:any", _("Tomorrow, any time")), ("1:morning", _("Tomorrow morning")),
                ("1:afternoon", _("Tomorrow afternoon"))]
    return tomorrow + today if today_closed else today + tomorrow


@bp.app_template_filter("national_phone")
def national_phone(e164: str) -> str:
    """A Japanese number as people write it (+815000000002 → 050-0000-0002, +81796520000 →
    0796-52-0000); other numbers as stored."""
    if not e164.startswith("+81"):
        return e164
    digits = "0" + e164[3:]
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    return digits


@bp.app_template_filter("order_day")
def order_day(at: dt.datetime | None, tz: Any) -> str:
    """The delivery day of an order as a resident reads it: ``12月9日(水)`` / ``Wed, Dec 9``."""
    if at is None:
        return ""
    locale = get_locale()
    pattern = "M月d日(E)" if locale is None or locale.language == "ja" else "EEE, MMM d"
    return format_date(at.astimezone(tz).date(), pattern)


def _add_item(form: OrderForm, name: str) -> None:
    """A common-item button: one more of it if listed, else into the first empty row."""
    rows = [(form[f"item{i}"], form[f"qty{i}"]) for i in range(ITEM_ROWS)]
    for item, qty in rows:
        if (item.data or "").strip() == name:
            count = min((qty.data or 1) + 1, 20)
            qty.data, qty.raw_data = count, [str(count)]  # a number field renders what was typed
            return
    for item, qty in rows:
        if not (item.data or "").strip():
            item.data, qty.data, qty.raw_data = name, 1, ["1"]
            return


@bp.route("/sign-in", methods=["GET", "POST"])
@access("public")
@limiter.limit("5 per minute; 20 per hour", methods=["POST"])
def sign_in() -> Any:
    form = PhoneForm()
    if form.validate_on_submit():
        phone = normalize_phone(form.phone.data or "")
        if not E164.match(phone):
            flash(_("Please enter your phone number, e.g. 090-1234-5678."), "error")
        else:
            signin.issue_login_code(db(), phone, settings().key_for("login_code"),
                                    settings().login_code_ttl_s, now=dt.datetime.now(dt.UTC))
            session["pending_phone"] = phone
            return redirect(url_for("resident.enter_code"))
    return render_template("resident/sign_in.html", form=form, hubs=read(hub_phones))


@bp.route("/code", methods=["GET", "POST"])
@access("public")
@limiter.limit("10 per minute", methods=["POST"])
def enter_code() -> Any:
    phone = session.get("pending_phone")
    if not phone:
        return redirect(url_for("resident.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        if signin.verify_login_code(db(), phone, form.code.data or "", settings().key_for("login_code"),
                                    now=dt.datetime.now(dt.UTC)):
            session.clear()  # new session at sign-in
            session["resident_phone"] = phone
            session["resident_session"] = signin.open_session(
                db(), "resident_session", settings().key_for("session"), now=dt.datetime.now(dt.UTC),
                phone=phone)
            return redirect(url_for("resident.home"))
        flash(_("That code is not valid. Check the SMS or ask for a new code."), "error")
    return render_template("resident/code.html", form=form)


def principals() -> list[signin.Principal]:
    """Whom the signed-in phone may order for: the resident, or the residents of its proxies."""
    with db().read() as s:
        return signin.principals_for_phone(s, session["resident_phone"])


@bp.route("/", methods=["GET", "POST"])
@access("resident")
def home() -> Any:
    people = principals()
    if not people:
        session.clear()
        return redirect(url_for("resident.sign_in"))
    form = OrderForm()
    form.resident.choices = choices((p.resident_id, p.resident_name) for p in people)  # no codes
    locale = get_locale()
    card = read(hub_card, people[0].resident_id, locale.language if locale else "ja", now())
    form.wish.choices = choices(_wish_choices(card.today_closed))
    if request.method == "GET":
        form.wish.data = "1:any" if card.today_closed else "0:any"
    added = request.form.get("add_item", "").strip()
    if added and form.is_submitted():
        if added in card.common_items:
            _add_item(form, added)
        history = {p.resident_id: ordering.orders_of(db(), p.resident_id) for p in people}
        return render_template("resident/home.html", form=form, people=people, history=history,
                               cancel_form=CancelForm(), card=card, adding=True)
    if form.validate_on_submit():
        chosen = next(p for p in people if p.resident_id == form.resident.data)
        items = [ItemRequest(str(getattr(form, f"item{i}").data).strip(), getattr(form, f"qty{i}").data or 1)
                 for i in range(ITEM_ROWS) if (getattr(form, f"item{i}").data or "").strip()]
        day, part = (form.wish.data or "0:any").split(":")
        if not items:  # asked in the resident's language rather than with the domain's message
            flash(_("What do you need?"), "error")
        else:
            try:
                placed = ordering.place_order(
                    db(), chosen.resident_id, items, channel="proxy" if chosen.proxy_id else "web",
                    now=now(), time_wish=TimeWish(int(day), part), proxy_id=chosen.proxy_id)
            except DomainError as error:
                flash(say(error), "error")
            else:
                flash(_("Order #%(number)s received. We will text you the delivery time.",
                        number=placed.number), "ok")
                return redirect(url_for("resident.home"))
    history = {p.resident_id: ordering.orders_of(db(), p.resident_id) for p in people}
    return render_template("resident/home.html", form=form, people=people, history=history,
                           cancel_form=CancelForm(), card=card, adding=False)


@bp.route("/<order_id>/cancel", methods=["POST"])
@access("resident")
def cancel(order_id: str) -> Any:
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    people = principals()
    for person in people:
        try:
            done = ordering.cancel_order(db(), order_id, "cancelled on the web", settings(),
                                         now=dt.datetime.now(dt.UTC), resident_id=person.resident_id)
        except DomainError:
            continue
        flash(_("Order cancelled.") if done else _("This order is already on its way and can no "
                                                    "longer be cancelled. Please call the hub."),
              "ok" if done else "error")
        return redirect(url_for("resident.home"))
    abort(404)


@bp.route("/sign-out", methods=["POST"])
@access("resident")
def sign_out() -> Any:
    if not CancelForm().validate_on_submit():
        abort(400)
    signin.end_session(db(), "resident_session", session.get("resident_session", ""),
                       settings().key_for("session"), now=dt.datetime.now(dt.UTC))
    session.clear()
    return redirect(url_for("resident.sign_in"))
