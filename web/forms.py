"""Small helpers shared by the Flask-WTF forms."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
