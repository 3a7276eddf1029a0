"""Domain errors: every failure a user can cause has a named error with an exact message.

An error's message is a :class:`dispatch.phrases.Phrase`: an English message id with
``%(name)s`` placeholders and its parameters, e.g. ``DomainError("order #%(number)s is
%(state)s, not in transit", number=12, state="failed")``. ``str(error)`` is the English text
(CLI, logs); the web shows ``error.phrase`` translated (``web.phrases.say``), with states and
times in the viewer's words.
"""

from __future__ import annotations

from typing import Any

from dispatch.phrases import Phrase


class DomainError(Exception):
    """Base class for errors the domain raises on purpose (mapped to 4xx / exit 2 by entrypoints)."""

    def __init__(self, message: str | Phrase = "", **params: Any) -> None:
        self.phrase = message if isinstance(message, Phrase) else Phrase(str(message), params)
        super().__init__(str(self.phrase))


class NotFound(DomainError):
    """A record that the caller named does not exist (or is outside the caller's scope)."""


class IllegalTransition(DomainError):
    """A record (an order, batch, plan, route or message: ``kind``) was asked to move to a state
    its lifecycle (``dispatch.lifecycle``) does not allow from where it is."""

    def __init__(self, ref: str, current: str, target: str, *, kind: str = "order") -> None:
        super().__init__("%(kind)s %(ref)s: cannot go from '%(current)s' to '%(target)s'",
                         kind=kind, ref=ref, current=current, target=target)
        self.kind = kind
        self.ref = ref
        self.current = current
        self.target = target


class ConfigError(DomainError):
    """A configuration key is unknown or its value is invalid."""
