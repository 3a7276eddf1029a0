"""Per-app Hakobu state (settings and database) and accessors for views."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from dispatch.config import Settings
from dispatch.db import Database


@dataclass
class Hakobu:
    settings: Settings
    db: Database


def hakobu() -> Hakobu:
    state: Hakobu = current_app.extensions["hakobu"]
    return state


def db() -> Database:
    return hakobu().db


def settings() -> Settings:
    return hakobu().settings
