"""The study pack's and reports' words in Japanese or English, from the console's catalogue.

The study sessions are held in Japanese municipalities, so the public pack speaks Japanese by
default (the region's locale) and English on request. Its words are the console's: KPI labels, chart
titles and CO2 factor names are already translated in ``web/translations/ja/LC_MESSAGES/messages.po``,
and the pack's own sentences are added there (marked for the extractor in ``web/planner.py``). The
``.po`` is read directly with Babel, as package data of :mod:`web.translations` (like
:mod:`web.studies.html` reads the vendored Leaflet): no Flask app or request, no compiled ``.mo``
needed (the command line exports packs too), and an edited catalogue is picked up by the next export.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

TRANSLATIONS = resources.files("web.translations")
LANGUAGES = ("ja", "en")


class Translate(Protocol):
    def __call__(self, message: str, **values: Any) -> str: ...


def language_of(locale: str) -> str:
    """The pack's language for a region's locale (``ja_JP`` → ``ja``; anything else → ``en``)."""
    return "ja" if locale.lower().startswith("ja") else "en"


@lru_cache(maxsize=4)
def _messages(lang: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    path = TRANSLATIONS.joinpath(lang, "LC_MESSAGES", "messages.po")
    with path.open("rb") as source:
        catalogue = read_po(source, locale=lang)
    return {str(m.id): str(m.string) for m in catalogue
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def translator(lang: str) -> Translate:
    """``tr(message, **values)``: the message in ``lang`` (the English text when the catalogue has
    none), then ``% values`` like gettext's ``%(name)s`` placeholders."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    messages = _messages(lang) if lang != "en" else {}

    def tr(message: str, **values: Any) -> str:
        text = messages.get(message, message)
        return text % values if values else text

    return tr


def english(message: str, **values: Any) -> str:
    return message % values if values else message
