"""Console sign-in and sign-out (Flask-Login sessions, CSRF-protected form, rate-limited)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from dispatch.models import User
from dispatch.services import users
from web.context import db
from web.extensions import limiter, login_manager
from web.security import access

bp = Blueprint("auth", __name__)


class SessionUser(UserMixin):
    """What the session knows of a console user: id, role, hub scope (a detached snapshot)."""

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

    def may_see_hub(self, hub_id: str) -> bool:
        return self.role in ("admin", "planner") or hub_id in self.hub_ids


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
        user = users.authenticate(db(), form.email.data or "", form.password.data or "")
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
