"""Admin pages for other systems (issue 20): integrations scoped to hubs, their API tokens and
webhook endpoints, and the webhook delivery log.

A new token or endpoint secret is shown once, on the page that answers the POST (never flashed:
the flash would sit in the session cookie), and only its hash or the server-side key stays.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, URLField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from dispatch.errors import DomainError, NotFound
from dispatch.lifecycle import DeliveryState
from dispatch.read.integrations import delivery_log, hub_choices, integration_detail, integration_rows
from dispatch.services import integrations, webhooks
from dispatch.services.webhook_events import EVENT_TYPES
from web.context import db, now, read
from web.forms import choices
from web.security import access

bp = Blueprint("integrations", __name__, url_prefix="/admin/integrations")


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IntegrationForm(FlaskForm):
    name = StringField(validators=[DataRequired(), Length(max=100)])
    hubs = Checkboxes(choices=[], validate_choice=True)


class EndpointForm(FlaskForm):
    url = URLField(validators=[DataRequired(), Length(max=500)])
    events = Checkboxes(choices=choices((e, e) for e in EVENT_TYPES), validate_choice=True)


class ActionForm(FlaskForm):
    """A button: only the CSRF token."""


def _integration_form() -> IntegrationForm:
    form = IntegrationForm()
    form.hubs.choices = choices((h.code, f"{h.name} ({h.code})") for h in read(hub_choices))
    return form


@bp.route("")
@access("admin")
def index() -> Any:
    return render_template("integrations/index.html", rows=read(integration_rows), form=_integration_form())


@bp.route("/new", methods=["POST"])
@access("admin")
def create() -> Any:
    form = _integration_form()
    if not form.validate_on_submit() or not form.hubs.data:
        flash(_("Give the integration a name and at least one hub."), "error")
        return redirect(url_for("integrations.index"))
    try:
        integration_id = integrations.create_integration(db(), form.name.data or "", form.hubs.data,
                                                         now=now(), created_by=current_user.user_id)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for("integrations.index"))
    flash(_("Integration created. Issue it a token below."), "ok")
    return redirect(url_for("integrations.show", integration_id=integration_id))


def _detail_page(integration_id: str, **extra: Any) -> Any:
    detail = read(integration_detail, integration_id)
    if detail is None:
        abort(404)
    return render_template("integrations/show.html", detail=detail, endpoint_form=EndpointForm(),
                           action=ActionForm(), **extra)


@bp.route("/<integration_id>")
@access("admin")
def show(integration_id: str) -> Any:
    return _detail_page(integration_id)


def _checked(form: FlaskForm) -> None:
    if not form.validate_on_submit():
        abort(400)


@bp.route("/<integration_id>/tokens", methods=["POST"])
@access("admin")
def issue_token(integration_id: str) -> Any:
    _checked(ActionForm())
    try:
        issued = integrations.issue_token(db(), integration_id, now=now())
    except NotFound:
        abort(404)
    return _detail_page(integration_id, new_token=issued.secret)


@bp.route("/<integration_id>/tokens/<token_id>/revoke", methods=["POST"])
@access("admin")
def revoke_token(integration_id: str, token_id: str) -> Any:
    _checked(ActionForm())
    try:
        integrations.revoke_token(db(), token_id, now=now(), integration_id=integration_id)
    except NotFound:
        abort(404)
    flash(_("Token revoked: it no longer works."), "ok")
    return redirect(url_for("integrations.show", integration_id=integration_id))


@bp.route("/<integration_id>/active", methods=["POST"])
@access("admin")
def switch(integration_id: str) -> Any:
    _checked(ActionForm())
    active = request.form.get("active") == "on"
    try:
        integrations.set_active(db(), integration_id, active)
    except NotFound:
        abort(404)
    flash(_("Integration switched on.") if active else
          _("Integration switched off: its tokens and webhooks stop."), "ok")
    return redirect(url_for("integrations.show", integration_id=integration_id))


@bp.route("/<integration_id>/endpoints", methods=["POST"])
@access("admin")
def add_endpoint(integration_id: str) -> Any:
    form = EndpointForm()
    if not form.validate_on_submit():
        flash(_("Give the endpoint's URL."), "error")
        return redirect(url_for("integrations.show", integration_id=integration_id))
    try:
        issued = integrations.add_endpoint(db(), integration_id, form.url.data or "", form.events.data or (),
                                           now=now())
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for("integrations.show", integration_id=integration_id))
    return _detail_page(integration_id, new_endpoint_secret=issued.secret)


@bp.route("/<integration_id>/endpoints/<endpoint_id>/remove", methods=["POST"])
@access("admin")
def remove_endpoint(integration_id: str, endpoint_id: str) -> Any:
    _checked(ActionForm())
    try:
        integrations.remove_endpoint(db(), endpoint_id, integration_id=integration_id)
    except NotFound:
        abort(404)
    flash(_("Endpoint removed: nothing more is sent to it."), "ok")
    return redirect(url_for("integrations.show", integration_id=integration_id))


@bp.route("/<integration_id>/deliveries")
@access("admin")
def deliveries(integration_id: str) -> Any:
    detail = read(integration_detail, integration_id)
    if detail is None:
        abort(404)
    state = request.args.get("state")
    if state not in {s.value for s in DeliveryState}:
        state = None
    return render_template("integrations/deliveries.html", detail=detail, state=state,
                           states=[s.value for s in DeliveryState], action=ActionForm(),
                           rows=read(delivery_log, integration_id, state))


@bp.route("/<integration_id>/deliveries/<delivery_id>/retry", methods=["POST"])
@access("admin")
def retry(integration_id: str, delivery_id: str) -> Any:
    _checked(ActionForm())
    try:
        webhooks.send_again(db(), delivery_id, now=now(), integration_id=integration_id)
    except NotFound:
        abort(404)
    except DomainError as error:  # not dead (delivered, or still being retried)
        flash(str(error), "error")
    else:
        flash(_("Delivery queued again."), "ok")
    return redirect(url_for("integrations.deliveries", integration_id=integration_id))
