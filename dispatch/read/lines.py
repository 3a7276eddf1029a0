"""Route lines for the maps: the plan page, the dashboard and the courier's own route.

Plan versions are immutable once stored (an edit makes a new version), so each route's line, which
costs a road-network path search, is computed once when the version is stored
(:func:`dispatch.planning.store.display_paths`, kept in ``Route.path``) and only read here. A
version stored without its lines has them computed here once and cached (versions never change).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import routing
from dispatch.models import Drone, Plan, Route, Volunteer
from dispatch.planning.store import display_paths

#: A route's display line: WGS84 [lon, lat] points (None: not stored with the version).
Path = list[list[float]]

#: Display lines computed here for versions stored without them (cached: versions never change).
_GEOMETRY: OrderedDict[str, tuple[Path | None, ...]] = OrderedDict()
_GEOMETRY_LOCK = threading.Lock()
GEOMETRY_CACHE_SIZE = 64


@dataclass(frozen=True)
class MapLine:
    """One route's line on a map: a short, non-personal label (courier or drone code, sortie),
    its mode (drone lines are drawn dashed) and its points."""

    vehicle: str
    mode: str
    path: Path


def plan_lines(session: Session, plan_id: str) -> tuple[MapLine, ...]:
    """One :class:`MapLine` per route of the version, in route order: along the roads for
    couriers, through the detour waypoints around no-fly zones for drones."""
    rows = session.execute(select(Route.volunteer_id, Route.drone_id, Route.sortie, Route.mode, Route.path)
                           .where(Route.plan_id == plan_id).order_by(Route.position)).all()
    labels = _vehicle_labels(session, {r.volunteer_id for r in rows if r.volunteer_id},
                             {r.drone_id for r in rows if r.drone_id})
    paths: tuple[Path | None, ...] = tuple(r.path for r in rows)
    if any(p is None for p in paths):
        paths = _computed_paths(session, plan_id, len(rows))
    lines = []
    for row, path in zip(rows, paths, strict=True):
        vehicle = row.drone_id or row.volunteer_id or ""
        label = labels.get(vehicle, vehicle) + (f" #{row.sortie}" if row.sortie else "")
        lines.append(MapLine(vehicle=label, mode=row.mode, path=path or []))
    return tuple(lines)


def route_path(session: Session, route_id: str) -> Path:
    """The stored line of one route (the courier's page): read like the plan page's, computed
    only for a version stored without lines. Empty for an unknown route."""
    row = session.execute(select(Route.plan_id, Route.position, Route.path)
                          .where(Route.id == route_id)).first()
    if row is None:
        return []
    if row.path is not None:
        return list(row.path)
    n_routes = session.scalar(select(func.count()).select_from(Route)
                              .where(Route.plan_id == row.plan_id)) or 0
    paths = _computed_paths(session, row.plan_id, n_routes)
    return list(paths[row.position] or []) if row.position < len(paths) else []


def _computed_paths(session: Session, plan_id: str, n_routes: int) -> tuple[Path | None, ...]:
    """Display lines of a version stored without them (computed from its problem and solution)."""
    with _GEOMETRY_LOCK:
        if plan_id in _GEOMETRY:
            _GEOMETRY.move_to_end(plan_id)
            return _GEOMETRY[plan_id]
    row = session.execute(select(Plan.problem, Plan.solution, Plan.batch_id)
                          .where(Plan.id == plan_id)).first()
    if row is None:
        return (None,) * n_routes
    paths = tuple(display_paths(routing.problem_from_json(row.problem),
                                routing.solution_from_json(row.solution), row.batch_id))
    with _GEOMETRY_LOCK:
        _GEOMETRY[plan_id] = paths
        while len(_GEOMETRY) > GEOMETRY_CACHE_SIZE:
            _GEOMETRY.popitem(last=False)
    return paths


def _vehicle_labels(session: Session, volunteer_ids: set[str], drone_ids: set[str]) -> dict[str, str]:
    """Short, non-personal labels for the map: courier and drone codes."""
    rows: list[Any] = [
        *session.execute(select(Volunteer.id, Volunteer.code).where(Volunteer.id.in_(volunteer_ids))),
        *session.execute(select(Drone.id, Drone.code).where(Drone.id.in_(drone_ids)))]
    return {vehicle_id: code for vehicle_id, code in rows}
