"""Hub closures and holidays: days a hub delivers nothing, so standing orders skip them with notice
(issue 15, item 2). Operators close their own hubs; a holiday closes every hub in their scope."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from dispatch.errors import DomainError
from dispatch.read.people import closures
from dispatch.services import standing
from web.context import db, now, read
from web.forms import choices
from web.phrases import say
from web.security import access

bp = Blueprint("closures", __name__, url_prefix="/closures")
ALL = "all"


class ClosureForm(FlaskForm):
    hub = SelectField(validators=[DataRequired()])
    day = DateField(validators=[DataRequired()])
    reason = StringField(validators=[Optional(), Length(max=200)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hub.label.text, self.day.label.text, self.reason.label.text = _("Hub"), _("Day"), _("Reason")


class RemoveForm(FlaskForm):
    pass


@bp.route("/", methods=["GET", "POST"])
@access("operator", "admin")
def index() -> Any:
    """The upcoming closures; a POST closes a hub (or every hub in scope) for a day."""
    hubs, rows = read(closures, current_user.hub_scope, now())
    form = ClosureForm()
    form.hub.choices = choices([(ALL, _("Every hub (a holiday)")), *hubs])
    if form.validate_on_submit():
        chosen = [h for h, _name in hubs] if form.hub.data == ALL else [form.hub.data or ""]
        try:
            added = standing.close_hub_day(
                db(),
                chosen,
                form.day.data,
                form.reason.data or "",  # type: ignore[arg-type]
                user_id=current_user.user_id,
                now=now(),
            )
        except DomainError as error:
            flash(say(error), "error")
        else:
            flash(
                _(
                    "%(n)s hub closure(s) recorded; standing orders that day are skipped with notice.",
                    n=added,
                ),
                "ok",
            )
            return redirect(url_for("closures.index"))
    return render_template("closures/index.html", form=form, rows=rows, remove=RemoveForm())


@bp.route("/<closure_id>/remove", methods=["POST"])
@access("operator", "admin")
def remove(closure_id: str) -> Any:
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        standing.reopen_hub_day(db(), closure_id, hub_ids=current_user.hub_scope)
    except DomainError:
        abort(404)
    flash(_("Closure removed."), "ok")
    return redirect(url_for("closures.index"))
