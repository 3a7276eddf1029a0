"""Permits in the domain: which zones need one, what a permit covers on a day, and the routing
form of a hub's permits for one batch (issue 14, item 1).

A ``REQ_AUTHORIZATION`` or ``CONDITIONAL`` zone needs a permit covering its 特定飛行 category
(:func:`zone_category`), the aircraft and, at take-off, the pilot; a ``PROHIBITED`` zone is never
crossed. A permit is valid on its local calendar days ``valid_from`` .. ``valid_until`` (both
inclusive, the region's timezone): from local midnight to the midnight after its last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import routing
from dispatch.models import Drone, Hub, Permit, Zone
from dispatch.phrases import Phrase

#: Zone types a drone may cross only under a permit (PROHIBITED ones it never crosses).
PERMIT_TYPES = frozenset({"REQ_AUTHORIZATION", "CONDITIONAL"})
#: The 特定飛行 category of a zone by its ``jp:category`` (region format); other zones needing a
#: permit count as flights within 30 m of people or property (``under_30m``). A zone may name its
#: own with ``extendedProperties["jp:flightCategory"]``.
CATEGORY_OF_JP = {"DID": "did", "AIRPORT_SURFACE": "airport", "EVENT": "event"}
DEFAULT_CATEGORY = "under_30m"
#: Days ahead an operator is warned of a permit's expiry (dashboard, alerts).
EXPIRY_WARNING_DAYS = 14


def zone_category(zone: Zone) -> str | None:
    """The 特定飛行 category a flight through ``zone`` is, or None when no permit lets a drone in."""
    if zone.type not in PERMIT_TYPES:
        return None
    extended = ((zone.feature or {}).get("properties") or {}).get("extendedProperties") or {}
    named = extended.get("jp:flightCategory") if isinstance(extended, dict) else None
    if named in routing.CATEGORIES:
        return str(named)
    return CATEGORY_OF_JP.get(zone.category or "", DEFAULT_CATEGORY)


def valid_span(permit: Permit, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the permit's validity as aware instants."""
    start = dt.datetime.combine(permit.valid_from, dt.time(), tz)
    end = dt.datetime.combine(permit.valid_until + dt.timedelta(days=1), dt.time(), tz)
    return start, end


def hub_permits(session: Session, hub_id: str) -> list[Permit]:
    """Every permit of the hub (valid or not), by number."""
    return list(session.scalars(select(Permit).where(Permit.hub_id == hub_id).order_by(Permit.number)))


def routing_permits(session: Session, hub: Hub, t0: dt.datetime, tz: ZoneInfo) -> list[routing.Permit]:
    """The hub's permits in routing form (ids of the drones and zones, seconds since ``t0``).

    Every permit is given, expired ones too: routing itself decides what a permit covers (the
    validator re-checks it), so the day of the batch is not filtered here.
    """
    drones = {
        c: i for c, i in session.execute(select(Drone.code, Drone.id).where(Drone.region_id == hub.region_id))
    }
    zones = {
        c: i
        for c, i in session.execute(select(Zone.identifier, Zone.id).where(Zone.region_id == hub.region_id))
    }
    out = []
    for p in hub_permits(session, hub.id):
        start, end = valid_span(p, tz)
        out.append(
            routing.Permit(
                id=p.number,
                zones=frozenset(zones[z] for z in p.zones if z in zones),
                drones=frozenset(drones[d] for d in p.drones if d in drones),
                categories=frozenset(p.categories),
                valid_from=int((start - t0).total_seconds()),
                valid_until=int((end - t0).total_seconds()),
            )
        )
    return out


def permit_status(
    permit: Permit, zone: Zone, drone_code: str, start: dt.datetime, end: dt.datetime, tz: ZoneInfo
) -> Phrase | None:
    """None when ``permit`` covers a flight of ``drone_code`` through ``zone`` over
    ``[start, end]``; else why not, as a phrase for the operator."""
    category = zone_category(zone)
    begin, finish = valid_span(permit, tz)
    if zone.identifier not in permit.zones:
        return Phrase(
            "permit %(number)s does not cover zone %(zone)s", {"number": permit.number, "zone": zone.name}
        )
    if category not in permit.categories:
        return Phrase(
            "permit %(number)s does not cover the category %(what)s",
            {"number": permit.number, "what": category},
        )
    if drone_code not in permit.drones:
        return Phrase(
            "permit %(number)s does not cover drone %(drone)s", {"number": permit.number, "drone": drone_code}
        )
    if end >= finish:
        return Phrase(
            "permit %(number)s expired on %(date)s",
            {"number": permit.number, "date": permit.valid_until.isoformat()},
        )
    if start < begin:
        return Phrase(
            "permit %(number)s is valid only from %(date)s",
            {"number": permit.number, "date": permit.valid_from.isoformat()},
        )
    return None


def flight_notes(
    session: Session,
    hub: Hub,
    zones: Iterable[Zone],
    drones: Iterable[Drone],
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
) -> list[str]:
    """For the plan (stored phrases): per zone needing a permit that is active in the batch,
    the permit each drone flies it under, or why it stays no-fly for that drone."""
    permits = hub_permits(session, hub.id)
    notes = []
    for zone in zones:
        if zone_category(zone) is None:
            continue
        for drone in drones:
            reasons = [permit_status(p, zone, drone.code, start, end, tz) for p in permits]
            good = [p for p, why in zip(permits, reasons, strict=True) if why is None]
            if good:
                phrase = Phrase(
                    "drone %(drone)s may fly through %(zone)s under permit %(number)s",
                    {"drone": drone.code, "zone": zone.name, "number": good[0].number},
                )
            else:
                expired = [w for w in reasons if w is not None and "expired" in w.key]
                why = (expired or [w for w in reasons if w is not None] or [None])[0]
                phrase = Phrase(
                    "zone %(zone)s stays no-fly for drone %(drone)s: %(why)s",
                    {
                        "zone": zone.name,
                        "drone": drone.code,
                        "why": why.stored() if why else Phrase("no permit").stored(),
                    },
                )
            notes.append(phrase.stored())
    return notes


def expiring(
    session: Session, hub_ids: Iterable[str] | None, today: dt.date, days: int = EXPIRY_WARNING_DAYS
) -> list[Permit]:
    """Permits whose last valid day is between ``today`` and ``days`` ahead, soonest first."""
    query = select(Permit).where(
        Permit.valid_until >= today, Permit.valid_until <= today + dt.timedelta(days=days)
    )
    if hub_ids is not None:
        query = query.where(Permit.hub_id.in_(list(hub_ids)))
    return list(session.scalars(query.order_by(Permit.valid_until, Permit.number)))
