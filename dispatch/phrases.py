"""Texts for people, kept as a message key and its parameters (issue 16, item 1).

The domain never words a text in a language: an error, a batch's reason, a plan version's note, an
alert or a review reason is a :class:`Phrase`, i.e. an English message id with ``%(name)s``
placeholders (the catalogue's key, translated by ``web.phrases.say``) and its parameters. A
parameter that is a datetime is shown in the region's time by the web, and one named in
:data:`TERMS` is itself a code of the system (a state, a mode, a reason) that the web translates
too, so no ISO timestamp or raw code reaches a page.

Phrases are stored in the existing text columns as JSON (:meth:`Phrase.stored`); :func:`parse`
reads both that and the plain English texts written before phrases existed, so no migration is
needed and old rows still show.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Parameter names whose values are codes (states, modes, reasons, kinds) to translate as words.
TERMS = frozenset({"state", "current", "target", "kind", "mode", "reason", "why", "to", "status", "what",
                   "part",
                   "detail"})
_MARK = "phrase"
_TIME = "$time"


@dataclass(frozen=True)
class Phrase:
    """An English message id (the catalogue key) with ``%(name)s`` placeholders and their values."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """The English text (logs, the CLI, tests): the key with its parameters filled in."""
        if not self.params:
            return self.key
        shown = {k: _english(v) for k, v in self.params.items()}
        try:
            return self.key % shown
        except (KeyError, TypeError, ValueError):
            return self.key

    def stored(self) -> str:
        """The phrase as JSON for a text column (datetimes as marked ISO strings)."""
        params = {k: ({_TIME: v.isoformat()} if isinstance(v, dt.datetime) else v)
                  for k, v in self.params.items()}
        return json.dumps({_MARK: self.key, "params": params}, ensure_ascii=False)


def _english(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, str) and is_stored(value):
        return str(parse(value))
    return value


def is_stored(text: str) -> bool:
    """Whether ``text`` is a phrase stored by :meth:`Phrase.stored` (a phrase may nest another)."""
    return text.startswith('{"' + _MARK + '"')


def phrase(key: str, **params: Any) -> Phrase:
    """``phrase("order #%(number)s is %(state)s", number=12, state="failed")``."""
    return Phrase(key, params)


def parse(stored: str | Phrase | None) -> Phrase:
    """A stored text back as a phrase: JSON written by :meth:`Phrase.stored`, else a plain text
    (written before phrases, or by a person), which is its own key."""
    if isinstance(stored, Phrase):
        return stored
    text = stored or ""
    if is_stored(text):
        try:
            data = json.loads(text)
        except ValueError:
            return Phrase(text)
        if isinstance(data, dict) and isinstance(data.get(_MARK), str):
            params = {k: (dt.datetime.fromisoformat(v[_TIME]) if isinstance(v, dict) and _TIME in v else v)
                      for k, v in dict(data.get("params") or {}).items()}
            return Phrase(data[_MARK], params)
    return Phrase(text)


def english(stored: str | Phrase | None) -> str:
    """A stored text in English (for the CLI, exports and logs)."""
    return str(parse(stored))
