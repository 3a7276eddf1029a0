"""Standing orders on the residents' page (``/order/regular``): the resident, or a proxy signed in
with their own phone, sets one (items, weekday, every N weeks, part of the day) and pauses,
resumes or stops it. A separate small page, so the ordering form stays as simple as it is."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from dispatch.errors import DomainError
from dispatch.models.standing import STANDING_STATES
from dispatch.read.people import standing_for
from dispatch.services import standing
from web.context import db, now, read
from web.forms import choices
from web.people import STANDING_ROWS, ActionForm, StandingForm, part_choices, weekday_choices
from web.phrases import say
from web.resident import principals
from web.security import access

bp = Blueprint("regular", __name__, url_prefix="/order/regular")


@bp.route("/", methods=["GET", "POST"])
@access("resident")
def index() -> Any:
    people = principals()
    if not people:
        return redirect(url_for("resident.sign_in"))
    form = StandingForm()
    form.resident.choices = choices((p.resident_id, p.resident_name) for p in people)
    if form.validate_on_submit():
        chosen = next((p for p in people if p.resident_id == form.resident.data), None)
        if chosen is None:
            abort(400)
        try:
            standing.create(
                db(),
                chosen.resident_id,
                **form.terms(),
                channel="proxy" if chosen.proxy_id else "web",
                now=now(),
                proxy_id=chosen.proxy_id,
            )
        except DomainError as error:
            flash(say(error), "error")
        else:
            flash(_("Standing order set. We will text you the day before each delivery."), "ok")
            return redirect(url_for("regular.index"))
    rows = {p.resident_id: read(standing_for, p.resident_id, now()) for p in people}
    return render_template(
        "resident/regular.html",
        form=form,
        people=people,
        rows=rows,
        action=ActionForm(),
        items=STANDING_ROWS,
        weekdays=dict(weekday_choices()),
        parts=dict(part_choices()),
    )


@bp.route("/<resident_id>/<standing_id>/<state>", methods=["POST"])
@access("resident")
def change(resident_id: str, standing_id: str, state: str) -> Any:
    if state not in STANDING_STATES or resident_id not in {p.resident_id for p in principals()}:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    standing.update_state(db(), resident_id, standing_id, state, now=now())
    flash(
        {
            "active": _("Standing order resumed."),
            "paused": _("Standing order paused."),
            "stopped": _("Standing order stopped."),
        }[state],
        "ok",
    )
    return redirect(url_for("regular.index"))
