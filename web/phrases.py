"""The domain's phrases (``dispatch.phrases``) in the viewer's language: :func:`say`.

The key is looked up in the catalogue; parameters that are datetimes are shown in the region's
time (Flask-Babel's timezone is the region's), parameters named as terms (``state``, ``mode``,
``reason``…) are translated as words, and the others are filled in as they are. Templates use it
as the ``say`` filter: ``{{ batch.reason | say }}``; views as ``say(error)`` for a DomainError.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from flask_babel import format_datetime, get_locale, gettext

from dispatch.errors import DomainError
from dispatch.phrases import TERMS, Phrase, is_stored, parse


def _value(name: str, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return format_datetime(value, "short")
    if isinstance(value, str) and is_stored(value):
        return say(value)
    if name in TERMS and isinstance(value, str) and value:
        return gettext(value)
    return value


def say(text: str | Phrase | DomainError | None) -> str:
    """``text`` (a stored phrase, a phrase, a domain error, or plain text) in the viewer's words."""
    if text is None:
        return ""
    found = text.phrase if isinstance(text, DomainError) else parse(text)
    if not found.key:
        return ""
    if not found.params:
        return gettext(found.key)
    params = {k: _value(k, v) for k, v in found.params.items()}
    try:
        return gettext(found.key, **params)
    except (KeyError, TypeError, ValueError):  # a translation with a wrong placeholder: show English
        return str(found)


#: Words of a zone's validity text (``dispatch.zones.zone_validity_text``) that are translated.
VALIDITY_WORDS = frozenset({"permanent", "daily", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
                            "BMCT", "SR", "SS", "EECT"})


def validity(text: str) -> str:
    """A zone's validity text in the viewer's words: day codes and sun events translated one by one,
    dates and times kept ("mon tue 16:00–SS" → "月 火 16:00–日の入り")."""
    return re.sub(r"[A-Za-z]+", lambda m: gettext(m[0]) if m[0] in VALIDITY_WORDS else m[0], text)


def zone_name(name: str, names: tuple[tuple[str, str], ...]) -> str:
    """A zone's name in the viewer's language when its ED-318 file gives one (``en`` matches
    ``en-GB``), else ``name`` (the one in the region's language)."""
    language = str(get_locale() or "").split("_")[0].lower()
    for lang, text in names:
        if lang.lower().split("-")[0] == language:
            return text
    return name


def init_app(app: Flask) -> None:
    app.jinja_env.filters["say"] = say
    app.jinja_env.filters["validity"] = validity
    app.jinja_env.globals["zone_name"] = zone_name
