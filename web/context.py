"""Per-app Hakobu state (settings and database) and accessors for views, including :func:`read`,
through which views call the read models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from flask import current_app
from sqlalchemy.orm import Session

from dispatch.config import Settings
from dispatch.db import Database


@dataclass
class Hakobu:
    settings: Settings
    db: Database
    clock: Callable[[], dt.datetime]


def hakobu() -> Hakobu:
    state: Hakobu = current_app.extensions["hakobu"]
    return state


def db() -> Database:
    return hakobu().db


def settings() -> Settings:
    return hakobu().settings


P = ParamSpec("P")
T = TypeVar("T")


def read(read_model: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a read model of :mod:`dispatch.read` in a read session of its own: a view's whole
    access to the database for showing a page, e.g. ``read(plan_rows, current_user.hub_scope)``."""
    with db().read() as session:
        return read_model(session, *args, **kwargs)
def now() -> dt.datetime:
    """The app's clock (aware UTC): the real one, or the fixed day a test plays."""
    return hakobu().clock()
