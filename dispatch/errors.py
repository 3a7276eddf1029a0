"""Domain errors: every failure a user can cause has a named error with an exact message."""

from __future__ import annotations


class DomainError(Exception):
    """Base class for errors the domain raises on purpose (mapped to 4xx / exit 2 by entrypoints)."""


class NotFound(DomainError):
    """A record that the caller named does not exist (or is outside the caller's scope)."""


class IllegalTransition(DomainError):
    """A record (an order, batch, plan, route or message: ``kind``) was asked to move to a state
    its lifecycle (``dispatch.lifecycle``) does not allow from where it is."""

    def __init__(self, ref: str, current: str, target: str, *, kind: str = "order") -> None:
        super().__init__(f"{kind} {ref}: cannot go from {current!r} to {target!r}")
        self.kind = kind
        self.ref = ref
        self.current = current
        self.target = target


class ConfigError(DomainError):
    """A configuration key is unknown or its value is invalid."""
