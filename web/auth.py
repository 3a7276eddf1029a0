"""Console sign-in and sign-out (Flask-Login sessions, CSRF-protected form, rate-limited), and the
signed-in user's hub scope: the one rule of which hubs a console user may see.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from dispatch.models import User
from dispatch.services import users
from web.context import db, settings
from web.extensions import limiter, login_manager
from web.security import access

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

#: Roles that see every hub (planners read the whole region; admins run it). Operators see the
#: hubs they are assigned to.
ALL_HUBS_ROLES = frozenset({"admin", "planner"})


class SessionUser(UserMixin):
    """What the session knows of a console user: id, role, hub scope (a detached snapshot).

    The hub scope is decided here and nowhere else: every blueprint filters lists with
    :attr:`hub_scope` and checks one object with :meth:`may_see_hub` (or :func:`require_hub`).
    """

    def __init__(self, user: User) -> None:
        self.user_id = user.id
        self.nonce = user.session_nonce
        self.email = user.email
        self.name = user.name
        self.role = user.role
        self.language = user.language
        self.hub_ids = frozenset(h.id for h in user.hubs)

    def get_id(self) -> str:
        return f"{self.user_id}:{self.nonce}"

    @property
    def sees_all_hubs(self) -> bool:
        return self.role in ALL_HUBS_ROLES

    @property
    def hub_scope(self) -> set[str] | None:
        """The hubs whose data this user may see, as the read models and services take it:
        ``None`` means every hub (planners and admins), else (a copy of) the operator's own hubs."""
        return None if self.sees_all_hubs else set(self.hub_ids)

    def may_see_hub(self, hub_id: str | None) -> bool:
        """Whether one object of ``hub_id`` is visible to this user (``None``: no such object)."""
        return hub_id is not None and self.may_see_any((hub_id,))

    def may_see_any(self, hub_ids: Collection[str]) -> bool:
        """Whether an object belonging to ``hub_ids`` (a zone: every hub of its region) is visible."""
        return self.sees_all_hubs or not self.hub_ids.isdisjoint(hub_ids)


def require_hub(hub_id: str | None, what: str) -> str:
    """``hub_id`` when the signed-in user may see it; otherwise 404, as if ``what`` did not exist."""
    require_any_hub(None if hub_id is None else (hub_id,), what)
    assert hub_id is not None
    return hub_id


def require_any_hub(hub_ids: Collection[str] | None, what: str) -> None:
    """404 unless ``what`` exists (``hub_ids`` is not None) and the signed-in user may see one of
    its hubs. Another hub's object is logged (user and object ids only) and answered exactly like a
    missing one, so an operator never learns that another hub's plan, order or drone exists."""
    if hub_ids is not None and current_user.may_see_any(hub_ids):
        return
    if hub_ids is not None:
        log.warning("user %s asked for %s of another hub", current_user.user_id, what)
    abort(404)


@login_manager.user_loader
def _load(session_id: str) -> SessionUser | None:
    user_id, _sep, nonce = session_id.partition(":")
    user = users.load_session_user(db(), user_id, nonce)
    return SessionUser(user) if user else None


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("console.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@access("public")
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        config = settings()
        user = users.authenticate(db(), form.email.data or "", form.password.data or "",
                                  lock_after=config.login_lockout_after,
                                  lock_for=dt.timedelta(minutes=config.login_lockout_min))
        if user is not None:
            session.clear()  # a fresh session at login (no fixation)
            login_user(SessionUser(user))
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 401


@bp.route("/logout", methods=["POST"])
@access("operator", "planner", "admin")
def logout() -> Any:
    users.end_sessions(db(), current_user.user_id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
