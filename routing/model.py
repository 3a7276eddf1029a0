"""Compile a :class:`routing.Problem` into the core's matrix-level :class:`CoreInstance`.

How the field operations map onto the core (one node per visit, one core vehicle per courier and
per drone sortie; metres, seconds, grams):

- **Orders at the hub** are delivery nodes with negative demand: couriers starting at the hub (and
  drones based there) leave loaded (``initial_load_free``).
- **Orders at a supply point** travel to the hub by a **shuttle** sortie when a drone can fly it:
  shuttles are planned first (greedy, payload-packed, as early as the drones allow; see
  :func:`routing.shuttle.plan_shuttles`), and each shuttled order becomes a pickup node *at the
  hub* whose window opens at the landing time, paired with its delivery node. With no drone able
  to shuttle, the order becomes a pickup node at the supply point paired with its delivery node
  (ground pickup).
- **Direct sorties**: a delivery node has two locations, the home for ground profiles and the drop
  point for drone profiles; the drone sorties of one drone are separate core vehicles with the
  drone's range as ``max_distance`` and ``sequence`` constraints (end of sortie k + turnaround <=
  start of sortie k + 1). Service times are folded into each profile's duration matrix (the time
  spent at a node depends on who serves it: a courier's hand-over or a drone's drop).
- Orders no vehicle may carry (mode, drone range, zones, payload, unreachable home) never enter the
  core; they are unserved with a reason (:mod:`routing.eligibility`). Orders the optimiser drops
  get a reason from :func:`routing.solve.why_dropped`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from routing import core
from routing.eligibility import Eligibility, drone_eligibility
from routing.params import SolveParams
from routing.problem import DRONE, Drone, Order, Problem, Vehicle, carries
from routing.shuttle import plan_shuttles
from routing.solution import Route
from routing.travel import UNREACHABLE
from routing.travel.matrices import Travel, build_travel, place_index

assert UNREACHABLE == core.UNREACHABLE
_BIG = 10**9  # capacity of a column that does not limit a vehicle


@dataclass(frozen=True)
class Node:
    """One core node: a vehicle terminal (``place``), a ``pickup`` or a ``delivery``.

    ``gloc``/``dloc`` index the ground and drone point lists (where couriers and drones go).
    """

    kind: str
    gloc: int
    dloc: int
    order: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class Slot:
    """A core vehicle: a courier (``sortie`` None) or one direct sortie of a drone."""

    vehicle: Vehicle | Drone
    profile: int
    sortie: int | None = None


@dataclass(frozen=True)
class Profile:
    """A travel profile: a ground mode, or drones of one cruise speed and drop time."""

    name: str
    mode: str
    cruise_mps: float = 0.0
    drop_s: int = 0


@dataclass
class Model:
    """The compiled problem: core instance plus everything needed to decode a core result."""

    problem: Problem
    travel: Travel
    nodes: list[Node]
    slots: list[Slot]
    profiles: list[Profile]
    instance: core.CoreInstance | None
    shuttles: list[Route]
    release: dict[str, int]
    preunserved: dict[str, tuple[str, str]]
    eligibility: Eligibility
    service: list[np.ndarray]  # per profile, seconds spent at each node
    delivery_node: dict[str, int] = field(default_factory=dict)
    pickup_node: dict[str, int] = field(default_factory=dict)




# --- compilation -----------------------------------------------------------------------------


def build_model(problem: Problem, params: SolveParams, travel: Travel | None = None) -> Model:
    """Compile ``problem`` (see the module docstring for the mapping)."""
    travel = travel if travel is not None else build_travel(problem, params)
    pidx = place_index(problem)
    n_places = len(pidx)
    hub_id = problem.hub.id
    # Shuttle only parcels that something can take on from the hub (a courier of an allowed
    # mode, or a drone that can fly the order from the hub).
    from_hub = drone_eligibility(problem, travel, {o.id: hub_id for o in problem.orders})
    onward = {
        o.id
        for o in problem.orders
        if any(carries(v, o) for v in problem.vehicles)
        or any(o.id in from_hub.sortie_m[d.id] for d in problem.drones)
    }
    shuttles, release, free = plan_shuttles(problem, travel, onward)

    # Where each order's parcels are picked up (None: loaded at the hub at the start).
    source: dict[str, str | None] = {}
    for o in problem.orders:
        if o.origin == hub_id:
            source[o.id] = None
        elif o.id in release:
            source[o.id] = hub_id
        else:
            source[o.id] = o.origin
    elig = drone_eligibility(problem, travel, source)

    # Profiles.
    profiles: list[Profile] = [Profile(m, m) for m in sorted({v.mode for v in problem.vehicles})]
    prof_of_mode = {p.mode: i for i, p in enumerate(profiles)}
    prof_of_drone: dict[str, int] = {}
    for d in problem.drones:
        key = Profile(f"drone@{d.cruise_mps:g}m/s+{d.drop_s}s", DRONE, d.cruise_mps, d.drop_s)
        if key not in profiles:
            profiles.append(key)
        prof_of_drone[d.id] = profiles.index(key)

    # Core vehicles: couriers, then each drone's direct sorties (after its shuttles).
    slots: list[Slot] = [Slot(v, prof_of_mode[v.mode]) for v in problem.vehicles]
    sequence: list[tuple[int, int, int]] = []
    drone_start: dict[str, int] = {}
    for d in problem.drones:
        t_free, used = free[d.id]
        drone_start[d.id] = t_free
        n_orders = len(elig.sortie_m[d.id])
        until = d.available_until if d.available_until is not None else problem.horizon
        by_time = (until - t_free) // max(1, d.turnaround_s + 1) + 1
        n_slots = max(0, min(d.max_sorties - used, n_orders, by_time))
        first = len(slots)
        for k in range(n_slots):
            slots.append(Slot(d, prof_of_drone[d.id], sortie=used + k + 1))
            if k:
                sequence.append((first + k - 1, first + k, d.turnaround_s))

    # Nodes: terminals for the places vehicles start or end at, then pickups and deliveries.
    nodes: list[Node] = []
    place_node: dict[str, int] = {}
    for s in slots:
        ends = (s.vehicle.start, s.vehicle.end) if isinstance(s.vehicle, Vehicle) else (
            s.vehicle.base,
        )
        for pid in ends:
            if pid not in place_node:
                place_node[pid] = len(nodes)
                nodes.append(Node("place", pidx[pid], pidx[pid], place=pid))

    preunserved: dict[str, tuple[str, str]] = {}
    allowed_of: dict[str, tuple[int, ...]] = {}
    road = travel.road
    for k, o in enumerate(problem.orders):
        home = n_places + k
        src = source[o.id]
        allowed: list[int] = []
        ground_refusals: list[str] = []
        for vi, s in enumerate(slots):
            v = s.vehicle
            if isinstance(v, Vehicle):
                if not carries(v, o):
                    continue
                if src is None and v.start != hub_id:
                    ground_refusals.append(f"courier '{v.id}' does not start at the hub")
                    continue
                assert road is not None
                a = pidx[v.start] if src is None else pidx[src]
                legs = [(pidx[v.start], a), (a, home), (home, pidx[v.end])]
                if any(road.duration[v.mode][x, y] >= UNREACHABLE for x, y in legs):
                    ground_refusals.append(f"the home is not reachable by {v.mode}")
                    continue
                allowed.append(vi)
            elif o.id in elig.sortie_m[v.id]:
                allowed.append(vi)
        if not allowed:
            preunserved[o.id] = _no_vehicle_reason(problem, o, elig, ground_refusals)
        else:
            allowed_of[o.id] = tuple(allowed)

    pickup_node: dict[str, int] = {}
    delivery_node: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    for k, o in enumerate(problem.orders):
        if o.id not in allowed_of:
            continue
        src = source[o.id]
        if src is not None:
            pickup_node[o.id] = len(nodes)
            nodes.append(Node("pickup", pidx[src], pidx[src], order=o.id, place=src))
        delivery_node[o.id] = len(nodes)
        nodes.append(Node("delivery", n_places + k, n_places + k, order=o.id))
        if src is not None:
            pairs.append((pickup_node[o.id], delivery_node[o.id]))

    service = _services(problem, nodes, profiles)
    model = Model(
        problem=problem,
        travel=travel,
        nodes=nodes,
        slots=slots,
        profiles=profiles,
        instance=None,
        shuttles=shuttles,
        release=release,
        preunserved=preunserved,
        eligibility=elig,
        service=service,
        delivery_node=delivery_node,
        pickup_node=pickup_node,
    )
    if not slots or not delivery_node:
        return model
    model.instance = _instance(
        model, place_node, allowed_of, pairs, sequence, source, drone_start
    )
    return model


def _no_vehicle_reason(
    problem: Problem, o: Order, elig: Eligibility, ground_refusals: list[str]
) -> tuple[str, str]:
    drone_refusals = [
        elig.refused[d.id][o.id] for d in problem.drones if o.id in elig.refused.get(d.id, {})
    ]
    for reason in ("zone", "range", "capacity"):
        for r, detail in drone_refusals:
            if r == reason:
                return reason, detail
    parts = []
    modes = ", ".join(sorted(o.modes))
    if o.needs and not any(carries(v, o) for v in problem.vehicles):
        parts.append(f"no courier with the training it needs ({', '.join(sorted(o.needs))})")
    elif not any(v.mode in o.modes for v in problem.vehicles) and not (
        DRONE in o.modes and problem.drones
    ):
        parts.append(f"no courier or drone of the allowed modes ({modes})")
    parts += sorted(set(ground_refusals))
    parts += [detail for _, detail in drone_refusals]
    if DRONE in o.modes and not problem.drones:
        parts.append("no drone in the batch")
    return "no_eligible_vehicle", "; ".join(parts) or f"no vehicle may carry it ({modes})"


def _services(problem: Problem, nodes: list[Node], profiles: list[Profile]) -> list[np.ndarray]:
    orders = {o.id: o for o in problem.orders}
    out = []
    for p in profiles:
        s = np.zeros(len(nodes), dtype=np.int64)
        for i, n in enumerate(nodes):
            if n.kind == "pickup":
                s[i] = problem.pickup_service_s
            elif n.kind == "delivery":
                assert n.order is not None
                s[i] = p.drop_s if p.mode == DRONE else orders[n.order].service_s
        out.append(s)
    return out


def leg_matrices(model: Model, profile: int) -> tuple[np.ndarray, np.ndarray]:
    """(distance m, travel s) between all nodes for ``profile``, UNREACHABLE where no path."""
    p = model.profiles[profile]
    if p.mode == DRONE:
        idx = np.array([n.dloc for n in model.nodes])
        metres = model.travel.fly_m[np.ix_(idx, idx)]
        ok = np.isfinite(metres)
        dist = np.where(ok, np.ceil(np.where(ok, metres, 0)), UNREACHABLE).astype(np.int64)
        secs = np.where(ok, np.ceil(np.where(ok, metres, 0) / p.cruise_mps), UNREACHABLE)
        return dist, secs.astype(np.int64)
    assert model.travel.road is not None
    idx = np.array([n.gloc for n in model.nodes])
    dist = model.travel.road.distance[p.mode][np.ix_(idx, idx)]
    secs = model.travel.road.duration[p.mode][np.ix_(idx, idx)]
    return dist.astype(np.int64), secs.astype(np.int64)


def _instance(
    model: Model,
    place_node: dict[str, int],
    allowed_of: dict[str, tuple[int, ...]],
    pairs: list[tuple[int, int]],
    sequence: list[tuple[int, int, int]],
    source: dict[str, str | None],
    drone_start: dict[str, int],
) -> core.CoreInstance:
    problem = model.problem
    nodes = model.nodes
    n = len(nodes)
    orders = {o.id: o for o in problem.orders}
    horizon = problem.horizon
    distance, duration = [], []
    for p in range(len(model.profiles)):
        dist, secs = leg_matrices(model, p)
        unreachable = (dist >= UNREACHABLE) | (secs >= UNREACHABLE)
        dur = np.where(unreachable, UNREACHABLE, secs + model.service[p][:, None])
        np.fill_diagonal(dur, 0)
        np.fill_diagonal(dist, 0)
        distance.append(np.where(unreachable, UNREACHABLE, dist).astype(np.int64))
        duration.append(dur.astype(np.int64))

    demands = np.zeros((n, 3), dtype=np.int64)
    windows = np.zeros((n, 2), dtype=np.int64)
    windows[:, 1] = horizon
    allowed: list[tuple[int, ...] | None] = [None] * n
    penalty: list[int | None] = [None] * n
    for i, node in enumerate(nodes):
        if node.order is None:
            continue
        o = orders[node.order]
        grams = round(o.weight_kg * 1000)
        pen = problem.weights.unserved[o.priority - 1]
        allowed[i] = allowed_of[o.id]
        if node.kind == "pickup":
            demands[i] = (grams, o.parcels, 0)
            release = model.release.get(o.id, 0) if source[o.id] == problem.hub.id else 0
            windows[i] = (release, horizon)
            penalty[i] = pen // 2
        else:
            demands[i] = (-grams, -o.parcels, -1)
            windows[i] = o.window
            penalty[i] = pen - pen // 2 if o.id in model.pickup_node else pen

    vehicles = []
    for s in model.slots:
        v = s.vehicle
        if isinstance(v, Vehicle):
            fixed = v.fixed_cost if v.fixed_cost is not None else problem.weights.volunteer_fixed
            vehicles.append(
                core.CoreVehicle(
                    start=place_node[v.start],
                    end=place_node[v.end],
                    profile=s.profile,
                    capacities=(math.floor(v.capacity_kg * 1000 + 1e-6), v.max_parcels, _BIG),
                    fixed_cost=int(fixed),
                    earliest_start=v.shift_start,
                    latest_end=v.shift_end,
                    max_duration=v.max_duration,
                )
            )
        else:
            until = v.available_until if v.available_until is not None else horizon
            vehicles.append(
                core.CoreVehicle(
                    start=place_node[v.base],
                    end=place_node[v.base],
                    profile=s.profile,
                    capacities=(math.floor(v.payload_kg * 1000 + 1e-6), _BIG, v.max_drops),
                    earliest_start=drone_start[v.id],
                    latest_end=until,
                    max_distance=math.floor(v.range_m),
                )
            )
    return core.CoreInstance(
        distance=tuple(distance),
        duration=tuple(duration),
        service=np.zeros(n, dtype=np.int64),
        demands=demands,
        windows=windows,
        vehicles=tuple(vehicles),
        allowed=tuple(allowed),
        penalty=tuple(penalty),
        pairs=tuple(pairs),
        sequence=tuple(sequence),
        distance_weight=problem.weights.distance_per_m,
        time_weight=problem.weights.time_per_s,
        horizon=horizon,
        initial_load_free=True,
    )
