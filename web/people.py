"""A resident's people page for phone-order operators: proxies with the consent record (register,
edit, revoke), standing orders (set, pause, resume, stop), and who ordered what for the resident."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from dispatch.errors import DomainError
from dispatch.models.standing import STANDING_STATES
from dispatch.read.intake import resident_brief
from dispatch.read.people import people_page
from dispatch.requests import ItemRequest
from dispatch.services import proxies, standing
from dispatch.services.standing import MAX_EVERY_WEEKS
from web.auth import require_hub
from web.context import db, now, read
from web.forms import choices
from web.phrases import say
from web.security import access

bp = Blueprint("people", __name__, url_prefix="/intake/people")
STANDING_ROWS = 3


def relation_choices() -> list[tuple[str, str]]:
    return [
        ("family", _("family")),
        ("welfare", _("welfare worker")),
        ("hub_staff", _("hub staff")),
        ("neighbour", _("neighbour")),
    ]


def method_choices() -> list[tuple[str, str]]:
    return [("in_person", _("in person")), ("paper", _("paper form")), ("phone", _("by phone"))]


def weekday_choices() -> list[tuple[str, str]]:
    return [
        ("0", _("Monday")),
        ("1", _("Tuesday")),
        ("2", _("Wednesday")),
        ("3", _("Thursday")),
        ("4", _("Friday")),
        ("5", _("Saturday")),
        ("6", _("Sunday")),
    ]


def part_choices() -> list[tuple[str, str]]:
    return [
        ("any", _("Any time")),
        ("morning", _("Morning")),
        ("afternoon", _("Afternoon")),
        ("evening", _("Evening")),
    ]


class ProxyForm(FlaskForm):
    """A proxy and the resident's consent, as the operator records it."""

    name = StringField(validators=[DataRequired(), Length(max=200)])
    phone = StringField(validators=[DataRequired(), Length(max=20)])
    relation = SelectField(validators=[DataRequired()])
    consented_by = StringField(validators=[DataRequired(), Length(max=200)])
    consent_method = SelectField(validators=[DataRequired()])
    consented_on = DateField(validators=[DataRequired()])
    ordering = BooleanField(default=True)
    receiving = BooleanField()
    note = StringField(validators=[Optional(), Length(max=300)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name.label.text, self.phone.label.text = _("Proxy's name"), _("Proxy's phone")
        self.relation.label.text = _("Relation")
        self.consented_by.label.text = _("Who consented")
        self.consent_method.label.text = _("How consent was given")
        self.consented_on.label.text = _("Consent given on")
        self.ordering.label.text, self.receiving.label.text = _("May order"), _("May receive parcels")
        self.note.label.text = _("Note")
        self.relation.choices = choices(relation_choices())
        self.consent_method.choices = choices(method_choices())


class StandingForm(FlaskForm):
    """A standing order's terms; ``resident`` is used on the residents' page (a proxy's choice)."""

    resident = SelectField(validators=[Optional()], validate_choice=False, choices=[])
    weekday = SelectField(validators=[DataRequired()])
    every_weeks = IntegerField(default=1, validators=[DataRequired(), NumberRange(1, MAX_EVERY_WEEKS)])
    part = SelectField(default="any")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.weekday.label.text, self.every_weeks.label.text = _("Weekday"), _("Every N weeks")
        self.part.label.text, self.resident.label.text = _("When"), _("Order for")
        self.weekday.choices, self.part.choices = choices(weekday_choices()), choices(part_choices())
        for i in range(STANDING_ROWS):
            self[f"item{i}"].label.text, self[f"qty{i}"].label.text = _("Item"), _("Quantity")

    def terms(self) -> dict[str, Any]:
        """The standing order as :func:`dispatch.services.standing.create` takes it."""
        items = [
            ItemRequest(str(self[f"item{i}"].data).strip(), self[f"qty{i}"].data or 1)
            for i in range(STANDING_ROWS)
            if (self[f"item{i}"].data or "").strip()
        ]
        return {
            "items": items,
            "weekday": int(self.weekday.data or 0),
            "every_weeks": self.every_weeks.data or 1,
            "part": self.part.data or "any",
        }


for _i in range(STANDING_ROWS):
    setattr(StandingForm, f"item{_i}", StringField(validators=[Optional(), Length(max=60)]))
    setattr(StandingForm, f"qty{_i}", IntegerField(default=1, validators=[Optional(), NumberRange(1, 20)]))


class ActionForm(FlaskForm):
    pass


def _resident(resident_id: str) -> Any:
    brief = read(resident_brief, resident_id)
    require_hub(brief.hub_id if brief else None, f"resident {resident_id}")
    return brief


def _page(resident_id: str, form: ProxyForm | None = None, standing_form: StandingForm | None = None) -> Any:
    brief = _resident(resident_id)
    page = read(people_page, resident_id, now())
    return render_template(
        "people/resident.html",
        resident=brief,
        page=page,
        form=form or ProxyForm(),
        standing_form=standing_form or StandingForm(),
        action=ActionForm(),
        edit_forms={
            p.id: ProxyForm(prefix=f"p{p.id}", data=_proxy_data(p)) for p in page.proxies if p.active
        },
        rows=STANDING_ROWS,
        weekdays=dict(weekday_choices()),
        parts=dict(part_choices()),
        relations=dict(relation_choices()),
        methods=dict(method_choices()),
    )


def _proxy_data(p: Any) -> dict[str, Any]:
    return {
        "name": p.name,
        "phone": p.phone,
        "relation": p.relation,
        "consented_by": p.consented_by,
        "consent_method": p.consent_method,
        "consented_on": p.consented_at.date(),
        "ordering": p.ordering,
        "receiving": p.receiving,
        "note": p.note,
    }


def _save(resident_id: str, form: ProxyForm, proxy_id: str | None) -> bool:
    consent = proxies.Consent(
        consented_by=form.consented_by.data or "",
        method=form.consent_method.data or "",
        at=dt.datetime.combine(form.consented_on.data, dt.time(12), get_timezone()),  # type: ignore[arg-type]
        ordering=bool(form.ordering.data),
        receiving=bool(form.receiving.data),
        note=form.note.data or "",
    )
    try:
        proxies.register(
            db(),
            resident_id,
            name=form.name.data or "",
            phone=(form.phone.data or "").strip(),
            relation=form.relation.data or "",
            consent=consent,
            user_id=current_user.user_id,
            now=now(),
            hub_ids=current_user.hub_scope,
            proxy_id=proxy_id,
        )
    except DomainError as error:
        flash(say(error), "error")
        return False
    return True


@bp.route("/<resident_id>", methods=["GET", "POST"])
@access("operator", "admin")
def resident(resident_id: str) -> Any:
    """The page; a POST registers a new proxy (the resident and the proxy are texted)."""
    _resident(resident_id)
    form = ProxyForm()
    if form.validate_on_submit() and _save(resident_id, form, None):
        flash(_("Proxy registered; the resident and the proxy have been texted."), "ok")
        return redirect(url_for("people.resident", resident_id=resident_id))
    return _page(resident_id, form=form)


@bp.route("/<resident_id>/proxies/<proxy_id>", methods=["POST"])
@access("operator", "admin")
def edit_proxy(resident_id: str, proxy_id: str) -> Any:
    _resident(resident_id)
    form = ProxyForm(prefix=f"p{proxy_id}")
    if not form.validate_on_submit():
        flash(
            _(
                "The form was not accepted (%(problems)s).",
                problems="; ".join(
                    f"{form[name].label.text}: {', '.join(errors)}" for name, errors in form.errors.items()
                ),
            ),
            "error",
        )
    elif _save(resident_id, form, proxy_id):
        flash(_("Proxy updated."), "ok")
    return redirect(url_for("people.resident", resident_id=resident_id))


@bp.route("/<resident_id>/proxies/<proxy_id>/revoke", methods=["POST"])
@access("operator", "admin")
def revoke_proxy(resident_id: str, proxy_id: str) -> Any:
    _resident(resident_id)
    if ActionForm().validate_on_submit():
        try:
            proxies.revoke_proxy(
                db(),
                resident_id,
                proxy_id,
                user_id=current_user.user_id,
                now=now(),
                hub_ids=current_user.hub_scope,
            )
        except DomainError as error:
            flash(say(error), "error")
        else:
            flash(_("Proxy revoked; the resident and the proxy have been texted."), "ok")
    return redirect(url_for("people.resident", resident_id=resident_id))


@bp.route("/<resident_id>/standing", methods=["POST"])
@access("operator", "admin")
def set_standing(resident_id: str) -> Any:
    """An operator sets a standing order for the resident (e.g. after a phone call)."""
    _resident(resident_id)
    form = StandingForm()
    if not form.validate_on_submit():
        return _page(resident_id, standing_form=form)
    try:
        standing.create(
            db(),
            resident_id,
            **form.terms(),
            channel="phone",
            now=now(),
            user_id=current_user.user_id,
            hub_ids=current_user.hub_scope,
        )
    except DomainError as error:
        flash(say(error), "error")
        return _page(resident_id, standing_form=form)
    flash(_("Standing order set; the resident has been texted."), "ok")
    return redirect(url_for("people.resident", resident_id=resident_id))


@bp.route("/<resident_id>/standing/<standing_id>/<state>", methods=["POST"])
@access("operator", "admin")
def standing_state(resident_id: str, standing_id: str, state: str) -> Any:
    """Pause (``paused``), resume (``active``) or stop (``stopped``) one standing order."""
    _resident(resident_id)
    if state not in STANDING_STATES:
        abort(404)
    if ActionForm().validate_on_submit():
        standing.update_state(
            db(), resident_id, standing_id, state, now=now(), hub_ids=current_user.hub_scope
        )
        flash(
            {
                "active": _("Standing order resumed."),
                "paused": _("Standing order paused."),
                "stopped": _("Standing order stopped."),
            }[state],
            "ok",
        )
    return redirect(url_for("people.resident", resident_id=resident_id))
