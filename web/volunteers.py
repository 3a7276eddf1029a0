"""Volunteers (issue 15, items 3 and 4): the console's week calendar per hub and the month's hours
with their CSV, an operator's record of a volunteer's completed training, and the public page of a
call-out's one-tap link.

The call-out link carries its own signature (:func:`dispatch.services.callouts.callout_token`), so
the volunteer answers without signing in; the page only shows the first name and the shift, and
answers with a POST (CSRF token) so a link preview that fetches the page never answers for them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import DataRequired

from dispatch.errors import DomainError, NotFound
from dispatch.models import TRAINING
from dispatch.read.volunteers import volunteer_week
from dispatch.services import callouts, training, volunteering
from web.context import db, now, read, settings
from web.phrases import say
from web.security import access

bp = Blueprint("volunteers", __name__)


@bp.app_template_filter("weekday_label")
def weekday_label(day: dt.date) -> str:
    """``日 3/8`` / ``Sun 3/8``: a column of the week calendar."""
    return format_date(day, "E M/d")


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        abort(400)


@bp.route("/volunteers")
@access("operator", "admin")
def calendar() -> Any:
    """One hub's week: each volunteer's regular shift, what they texted, and the call-outs."""
    hub_id = request.args.get("hub") or None
    page = read(volunteer_week, current_user.hub_scope, hub_id, _day(request.args.get("week")))
    if hub_id is not None and page.hub_id is None:
        abort(404)  # another hub's volunteers: as if it did not exist
    step = dt.timedelta(days=7)
    records = read(training.records_of, [v.id for v, _cells in page.rows])
    return render_template("volunteers/calendar.html", page=page, previous=page.days[0] - step,
                           next=page.days[0] + step, form=TrainingForm(), records=records)


class TrainingForm(FlaskForm):
    """A completed course and its day (labels translated per request, as in ``PhoneOrderForm``)."""

    course = SelectField("Training", validators=[DataRequired()])
    completed_on = DateField("Completed on", validators=[DataRequired()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course.label.text, self.completed_on.label.text = _("Training"), _("Completed on")
        self.course.choices = [(c, _(c)) for c in TRAINING]
        if self.completed_on.data is None and not self.is_submitted():
            self.completed_on.data = now().date()


@bp.route("/volunteers/<volunteer_id>/training", methods=["POST"])
@access("operator", "admin")
def record_training(volunteer_id: str) -> Any:
    """Record a volunteer's completed training; another hub's volunteer is 404."""
    form = TrainingForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        record = training.record_training(db(), current_user.hub_scope, volunteer_id, form.course.data,
                                          form.completed_on.data, user_id=current_user.user_id, now=now())
    except NotFound:
        abort(404)
    except DomainError as error:
        flash(say(error), "error")
    else:
        flash(_("Training recorded: %(course)s, completed %(day)s.", course=_(record.course),
                day=format_date(record.completed_on)), "ok")
    return redirect(url_for("volunteers.calendar", hub=request.args.get("hub") or None,
                            week=request.args.get("week") or None))


def _month(text: str | None) -> dt.date:
    if not text:
        today = now().date()
        return today.replace(day=1)
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        abort(400)


HOURS_COLUMNS = ("code", "name", "hub", "training", "routes", "hours")


@bp.route("/volunteers/hours")
@access("operator", "planner", "admin")
def hours() -> Any:
    """Hours per volunteer in a month (routes of confirmed plans), on the page or as CSV."""
    month = _month(request.args.get("month"))
    rows = read(volunteering.month_hours, current_user.hub_scope, month)
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HOURS_COLUMNS)
        for r in rows:
            writer.writerow([r.code, r.name, r.hub, " ".join(r.training), r.routes, f"{r.hours:.2f}"])
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=volunteer-hours-{month:%Y-%m}.csv"})
    return render_template("volunteers/hours.html", rows=rows, month=month,
                           total=round(sum(r.hours for r in rows), 2))


class AnswerForm(FlaskForm):
    answer = HiddenField()


@bp.route("/volunteer/callout/<token>", methods=["GET", "POST"])
@access("public")
def callout(token: str) -> Any:
    """The call-out's one-tap page: the shift asked for, and Yes / No."""
    secret = settings().secret_key
    shown = callouts.describe(db(), token, secret)
    if shown is None:
        abort(404)
    form = AnswerForm()
    answered = None
    if request.method == "POST":
        if not form.validate_on_submit() or form.answer.data not in ("yes", "no"):
            abort(400)
        reply = callouts.answer_by_link(db(), token, form.answer.data == "yes", secret, now())
        assert reply is not None
        answered = reply[0]
        shown = callouts.describe(db(), token, secret)
    with force_locale(shown["language"]):
        return render_template("volunteers/callout.html", shown=shown, form=form, answered=answered,
                               title=_("Can you help with deliveries?"))
