"""The permits page (issue 14, item 1): a hub's operators list, add and edit its MLIT permits
(flask-wtf form with CSRF; operators and admins; an operator sees and edits only their hubs')."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

import routing
from dispatch.errors import DomainError
from dispatch.localtime import console_timezone
from dispatch.read.permits import PermitRow, hub_choices, permit_rows
from dispatch.services.permits import PermitInput, save_permit
from web.auth import require_hub
from web.context import db, now, read
from web.phrases import say
from web.security import access

bp = Blueprint("permits", __name__, url_prefix="/permits")


class PermitForm(FlaskForm):
    hub_id = HiddenField(validators=[DataRequired(), Length(max=64)])
    number = StringField(validators=[DataRequired(), Length(max=100)])
    holder = StringField(validators=[Optional(), Length(max=200)])
    valid_from = DateField(validators=[InputRequired()])
    valid_until = DateField(validators=[InputRequired()])
    categories = SelectMultipleField(
        choices=[SelectChoice(c, c) for c in routing.CATEGORIES], validators=[DataRequired()]
    )
    drones = StringField(validators=[DataRequired(), Length(max=500)])  # space-separated codes
    pilots = StringField(validators=[DataRequired(), Length(max=1000)])  # ";"-separated names
    zones = StringField(validators=[DataRequired(), Length(max=1000)])  # space-separated identifiers
    notes = TextAreaField(validators=[Optional(), Length(max=2000)])

    def data_in(self) -> PermitInput:
        return PermitInput(
            number=self.number.data or "",
            valid_from=self.valid_from.data,
            valid_until=self.valid_until.data,
            categories=list(self.categories.data or []),
            drones=(self.drones.data or "").split(),
            pilots=[p for p in (self.pilots.data or "").split(";") if p.strip()],
            zones=(self.zones.data or "").split(),
            holder=self.holder.data or "",
            notes=self.notes.data or "",
        )


def _today() -> Any:
    return now().astimezone(console_timezone(db(), current_user.hub_scope)).date()


def _page(form: PermitForm, editing: PermitRow | None = None) -> Any:
    return render_template(
        "permits/index.html",
        permits=read(permit_rows, current_user.hub_scope, _today()),
        hubs=read(hub_choices, current_user.hub_scope),
        form=form,
        editing=editing,
        categories=routing.CATEGORIES,
    )


@bp.route("")
@access("operator", "admin")
def index() -> Any:
    return _page(PermitForm())


def _save(form: PermitForm, permit_id: str | None) -> Any:
    if not form.validate_on_submit():
        flash(_("Please fill in the form: %(fields)s", fields=", ".join(form.errors)), "error")
        return None
    hub_id = require_hub(form.hub_id.data or None, "hub")
    try:
        save_permit(db(), hub_id, form.data_in(), permit_id)
    except DomainError as error:
        flash(say(error), "error")
        return None
    flash(_("Permit %(number)s saved.", number=form.number.data), "ok")
    return redirect(url_for("permits.index"))


@bp.route("/new", methods=["POST"])
@access("operator", "admin")
def create() -> Any:
    form = PermitForm()
    return _save(form, None) or _page(form)


def _visible(permit_id: str) -> PermitRow:
    row = next((r for r in read(permit_rows, current_user.hub_scope, _today()) if r.id == permit_id), None)
    if row is None:
        abort(404)
    return row


@bp.route("/<permit_id>")
@access("operator", "admin")
def edit(permit_id: str) -> Any:
    row = _visible(permit_id)
    form = PermitForm(
        hub_id=row.hub_id,
        number=row.number,
        holder=row.holder,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        categories=list(row.categories),
        drones=" ".join(row.drones),
        pilots="; ".join(row.pilots),
        zones=" ".join(row.zones),
        notes=row.notes,
    )
    return _page(form, row)


@bp.route("/<permit_id>/save", methods=["POST"])
@access("operator", "admin")
def update(permit_id: str) -> Any:
    row = _visible(permit_id)
    form = PermitForm()
    if form.hub_id.data != row.hub_id:
        abort(404)
    return _save(form, permit_id) or _page(form, row)
