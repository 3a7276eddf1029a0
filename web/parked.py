"""Parked orders: what Hakobu could not deliver by itself, for an operator to resolve (issue 13).

An order is parked (:mod:`dispatch.services.continuity`) after too many days carried over or too
many failed attempts at the door. The page lists the parked orders of the operator's hubs with the
reason, the resident's name and phone (to call them), and two actions: put it back into the queue
(carried to the hub's next delivery day, the resident told the day) or cancel it with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from dispatch.errors import DomainError, NotFound
from dispatch.models import utcnow
from dispatch.read.parked import parked_orders
from dispatch.services import continuity
from web.context import db, read, settings
from web.phrases import say
from web.security import access

bp = Blueprint("parked", __name__, url_prefix="/orders/parked")


class ParkedForm(FlaskForm):
    order_id = HiddenField(validators=[DataRequired(), Length(max=64)])


class CancelParkedForm(ParkedForm):
    reason = StringField(validators=[DataRequired(), Length(max=500)])


def _scope() -> frozenset[str] | None:
    scope = current_user.hub_scope
    return None if scope is None else frozenset(scope)


@bp.route("")
@access("operator", "admin")
def index() -> Any:
    return render_template("parked/index.html", rows=read(parked_orders, current_user.hub_scope),
                           form=ParkedForm(), cancel_form=CancelParkedForm())


def _resolve(action: Callable[[], int], done: Callable[[int], str]) -> Any:
    """Run one resolution of a parked order and say how it went: 404 for an order outside the
    operator's hubs (never confirming it exists), the refusal for one that is no longer parked."""
    try:
        number = action()
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(say(error), "error")
    else:
        flash(done(number), "ok")
    return redirect(url_for("parked.index"))


@bp.route("/requeue", methods=["POST"])
@access("operator", "admin")
def requeue() -> Any:
    form = ParkedForm()
    if not form.validate_on_submit():
        abort(400)
    return _resolve(lambda: continuity.requeue_parked(db(), form.order_id.data or "", hub_ids=_scope(),
                                                      now=utcnow(), settings=settings()),
                    lambda n: _("Order #%(n)s is back in the queue; the resident was told the day.", n=n))


@bp.route("/cancel", methods=["POST"])
@access("operator", "admin")
def cancel() -> Any:
    form = CancelParkedForm()
    if not form.validate_on_submit():
        flash(_("Say why the order is cancelled."), "error")
        return redirect(url_for("parked.index"))
    return _resolve(lambda: continuity.cancel_parked(db(), form.order_id.data or "", form.reason.data or "",
                                                     hub_ids=_scope(), now=utcnow()),
                    lambda n: _("Order #%(n)s cancelled; the resident was told.", n=n))
