"""The region's clock: the one place that answers "in which timezone does this hub, order, resident,
volunteer or drone live?".

Times are stored in UTC and shown to people in their region's timezone (``Region.timezone``, an
IANA name read from ``region.toml``). Nothing below the entry points names a timezone itself, so a
region in Lisbon or Anchorage reads its own clock times in every SMS and on every page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.models import Hub, Region


class InRegion(Protocol):
    """Any row that belongs to a region (hub, order, resident, volunteer, drone, zone ...)."""

    region_id: str


def timezone_of(session: Session, row: Region | InRegion) -> ZoneInfo:
    """The timezone of ``row``'s region (of ``row`` itself when it is a :class:`Region`)."""
    if isinstance(row, Region):
        return ZoneInfo(row.timezone)
    return _region_timezone(session, row.region_id)


def _region_timezone(session: Session, region_id: str) -> ZoneInfo:
    """The timezone of region ``region_id``; :class:`NotFound` for an unknown region."""
    region = session.get(Region, region_id)
    if region is None:
        raise NotFound(f"region {region_id!r} does not exist")
    return ZoneInfo(region.timezone)


def timezone_of_hubs(session: Session, hub_ids: Iterable[str] | None) -> ZoneInfo:
    """The timezone a page about these hubs is shown in: their region's (the first region's, by
    code, when ``hub_ids`` is None = every hub). UTC when there is no such region yet."""
    query = select(Region.timezone).join(Hub, Hub.region_id == Region.id).order_by(Region.code, Hub.code)
    if hub_ids is not None:
        query = query.where(Hub.id.in_(list(hub_ids)))
    name = session.scalars(query.limit(1)).first()
    return ZoneInfo(name or "UTC")


def console_timezone(db: Database, hub_ids: Iterable[str] | None) -> ZoneInfo:
    """:func:`timezone_of_hubs` in its own read transaction (the console's display timezone)."""
    with db.read() as session:
        return timezone_of_hubs(session, hub_ids)
