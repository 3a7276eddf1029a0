"""Read models: what each page of the console and the courier's phone shows, in one place.

One module per page or concern (:mod:`~dispatch.read.region` for the region map,
:mod:`~dispatch.read.dashboard`, :mod:`~dispatch.read.plans`, :mod:`~dispatch.read.lines` for route
lines, :mod:`~dispatch.read.board`, :mod:`~dispatch.read.alerts`, :mod:`~dispatch.read.intake`,
:mod:`~dispatch.read.courier`, :mod:`~dispatch.read.operations`, :mod:`~dispatch.read.drones` for
the hub staff's drone sorties, :mod:`~dispatch.read.parked` for orders waiting for an operator).
Each function takes the caller's ``session`` first (a view opens ``db.read()`` around it), plain
arguments after it, and returns plain frozen dataclasses: no ORM object leaves, nothing is
written, and templates never touch a session. Where a page depends on the time, ``now`` is an
argument, never the clock.

``hub_ids`` is always the signed-in user's hub scope as ``web.auth.SessionUser.hub_scope`` gives
it: ``None`` for every hub, else the hubs whose rows may be shown (:func:`scoped` applies it).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

#: Hub scope of a read: None = every hub, else the ids of the hubs that may be shown.
HubScope = Collection[str] | None

S = TypeVar("S")


def scoped(stmt: S, column: Any, hub_ids: HubScope) -> S:
    """``stmt`` limited to rows whose ``column`` (a hub id) is in ``hub_ids`` (unchanged for None)."""
    if hub_ids is None:
        return stmt
    return stmt.where(column.in_(list(hub_ids)))  # type: ignore[attr-defined, no-any-return]


__all__ = ["HubScope", "scoped"]
