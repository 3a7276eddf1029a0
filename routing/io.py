"""JSON form of problems and solutions (documented in ``docs/problem-format.md``).

Both directions go through plain ``dict``s (``json.dumps`` them yourself, or use the ``*_file``
helpers). Loading validates against the JSON Schemas in ``routing/schema/`` first; every schema
error is reported with its JSON path (``$.orders[3].weight_kg: -1 is less than the minimum of 0``)
in one :class:`routing.problem.ProblemError`.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from jsonschema import Draft202012Validator
from shapely.geometry import mapping, shape

from routing.permits import Permit
from routing.problem import (
    ALL_MODES,
    Drone,
    Order,
    Place,
    Problem,
    ProblemError,
    Road,
    Vehicle,
    Weights,
    Zone,
)
from routing.solution import Cost, Route, Solution, Stop, Unserved

PROBLEM_FORMAT = "hakobu.problem/1"
SOLUTION_FORMAT = "hakobu.solution/1"


@lru_cache(maxsize=2)
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``problem`` or ``solution`` as a dict."""
    text = resources.files("routing").joinpath("schema", f"{name}.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _validate(data: Any, name: str) -> None:
    validator = Draft202012Validator(schema(name))
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path))))
    if errors:
        raise ProblemError([f"{e.json_path}: {_short(e.message)}" for e in errors])


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


# --- problem ---------------------------------------------------------------------------------


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The JSON-ready dict of ``problem`` (inverse of :func:`problem_from_json`)."""
    w = problem.weights
    return {
        "format": PROBLEM_FORMAT,
        "name": problem.name,
        "crs": problem.crs,
        "timezone": problem.timezone,
        "t0": problem.t0.isoformat(),
        "hub": _place(problem.hub),
        "supply_points": [_place(p) for p in problem.supply_points],
        "vehicles": [
            {
                "id": v.id,
                "mode": v.mode,
                "capacity_kg": v.capacity_kg,
                "max_parcels": v.max_parcels,
                "shift_start": v.shift_start,
                "shift_end": v.shift_end,
                "start": v.start,
                "end": v.end,
                "max_duration": v.max_duration,
                "fixed_cost": v.fixed_cost,
                "skills": sorted(v.skills),
            }
            for v in problem.vehicles
        ],
        "drones": [
            {
                "id": d.id,
                "base": d.base,
                "payload_kg": d.payload_kg,
                "range_m": d.range_m,
                "cruise_mps": d.cruise_mps,
                "turnaround_s": d.turnaround_s,
                "max_sorties": d.max_sorties,
                "max_drops": d.max_drops,
                "drop_s": d.drop_s,
                "available_from": d.available_from,
                "available_until": d.available_until,
            }
            for d in problem.drones
        ],
        "orders": [
            {
                "id": o.id,
                "weight_kg": o.weight_kg,
                "parcels": o.parcels,
                "service_s": o.service_s,
                "window": list(o.window),
                "priority": o.priority,
                "origin": o.origin,
                "home": list(o.home),
                "drop": list(o.drop) if o.drop is not None else None,
                "modes": sorted(o.modes),
                "needs": sorted(o.needs),
            }
            for o in problem.orders
        ],
        "zones": [
            {"id": z.id, "buffer_m": z.buffer_m, "geometry": _geojson(z.geometry),
             **({"category": z.category} if z.category is not None else {})}
            for z in problem.zones
        ],
        "permits": [
            {"id": p.id, "zones": sorted(p.zones), "drones": sorted(p.drones),
             "categories": sorted(p.categories), "valid_from": p.valid_from,
             "valid_until": p.valid_until}
            for p in problem.permits
        ],
        "roads": [
            {
                "id": r.id,
                "kind": r.kind,
                "maxspeed_kmh": r.maxspeed_kmh,
                "oneway": r.oneway,
                "car": r.car,
                "coordinates": [list(c) for c in r.coords],
            }
            for r in problem.roads
        ],
        "weights": {
            "time_per_s": w.time_per_s,
            "distance_per_m": w.distance_per_m,
            "volunteer_fixed": w.volunteer_fixed,
            "unserved": list(w.unserved),
        },
        "pickup_service_s": problem.pickup_service_s,
    }


def _place(p: Place) -> dict[str, Any]:
    return {"id": p.id, "lon": p.lon, "lat": p.lat}


def _geojson(geom: shapely.Geometry) -> dict[str, Any]:
    # Round-trip through json to turn shapely's nested tuples into lists.
    loaded: dict[str, Any] = json.loads(json.dumps(mapping(geom)))
    return loaded


def problem_from_json(data: Any, *, check_schema: bool = True) -> Problem:
    """Build a :class:`Problem` from its JSON dict; raise :class:`ProblemError` naming each issue.

    Schema errors name the JSON path; semantic errors (unknown place, hub in a zone, ...) name
    the object. ``check_schema=False`` skips the JSON Schema for a dict this module wrote itself
    (a stored plan version: the schema check is most of the time of reading one back).
    """
    if check_schema:
        _validate(data, "problem")
    try:
        t0 = datetime.fromisoformat(data["t0"])
    except ValueError:
        raise ProblemError(f"$.t0: {data['t0']!r} is not an ISO 8601 date-time") from None
    zones = []
    bad = []
    for k, z in enumerate(data.get("zones", [])):
        try:
            geom = shape(z["geometry"])
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            bad.append(f"$.zones[{k}].geometry: not a valid GeoJSON geometry ({exc})")
            continue
        zones.append(Zone(id=z["id"], geometry=geom, buffer_m=float(z.get("buffer_m", 0.0)),
                          category=z.get("category")))
    if bad:
        raise ProblemError(bad)
    w = data.get("weights", {})
    defaults = Weights()
    return Problem(
        name=data.get("name", ""),
        crs=data["crs"],
        timezone=data["timezone"],
        t0=t0,
        hub=Place(**data["hub"]),
        supply_points=tuple(Place(**p) for p in data.get("supply_points", [])),
        vehicles=tuple(Vehicle(**{**v, "skills": frozenset(v.get("skills", ()))})
                       for v in data.get("vehicles", [])),
        drones=tuple(Drone(**d) for d in data.get("drones", [])),
        orders=tuple(
            Order(
                id=o["id"],
                weight_kg=o["weight_kg"],
                home=(o["home"][0], o["home"][1]),
                window=(o["window"][0], o["window"][1]),
                origin=o["origin"],
                parcels=o.get("parcels", 1),
                service_s=o.get("service_s", 120),
                priority=o.get("priority", 2),
                drop=(o["drop"][0], o["drop"][1]) if o.get("drop") is not None else None,
                modes=frozenset(o.get("modes", ALL_MODES)),
                needs=frozenset(o.get("needs", ())),
            )
            for o in data.get("orders", [])
        ),
        zones=tuple(zones),
        permits=tuple(
            Permit(id=p["id"], zones=frozenset(p["zones"]), drones=frozenset(p["drones"]),
                   categories=frozenset(p["categories"]), valid_from=p["valid_from"],
                   valid_until=p["valid_until"])
            for p in data.get("permits", [])
        ),
        roads=tuple(
            Road(
                id=r["id"],
                kind=r["kind"],
                coords=tuple((c[0], c[1]) for c in r["coordinates"]),
                maxspeed_kmh=r.get("maxspeed_kmh"),
                oneway=r.get("oneway", False),
                car=r.get("car", True),
            )
            for r in data.get("roads", [])
        ),
        weights=Weights(
            time_per_s=w.get("time_per_s", defaults.time_per_s),
            distance_per_m=w.get("distance_per_m", defaults.distance_per_m),
            volunteer_fixed=w.get("volunteer_fixed", defaults.volunteer_fixed),
            unserved=tuple(w.get("unserved", defaults.unserved)),
        ),
        pickup_service_s=data.get("pickup_service_s", 60),
    )


# --- solution --------------------------------------------------------------------------------


def solution_to_json(solution: Solution, problem: Problem | None = None) -> dict[str, Any]:
    """The JSON-ready dict of ``solution``; with ``problem``, ISO times are added beside seconds."""
    routes = []
    for r in solution.routes:
        route: dict[str, Any] = {
            "vehicle_id": r.vehicle_id,
            "mode": r.mode,
            "kind": r.kind,
            "sortie": r.sortie,
            "start_place": r.start_place,
            "end_place": r.end_place,
            "start": r.start,
            "end": r.end,
        }
        if problem is not None:
            route["start_iso"] = problem.iso(r.start)
            route["end_iso"] = problem.iso(r.end)
        route |= {
            "start_load_kg": r.start_load_kg,
            "start_parcels": r.start_parcels,
            "end_distance_m": r.end_distance_m,
            "end_via": [list(c) for c in r.end_via],
            "distance_m": r.distance_m,
            "stops": [],
        }
        for s in r.stops:
            stop: dict[str, Any] = {
                "order_id": s.order_id,
                "kind": s.kind,
                "place": s.place,
                "lon": s.lon,
                "lat": s.lat,
                "arrival": s.arrival,
                "start": s.start,
                "departure": s.departure,
            }
            if problem is not None:
                stop["arrival_iso"] = problem.iso(s.arrival)
                stop["departure_iso"] = problem.iso(s.departure)
            stop |= {
                "load_kg": s.load_kg,
                "load_parcels": s.load_parcels,
                "distance_m": s.distance_m,
                "via": [list(c) for c in s.via],
            }
            route["stops"].append(stop)
        routes.append(route)
    out: dict[str, Any] = {"format": SOLUTION_FORMAT}
    if problem is not None:
        out["problem"] = problem.name
        out["t0"] = problem.t0.isoformat()
    c = solution.cost
    out |= {
        "routes": routes,
        "unserved": [
            {"order_id": u.order_id, "reason": u.reason, "detail": u.detail}
            for u in solution.unserved
        ],
        "cost": {
            "time": c.time,
            "distance": c.distance,
            "fixed": c.fixed,
            "unserved": c.unserved,
            "total": c.total,
        },
        "km_by_mode": dict(solution.km_by_mode),
        "runtime_s": solution.runtime_s,
        "feasible": solution.feasible,
        "stats": dict(solution.stats),
    }
    return out


def solution_from_json(data: Any, *, check_schema: bool = True) -> Solution:
    """Build a :class:`Solution` from its JSON dict (seconds are the truth; ISO strings are
    ignored). Raise :class:`ProblemError` with JSON paths on schema errors (``check_schema``: as
    for :func:`problem_from_json`)."""
    if check_schema:
        _validate(data, "solution")
    routes = tuple(
        Route(
            vehicle_id=r["vehicle_id"],
            mode=r["mode"],
            kind=r["kind"],
            sortie=r.get("sortie"),
            start_place=r["start_place"],
            end_place=r["end_place"],
            start=r["start"],
            end=r["end"],
            start_load_kg=r.get("start_load_kg", 0.0),
            start_parcels=r.get("start_parcels", 0),
            end_distance_m=r.get("end_distance_m", 0),
            end_via=tuple((c[0], c[1]) for c in r.get("end_via", [])),
            stops=tuple(
                Stop(
                    order_id=s["order_id"],
                    kind=s["kind"],
                    place=s.get("place"),
                    lon=s["lon"],
                    lat=s["lat"],
                    arrival=s["arrival"],
                    start=s["start"],
                    departure=s["departure"],
                    load_kg=s["load_kg"],
                    load_parcels=s["load_parcels"],
                    distance_m=s["distance_m"],
                    via=tuple((c[0], c[1]) for c in s.get("via", [])),
                )
                for s in r["stops"]
            ),
        )
        for r in data["routes"]
    )
    c = data.get("cost", {})
    return Solution(
        routes=routes,
        unserved=tuple(
            Unserved(u["order_id"], u["reason"], u.get("detail", "")) for u in data["unserved"]
        ),
        cost=Cost(
            time=c.get("time", 0),
            distance=c.get("distance", 0),
            fixed=c.get("fixed", 0),
            unserved=c.get("unserved", 0),
        ),
        km_by_mode=dict(data.get("km_by_mode", {})),
        runtime_s=data.get("runtime_s", 0.0),
        feasible=data.get("feasible", True),
        stats=dict(data.get("stats", {})),
    )


# --- files -----------------------------------------------------------------------------------


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; raise :class:`ProblemError` naming the file on I/O or syntax errors."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ProblemError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ProblemError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None


def load_problem(path: str | Path) -> Problem:
    """Read a problem JSON file (see :func:`problem_from_json`)."""
    return problem_from_json(read_json(path))


def load_solution(path: str | Path) -> Solution:
    """Read a solution JSON file (see :func:`solution_from_json`)."""
    return solution_from_json(read_json(path))


def dump_json(data: Any, path: str | Path) -> None:
    """Write ``data`` as indented UTF-8 JSON."""
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
