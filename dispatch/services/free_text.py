"""Free text that staff and couriers type (delivery notes, welfare notes, abort reasons, permit
references): trimmed, and refused with an exact message when empty where it is required or longer
than its field allows, so every service reports the same mistake the same way."""

from __future__ import annotations

from dispatch.errors import DomainError


def checked_text(value: str | None, what: str, limit: int, *, required: bool = False) -> str:
    """``value`` trimmed; :class:`DomainError` naming ``what`` when it is required and empty, or
    longer than ``limit`` characters."""
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise DomainError("the %(what)s is empty", what=what)
    if len(cleaned) > limit:
        raise DomainError("the %(what)s is %(count)s characters long; at most %(limit)s",
                          what=what, count=len(cleaned), limit=limit)
    return cleaned
