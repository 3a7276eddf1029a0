"""What an action would do, said before it is done (issue 16, item 3).

Confirming a plan texts every resident and courier on it; calling a courier off or a weather hold
re-plans confirmed routes and texts whoever moved. The console asks first, with the figures: the
action is run now on a :class:`~dispatch.db.Rehearsal` (the same service, every write rolled back),
so the figures are the service's own, not an estimate kept beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from dispatch.db import Database, Rehearsal
from dispatch.errors import DomainError

T = TypeVar("T")


@dataclass(frozen=True)
class Preview(Generic[T]):
    """The action's result as it would be now, or why it would be refused, and the texts it
    would queue as (template, resident id, volunteer id)."""

    result: T | None
    refusal: DomainError | None
    texts: tuple[tuple[str, str | None, str | None], ...]

    @property
    def residents(self) -> int:
        """How many residents would get a text."""
        return len({r for _t, r, _v in self.texts if r is not None})

    @property
    def couriers(self) -> int:
        """How many couriers would get a text."""
        return len({v for _t, _r, v in self.texts if v is not None})


def rehearse(db: Database, action: Callable[[Database], T]) -> Preview[T]:
    """Run ``action(db)`` on a rehearsal of ``db`` and report what it did; nothing is kept."""
    rehearsal = Rehearsal(db)
    try:
        result = action(rehearsal)
    except DomainError as error:
        return Preview(None, error, tuple(rehearsal.texts))
    return Preview(result, None, tuple(rehearsal.texts))


__all__ = ["Preview", "rehearse"]
