"""Flight permits: when a drone may cross a zone that needs authorisation (issue 14, item 1).

A :class:`~routing.problem.Zone` with a ``category`` (the 特定飛行 it makes of a flight, e.g.
``did`` for a densely inhabited district) is crossable by a drone only under a :class:`Permit`
that names the zone, the drone and that category and is valid for the whole sortie. A zone
without a category (PROHIBITED) is never crossable.

Two readers of the same data, kept apart on purpose so one checks the other:

* the model (:func:`cleared_zones`) takes a zone out of the obstacles only when *every* drone of
  the problem holds a covering permit for its *whole* availability: one flight space serves all
  drones of a batch, so a zone is either an obstacle for all or for none;
* the validator (:mod:`routing.validate`) re-checks each flown leg that enters a zone against the
  permits, for that drone and that sortie's take-off and landing times (:func:`covering`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: The 特定飛行 categories of the Civil Aeronautics Act (航空法 132条の85, 132条の86) a permit
#: may cover: DID上空, 空港等周辺, 150 m以上, 目視外, 夜間, 人・物件から30 m未満, 催し場所上空,
#: 危険物輸送, 物件投下.
CATEGORIES: tuple[str, ...] = (
    "did",
    "airport",
    "high_altitude",
    "bvlos",
    "night",
    "under_30m",
    "event",
    "dangerous_goods",
    "drop",
)


@dataclass(frozen=True)
class Permit:
    """An MLIT permit or approval as the planner sees it.

    ``id`` is the permit number; ``zones`` the ids of the zones it covers; ``drones`` the ids of
    the aircraft; ``categories`` the 特定飛行 covered (:data:`CATEGORIES`); ``valid_from`` and
    ``valid_until`` seconds since the problem's t0 (the permit is valid in between, inclusive).
    """

    id: str
    zones: frozenset[str]
    drones: frozenset[str]
    categories: frozenset[str]
    valid_from: int
    valid_until: int

    def covers(self, zone_id: str, category: str | None, drone_id: str, start: int, end: int) -> bool:
        """True when the permit covers a flight of ``drone_id`` through ``zone_id`` (which needs
        ``category``) from ``start`` to ``end`` seconds since t0."""
        return (
            category is not None
            and category in self.categories
            and zone_id in self.zones
            and drone_id in self.drones
            and self.valid_from <= start
            and end <= self.valid_until
        )


def covering(
    permits: tuple[Permit, ...], zone_id: str, category: str | None, drone_id: str, start: int, end: int
) -> Permit | None:
    """The first permit (in the problem's order) covering the flight, else None."""
    return next((p for p in permits if p.covers(zone_id, category, drone_id, start, end)), None)


def check_permits(permits: tuple[Permit, ...]) -> list[str]:
    """Problems with the permits themselves (each names the permit)."""
    out = []
    seen: set[str] = set()
    for p in permits:
        where = f"permit '{p.id}'"
        if not p.id or p.id in seen:
            out.append(f"{where}: permit ids must be unique and non-empty")
        seen.add(p.id)
        if p.valid_until < p.valid_from:
            out.append(f"{where}: valid_until is before valid_from")
        unknown = sorted(set(p.categories) - set(CATEGORIES))
        if unknown:
            out.append(f"{where}: unknown categories {unknown} (known: {', '.join(CATEGORIES)})")
    return out
