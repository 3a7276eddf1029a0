"""Independent plan validator: ``validate(problem, solution) -> ValidationReport``.

It recomputes every constraint from the problem and the plan alone and shares no code with the
model (``routing.model``) or the solver (``routing.core``). It uses the travel module only for
courier leg times (road shortest paths). Each drone leg is checked on the path the plan says the
drone flies (its end points and ``via`` waypoints) with shapely against the canonical buffered
zones (:meth:`routing.problem.Zone.buffered`): no intersection with a zone's interior; each
sortie's flown length must be within the drone's range and each leg's time at least its length
over the cruise speed. Times are seconds since t0 (1 s tolerance for rounding);
lengths metres in the problem's CRS.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from routing.geo import to_metric
from routing.permits import covering
from routing.problem import DRONE, Drone, Order, Problem, Zone
from routing.solution import Route, Solution, Stop
from routing.travel import UNREACHABLE, shared_network

TOLERANCE_S = 1
_COORD_TOL = 1e-6  # degrees; about 0.1 m


@dataclass(frozen=True)
class ValidationReport:
    """``ok`` is True when ``violations`` is empty; each violation is one readable sentence."""

    violations: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """No violation."""
        return not self.violations

    def __str__(self) -> str:
        if self.ok:
            return "plan is valid"
        return "\n".join(f"- {v}" for v in self.violations)


def validate(problem: Problem, solution: Solution, snap_max_m: float = 500.0) -> ValidationReport:
    """Check ``solution`` against every constraint of ``problem``.

    Parameters
    ----------
    problem, solution
        The plan to check and its problem.
    snap_max_m
        The snapping limit the plan was made with (see :class:`routing.SolveParams`).
    """
    v = _Checker(problem, solution, snap_max_m)
    v.run()
    return ValidationReport(tuple(v.out))


class _Checker:
    def __init__(self, problem: Problem, solution: Solution, snap_max_m: float) -> None:
        self.p = problem
        self.s = solution
        self.out: list[str] = []
        self.orders = {o.id: o for o in problem.orders}
        self.places = problem.places
        self.couriers = {v.id: v for v in problem.vehicles}
        self.drones = {d.id: d for d in problem.drones}
        self.snap_max_m = snap_max_m
        self.zones = [(z, z.buffered(problem.crs)) for z in problem.zones]
        for _, zone in self.zones:
            shapely.prepare(zone)
        self._road_cache: dict[tuple[float, float], int] = {}
        self.transfers: dict[str, int] = {}

    def bad(self, message: str) -> None:
        self.out.append(message)

    # --- driver ----------------------------------------------------------------------------
    def run(self) -> None:
        self.check_orders()
        ground = [r for r in self.s.routes if r.mode != DRONE]
        drone = [r for r in self.s.routes if r.mode == DRONE]
        for r in drone:
            for st in r.stops:
                if st.kind == "transfer":
                    self.transfers[st.order_id] = min(
                        st.departure, self.transfers.get(st.order_id, st.departure)
                    )
        self.check_ground(ground)
        self.check_drones(drone)

    # --- orders ----------------------------------------------------------------------------
    def check_orders(self) -> None:
        delivered = Counter(
            st.order_id for r in self.s.routes for st in r.stops if st.kind == "delivery"
        )
        unserved = Counter(u.order_id for u in self.s.unserved)
        for oid in sorted(set(delivered) | set(unserved)):
            if oid not in self.orders:
                self.bad(f"order '{oid}' appears in the plan but not in the problem")
        for o in self.p.orders:
            d, u = delivered.get(o.id, 0), unserved.get(o.id, 0)
            if d > 1:
                self.bad(f"order '{o.id}' is delivered {d} times")
            if u > 1:
                self.bad(f"order '{o.id}' is reported unserved {u} times")
            if d and u:
                self.bad(f"order '{o.id}' is both delivered and reported unserved")
            if not d and not u:
                self.bad(f"order '{o.id}' is neither delivered nor reported unserved")
        for r in self.s.routes:
            for st in r.stops:
                if st.order_id not in self.orders:
                    self.bad(f"{_who(r)}: stop for unknown order '{st.order_id}'")

    # --- couriers --------------------------------------------------------------------------
    def check_ground(self, routes: list[Route]) -> None:
        seen = Counter(r.vehicle_id for r in routes)
        for vid, n in seen.items():
            if n > 1:
                self.bad(f"courier '{vid}' has {n} routes (one allowed)")
        known = [r for r in routes if self._ground_header(r)]
        if not known:
            return
        modes = sorted({r.mode for r in known})
        points: list[tuple[float, float]] = []
        for r in known:
            for lonlat in self._route_points(r):
                if lonlat not in self._road_cache:
                    self._road_cache[lonlat] = len(points)
                    points.append(lonlat)
        if not self.p.roads:
            self.bad("the plan has courier routes but the problem has no roads")
            return
        try:
            table = shared_network(self.p.roads, self.p.crs, snap_max_m=self.snap_max_m).table(
                np.array(points), modes=modes
            )
        except ValueError as exc:
            self.bad(f"courier stops cannot be placed on the roads: {exc}")
            return
        for r in known:
            self._check_courier(r, table.distance[r.mode], table.duration[r.mode])

    def _ground_header(self, r: Route) -> bool:
        v = self.couriers.get(r.vehicle_id)
        if v is None:
            self.bad(f"{_who(r)}: no courier with this id in the problem")
            return False
        ok = True
        if r.mode != v.mode:
            self.bad(f"{_who(r)}: mode {r.mode} but the courier travels by {v.mode}")
            ok = False
        if r.start_place != v.start or r.end_place != v.end:
            self.bad(
                f"{_who(r)}: runs {r.start_place} -> {r.end_place}, the courier's shift is "
                f"{v.start} -> {v.end}"
            )
            ok = False
        return ok

    def _route_points(self, r: Route) -> list[tuple[float, float]]:
        start, end = self.places[r.start_place], self.places[r.end_place]
        return [
            (start.lon, start.lat),
            *((st.lon, st.lat) for st in r.stops),
            (end.lon, end.lat),
        ]

    def _check_courier(self, r: Route, dist: np.ndarray, dur: np.ndarray) -> None:
        v = self.couriers[r.vehicle_id]
        who = _who(r)
        if r.start < v.shift_start:
            self.bad(f"{who}: leaves at {self._t(r.start)}, before the shift starts "
                     f"({self._t(v.shift_start)})")
        if r.end > v.shift_end:
            self.bad(f"{who}: returns at {self._t(r.end)}, after the shift ends "
                     f"({self._t(v.shift_end)})")
        limit = v.max_duration if v.max_duration is not None else v.shift_end - v.shift_start
        if r.end - r.start > limit:
            self.bad(f"{who}: lasts {r.end - r.start} s, over the maximum {limit} s")
        idx = [self._road_cache[pt] for pt in self._route_points(r)]
        legs = [(int(dur[a, b]), int(dist[a, b])) for a, b in pairwise(idx)]
        self._check_sequence(r, legs, capacity=(v.capacity_kg, v.max_parcels, None))
        for st in r.stops:
            o = self.orders.get(st.order_id)
            if o is not None and st.kind == "delivery" and v.mode not in o.modes:
                self.bad(f"{who}: order '{o.id}' may not go by {v.mode} "
                         f"(allowed: {', '.join(sorted(o.modes))})")
            if o is not None and st.kind == "delivery" and not o.needs <= v.skills:
                self.bad(f"{who}: order '{o.id}' needs a courier trained in "
                         f"{', '.join(sorted(o.needs - v.skills))}")

    # --- shared sequence checks -----------------------------------------------------------
    def _check_sequence(
        self,
        r: Route,
        legs: list[tuple[int, int]],
        capacity: tuple[float, int | None, int | None],
        drone: Drone | None = None,
    ) -> None:
        """Times, windows, service, locations, pickups before deliveries and loads."""
        who = _who(r)
        picked: set[str] = set()
        delivered_here = {st.order_id for st in r.stops if st.kind == "delivery"}
        picked_here = {st.order_id for st in r.stops if st.kind in ("pickup", "load")}
        preloaded = [
            self.orders[oid] for oid in delivered_here - picked_here if oid in self.orders
        ]
        kg = sum(o.weight_kg for o in preloaded)
        parcels = sum(o.parcels for o in preloaded)
        drops = 0
        for o in preloaded:
            if o.origin != r.start_place:
                self.bad(f"{who}: delivers order '{o.id}' without picking it up (it is at "
                         f"'{o.origin}', the route starts at '{r.start_place}')")
        self._check_load(who, "at the start", kg, parcels, 0, capacity)
        t = r.start
        for k, st in enumerate(r.stops):
            travel, _ = legs[k]
            found = self.orders.get(st.order_id)
            if found is None:
                continue
            o = found
            if travel >= UNREACHABLE:
                self.bad(f"{who}: no path to stop {k + 1} (order '{o.id}')")
            elif st.arrival + TOLERANCE_S < t + travel:
                self.bad(f"{who}: arrives at stop {k + 1} (order '{o.id}') at "
                         f"{self._t(st.arrival)}, but the leg takes {travel} s from "
                         f"{self._t(t)}")
            if st.start < st.arrival:
                self.bad(f"{who}: starts service at stop {k + 1} before arriving")
            need = self._service(st, o, drone)
            if st.departure < st.start + need:
                self.bad(f"{who}: stays {st.departure - st.start} s at stop {k + 1} "
                         f"(order '{o.id}'), needs {need} s")
            self._check_place(who, k, st, o, drone)
            if st.kind == "delivery":
                if not o.window[0] <= st.start <= o.window[1]:
                    self.bad(f"{who}: serves order '{o.id}' at {self._t(st.start)}, outside "
                             f"its window {self._t(o.window[0])} - {self._t(o.window[1])}")
                if o.id in picked_here and o.id not in picked:
                    self.bad(f"{who}: delivers order '{o.id}' before picking it up")
                kg -= o.weight_kg
                parcels -= o.parcels
                drops += 1
            elif st.kind in ("pickup", "load"):
                if o.id in picked:
                    self.bad(f"{who}: picks up order '{o.id}' twice")
                picked.add(o.id)
                kg += o.weight_kg
                parcels += o.parcels
            elif st.kind == "transfer":
                if o.id not in picked:
                    self.bad(f"{who}: lands order '{o.id}' at the hub without loading it")
                kg -= o.weight_kg
                parcels -= o.parcels
            self._check_load(who, f"after stop {k + 1}", kg, parcels, drops, capacity)
            t = st.departure
        back, _ = legs[-1]
        if back >= UNREACHABLE:
            self.bad(f"{who}: no path back to '{r.end_place}'")
        elif r.end + TOLERANCE_S < t + back:
            self.bad(f"{who}: ends at {self._t(r.end)}, but the way back takes {back} s from "
                     f"{self._t(t)}")
        for oid in picked - delivered_here:
            if not any(st.kind == "transfer" and st.order_id == oid for st in r.stops):
                self.bad(f"{who}: picks up order '{oid}' but never delivers it")

    def _check_load(
        self,
        who: str,
        when: str,
        kg: float,
        parcels: int,
        drops: int,
        capacity: tuple[float, int | None, int | None],
    ) -> None:
        cap_kg, cap_parcels, cap_drops = capacity
        if kg > cap_kg + 1e-6:
            self.bad(f"{who}: carries {kg:g} kg {when}, over the capacity {cap_kg:g} kg")
        if cap_parcels is not None and parcels > cap_parcels:
            self.bad(f"{who}: carries {parcels} parcels {when}, over the limit {cap_parcels}")
        if cap_drops is not None and drops > cap_drops:
            self.bad(f"{who}: makes {drops} drops, over the limit {cap_drops} per sortie")

    def _service(self, st: Stop, o: Order, drone: Drone | None) -> int:
        if st.kind == "delivery":
            return drone.drop_s if drone is not None else o.service_s
        if st.kind in ("pickup", "load"):
            return self.p.pickup_service_s
        return 0

    def _check_place(self, who: str, k: int, st: Stop, o: Order, drone: Drone | None) -> None:
        if st.kind == "delivery":
            if drone is not None:
                if o.drop is None:
                    self.bad(f"{who}: order '{o.id}' has no drone drop point")
                    return
                target, what = o.drop, "drop point"
            else:
                target, what = o.home, "home"
        else:
            place = self.places.get(st.place or "")
            if place is None:
                self.bad(f"{who}: stop {k + 1} names unknown place {st.place!r}")
                return
            target, what = (place.lon, place.lat), f"place '{place.id}'"
            hub = self.p.hub.id
            if st.kind == "transfer" and place.id != hub:
                self.bad(f"{who}: lands order '{o.id}' at '{place.id}', not at the hub")
            if st.kind in ("pickup", "load") and place.id != o.origin:
                if place.id != hub:
                    self.bad(f"{who}: picks up order '{o.id}' at '{place.id}', but its parcels "
                             f"are at '{o.origin}'")
                elif o.id not in self.transfers:
                    self.bad(f"{who}: picks up order '{o.id}' at the hub, but no shuttle brings "
                             f"it there from '{o.origin}'")
                elif st.start < self.transfers[o.id]:
                    self.bad(f"{who}: picks up order '{o.id}' at {self._t(st.start)}, before "
                             f"its shuttle lands ({self._t(self.transfers[o.id])})")
        if abs(st.lon - target[0]) > _COORD_TOL or abs(st.lat - target[1]) > _COORD_TOL:
            self.bad(f"{who}: stop {k + 1} (order '{o.id}') is not at the {what}")

    # --- drones ----------------------------------------------------------------------------
    def check_drones(self, routes: list[Route]) -> None:
        by_drone: dict[str, list[Route]] = {}
        for r in routes:
            d = self.drones.get(r.vehicle_id)
            if d is None:
                self.bad(f"{_who(r)}: no drone with this id in the problem")
                continue
            by_drone.setdefault(d.id, []).append(r)
        for did, rs in by_drone.items():
            d = self.drones[did]
            rs.sort(key=lambda r: r.start)
            if len(rs) > d.max_sorties:
                self.bad(f"drone '{did}': {len(rs)} sorties, over the limit {d.max_sorties}")
            numbers = [r.sortie for r in rs]
            if numbers != list(range(1, len(rs) + 1)):
                self.bad(f"drone '{did}': sorties are numbered {numbers} in time order")
            until = d.available_until
            for k, r in enumerate(rs):
                if r.start < d.available_from:
                    self.bad(f"{_who(r)}: takes off before the drone is available")
                if until is not None and r.end > until:
                    self.bad(f"{_who(r)}: lands after the drone's availability ends")
                if k and r.start < rs[k - 1].end + d.turnaround_s:
                    self.bad(f"{_who(r)}: takes off {r.start - rs[k - 1].end} s after the "
                             f"previous sortie landed; the turnaround is {d.turnaround_s} s")
                self._check_sortie(d, r)

    def _check_sortie(self, d: Drone, r: Route) -> None:
        who = _who(r)
        if r.start_place != d.base or r.end_place != d.base:
            self.bad(f"{who}: flies {r.start_place} -> {r.end_place}, the drone's base is "
                     f"'{d.base}'")
            return
        base = self.places[d.base]
        pts = [(base.lon, base.lat), *((st.lon, st.lat) for st in r.stops), (base.lon, base.lat)]
        vias = [*(st.via for st in r.stops), r.end_via]
        legs: list[tuple[int, int]] = []
        total = 0.0
        for k in range(len(pts) - 1):
            flown = to_metric(self.p.crs, np.array([pts[k], *vias[k], pts[k + 1]]))
            line = shapely.LineString(flown)
            length = float(line.length)
            total += length
            if length > 0:
                for z, zone in self.zones:
                    if _enters(line, zone):
                        self._check_crossing(who, k + 1, z, r)
            legs.append((int(np.floor(length / d.cruise_mps)), int(length)))
        if total > d.range_m + 0.5:
            self.bad(f"{who}: flies {total:.0f} m, over the range {d.range_m:.0f} m")
        for st in r.stops:
            o = self.orders.get(st.order_id)
            if o is None:
                continue
            if st.kind == "delivery" and DRONE not in o.modes:
                self.bad(f"{who}: order '{o.id}' may not go by drone")
        expected = {"direct": ("pickup", "delivery"), "shuttle": ("load", "transfer")}
        kinds = expected.get(r.kind)
        if kinds is None:
            self.bad(f"{who}: a drone route must be a direct or shuttle sortie, not {r.kind}")
        elif any(st.kind not in kinds for st in r.stops):
            self.bad(f"{who}: a {r.kind} sortie may only have {' and '.join(kinds)} stops")
        cap = (d.payload_kg, None, d.max_drops if r.kind == "direct" else None)
        self._check_sequence(r, legs, capacity=cap, drone=d)

    def _check_crossing(self, who: str, leg: int, zone: Zone, r: Route) -> None:
        """A leg enters ``zone``: allowed only under a permit covering the zone's category, this
        drone and the whole sortie (checked here from the permits, not from the model's obstacles)."""
        if zone.category is None:
            self.bad(f"{who}: leg {leg} flies through no-fly zone '{zone.id}'")
        elif covering(self.p.permits, zone.id, zone.category, r.vehicle_id, r.start, r.end) is None:
            self.bad(f"{who}: leg {leg} flies through zone '{zone.id}' ({zone.category}) with no "
                     f"valid permit covering this drone from {self._t(r.start)} to {self._t(r.end)}")

    def _t(self, seconds: int) -> str:
        return self.p.iso(seconds)


def sortie_permits(problem: Problem, route: Route) -> tuple[str, ...]:
    """The permits a drone sortie relies on: for each zone with a category its flown legs enter,
    the first permit covering it (none for a zone no permit covers: :func:`validate` reports it)."""
    if route.mode != DRONE or route.start_place not in problem.places:
        return ()
    base = problem.places[route.start_place]
    pts = [(base.lon, base.lat), *((st.lon, st.lat) for st in route.stops), (base.lon, base.lat)]
    vias = [*(st.via for st in route.stops), route.end_via]
    zones = [(z, z.buffered(problem.crs)) for z in problem.zones if z.category is not None]
    found: list[str] = []
    for k in range(len(pts) - 1):
        line = shapely.LineString(to_metric(problem.crs, np.array([pts[k], *vias[k], pts[k + 1]])))
        for z, area in zones:
            if line.length > 0 and _enters(line, area):
                permit = covering(problem.permits, z.id, z.category, route.vehicle_id, route.start, route.end)
                if permit is not None and permit.id not in found:
                    found.append(permit.id)
    return tuple(found)


def _enters(line: shapely.LineString, zone: BaseGeometry) -> bool:
    """True when the line's interior or end points meet the zone's interior (DE-9IM)."""
    if not line.intersects(zone):
        return False
    matrix = str(line.relate(zone))
    return matrix[0] != "F" or matrix[3] != "F"


def _who(r: Route) -> str:
    if r.mode == DRONE:
        return f"drone '{r.vehicle_id}' sortie {r.sortie}"
    return f"courier '{r.vehicle_id}'"


__all__ = ["ValidationReport", "sortie_permits", "validate"]
