"""Tajima hub scenarios: the whole routing pipeline on 50 / 150 / 300 / 600 orders (issue 3, 10c).

One batch at the IZUSHI village hub of ``sample_regions/tajima`` on Saturday 2026-12-12, 09:00-17:00
JST (the lantern-festival no-fly zone is active from 15:00): orders from the region's residents
nearest the hub (beyond 300 orders, households order twice), one in ten from the TOYOOKA-PO supply
point, a third with a morning or afternoon window, a fifth urgent; couriers with the region's
volunteer modes, capacities and shifts, all based at the hub, repeated until they can carry 1.3
times the parcels; the region's drones
(2 up to 150 orders, then all 4, based at the hub, 8 sorties each); every no-fly zone active that
day. Built with ``routing``'s own dataclasses from the region files (read with the pure region
reader of ``dispatch.region``; nothing else of ``dispatch`` is used).

Per scenario, with the default :class:`routing.SolveParams` (10 s budget, one worker):
``routing.solve`` (matrices + model + search), then ``routing.validate`` → matrix time, solve time,
validation time and result, cost, served and unserved orders, and the full pipeline time.

Reference column: the same scenario reduced to what PyVRP can express (ground couriers with two
capacities, shifts, time windows, optional orders with priority prizes, a fixed cost per courier
used, one travel profile per mode; every order at the hub, no drones or zones) is compiled once by
``routing.model.build_model`` and the *same* matrices go to Hakobu's core and to PyVRP with the
same budget, in the same run. Both results are re-costed and checked by one independent function
(:func:`evaluate_core`), so the ratio compares the search, not the modelling.

    python benchmarks/tajima_scenarios.py                    # 50, 150, 300, 600 orders
    python benchmarks/tajima_scenarios.py --orders 300 --budget 10
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

import routing  # noqa: E402
from dispatch.region.reader import RegionData, read_region  # noqa: E402
from routing import core  # noqa: E402
from routing.geo import to_metric  # noqa: E402
from routing.model import build_model  # noqa: E402

REGION = REPO / "sample_regions" / "tajima"
RESULTS = REPO / "benchmarks" / "results"
HUB = "IZUSHI"
SUPPLY = "TOYOOKA-PO"
DAY = dt.date(2026, 12, 12)
OPENS, CLOSES = dt.time(9, 0), dt.time(17, 0)
NO_FLY = frozenset({"PROHIBITED", "REQ_AUTHORIZATION", "CONDITIONAL"})
SIZES = (50, 150, 300, 600)
SORTIES_PER_DRONE = 8


REGION_FILES = ("region.toml", "hubs.geojson", "residents.geojson", "roads.geojson", "zones.geojson",
                "volunteers.csv", "drones.csv")


def load_region(folder: Path = REGION) -> RegionData:
    """The region's records; only the region files are read (a planner's extra files may lie beside)."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in REGION_FILES:
            if (folder / name).exists():
                shutil.copy(folder / name, Path(tmp) / name)
        return read_region(tmp)


def scenario(region: RegionData, n_orders: int, seed: int = 0) -> routing.Problem:
    """The IZUSHI batch with ``n_orders`` orders (see the module docstring)."""
    rng = random.Random(seed)
    tz = ZoneInfo(region.meta.timezone)
    t0 = dt.datetime.combine(DAY, OPENS, tz)
    horizon = int((dt.datetime.combine(DAY, CLOSES, tz) - t0).total_seconds())
    hubs = {h.code: h for h in region.hubs}
    hub, supply = hubs[HUB], hubs[SUPPLY]
    xy = to_metric(region.meta.crs, np.array([(r.lon, r.lat) for r in region.residents]))
    hub_xy = to_metric(region.meta.crs, np.array([(hub.lon, hub.lat)]))[0]
    nearest = [region.residents[i] for i in np.argsort(np.hypot(*(xy - hub_xy).T), kind="stable")]
    orders = []
    for k in range(n_orders):
        r = nearest[k % len(nearest)]
        u = rng.random()
        window = (0, horizon) if u < 0.65 else (0, 3 * 3600) if u < 0.85 else (4 * 3600, horizon)
        heavy = rng.random() < 0.15
        orders.append(routing.Order(
            id=f"o{k + 1:03d}",
            weight_kg=round(rng.uniform(5.0, 12.0) if heavy else rng.uniform(0.3, 4.0), 1),
            parcels=2 if heavy else 1,
            home=(r.lon, r.lat),
            window=window,
            origin=SUPPLY if rng.random() < 0.1 else HUB,
            service_s=120,
            priority=1 if rng.random() < 0.2 else 2 if rng.random() < 0.8 else 3,
            drop=(r.drop_lon, r.drop_lat) if r.drop_lon is not None and r.drop_lat is not None else None,
        ))
    # Couriers: the region's volunteers (the hub's own first) with their modes, capacities and
    # shifts, all based at the hub, repeated until they can carry 1.3 times the batch's parcels.
    volunteers = sorted(region.volunteers, key=lambda v: (v.hub_code != HUB, v.code))
    parcels = sum(o.parcels for o in orders)
    vehicles: list[routing.Vehicle] = []
    while len(vehicles) < 8 or sum(v.max_parcels for v in vehicles) < 1.3 * parcels:
        v = volunteers[len(vehicles) % len(volunteers)]
        start = (dt.datetime.combine(DAY, v.shift_start, tz) - t0).total_seconds()
        finish = (dt.datetime.combine(DAY, v.shift_end, tz) - t0).total_seconds()
        vehicles.append(routing.Vehicle(
            id=f"c{len(vehicles) + 1:02d}", mode=v.mode, capacity_kg=v.capacity_kg,
            max_parcels=v.max_parcels, shift_start=max(0, int(start)), shift_end=min(horizon, int(finish)),
            start=hub.code, end=hub.code,
        ))
    n_drones = 2 if n_orders <= 150 else 4
    drones = [
        routing.Drone(
            id=d.code, base=hub.code, payload_kg=d.payload_kg, range_m=d.range_km * 1000,
            cruise_mps=d.cruise_kmh / 3.6, turnaround_s=round(d.turnaround_min * 60),
            max_sorties=SORTIES_PER_DRONE, available_until=horizon,
        )
        for d in sorted(region.drones, key=lambda d: (d.hub_code != HUB, d.code))[:n_drones]
    ]
    end = dt.datetime.combine(DAY, CLOSES, tz)
    zones = [
        routing.Zone(id=z.identifier, geometry=z.geometry, buffer_m=z.buffer_m)
        for z in region.zones
        if z.type in NO_FLY and (not z.applicability or any(
            (w.start is None or w.start < end) and (w.end is None or w.end > t0) for w in z.applicability
        ))
    ]
    roads = [
        routing.Road(id=r.code, kind=r.kind, coords=r.coords, maxspeed_kmh=r.maxspeed_kmh,
                     oneway=r.oneway, car=r.car)
        for r in region.roads
    ]
    return routing.Problem(
        crs=region.meta.crs, timezone=region.meta.timezone, t0=t0,
        hub=routing.Place(hub.code, hub.lon, hub.lat),
        supply_points=(routing.Place(supply.code, supply.lon, supply.lat),),
        vehicles=tuple(vehicles), drones=tuple(drones), orders=tuple(orders),
        zones=tuple(zones), roads=tuple(roads), name=f"tajima {HUB} {n_orders} orders",
    )


def ground_only(problem: routing.Problem) -> routing.Problem:
    """What PyVRP can express: every order at the hub, couriers only, no drones or zones."""
    orders = tuple(dataclasses.replace(o, origin=problem.hub.id, drop=None,
                                       modes=frozenset(routing.GROUND_MODES)) for o in problem.orders)
    return dataclasses.replace(problem, orders=orders, drones=(), zones=(), supply_points=(),
                               name=problem.name + " (ground only)")


# --------------------------------------------------------------------------------- evaluation


@dataclasses.dataclass(frozen=True)
class CoreEvaluation:
    cost: int
    served: int
    unserved: int
    routes: int
    violations: tuple[str, ...]


def evaluate_core(inst: core.CoreInstance, routes: list[list[int]]) -> CoreEvaluation:
    """Re-cost ``routes`` (node lists per core vehicle) and check them, sharing no solver code.

    For the ground-only instances: every visit is a delivery loaded at the start. Checks each
    capacity column, the earliest feasible schedule against every window, the shift end and the
    allowed vehicles, and that no node is visited twice. Cost = arc costs + fixed costs of the
    vehicles used + drop penalties of the nodes not visited.
    """
    problems: list[str] = []
    seen: set[int] = set()
    cost, used = 0, 0
    for v, route in enumerate(routes):
        if not route:
            continue
        used += 1
        veh = inst.vehicles[v]
        dist = np.asarray(inst.distance[veh.profile])
        dur = np.asarray(inst.duration[veh.profile])
        arc = inst.distance_weight * dist + inst.time_weight * dur
        cost += veh.fixed_cost
        load = -np.asarray(inst.demands)[route].sum(axis=0)
        for c, cap in enumerate(veh.capacities):
            if load[c] > cap:
                problems.append(f"vehicle {v}: load {load[c]} over capacity {cap} (column {c})")
        t, prev = veh.earliest_start, veh.start
        for node in route:
            if node in seen:
                problems.append(f"node {node} visited twice")
            seen.add(node)
            allowed = inst.allowed[node] if inst.allowed else None
            if allowed is not None and v not in allowed:
                problems.append(f"node {node} on vehicle {v}, not allowed")
            cost += int(arc[prev, node])
            t = max(t + int(dur[prev, node]), int(inst.windows[node, 0]))
            if t > inst.windows[node, 1]:
                problems.append(f"node {node} served at {t}, after its window {inst.windows[node].tolist()}")
            prev = node
        cost += int(arc[prev, veh.end])
        t += int(dur[prev, veh.end])
        if veh.latest_end is not None and t > veh.latest_end:
            problems.append(f"vehicle {v} back at {t}, after its shift end {veh.latest_end}")
    visits = [i for i, p in enumerate(inst.penalty) if p is not None]
    dropped = [i for i in visits if i not in seen]
    cost += sum(int(inst.penalty[i] or 0) for i in dropped)
    return CoreEvaluation(cost, len(seen), len(dropped), used, tuple(problems))


def pyvrp_routes(inst: core.CoreInstance, budget_s: float, seed: int = 0) -> list[list[int]]:
    """Solve the ground-only core instance with PyVRP; routes per core vehicle, as node lists.

    One PyVRP vehicle type per courier (its shift, capacities, fixed cost and travel profile).
    The arc cost of Hakobu's core (distance and duration weights; durations include the service
    time) is PyVRP's distance matrix at unit cost 1, so both objectives are the same number.
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    n = inst.num_nodes
    depot = inst.vehicles[0].start
    assert all(v.start == depot and v.end == depot for v in inst.vehicles)
    visits = [i for i in range(n) if i != depot]
    order = [depot, *visits]  # PyVRP location k is core node order[k]
    idx = np.array(order)
    demand = -np.asarray(inst.demands)[:, :2]
    clients = [
        pyvrp.Client(location=k, delivery=[int(x) for x in demand[node]],
                     tw_early=int(inst.windows[node, 0]), tw_late=int(inst.windows[node, 1]),
                     required=inst.penalty[node] is None, prize=int(inst.penalty[node] or 0))
        for k, node in enumerate(visits, start=1)
    ]
    profiles = sorted({v.profile for v in inst.vehicles})
    dist_m, dur_m = [], []
    horizon = int(inst.horizon if inst.horizon is not None else inst.windows[:, 1].max())
    for p in profiles:
        d = np.asarray(inst.distance[p], dtype=np.int64)[np.ix_(idx, idx)]
        t = np.asarray(inst.duration[p], dtype=np.int64)[np.ix_(idx, idx)]
        cost = inst.distance_weight * d + inst.time_weight * t
        # A forbidden arc (a car on a footpath) takes longer than the day in PyVRP too; the core's
        # 10^9 would swamp PyVRP's penalty scaling.
        forbidden = (d >= core.UNREACHABLE) | (t >= core.UNREACHABLE)
        dist_m.append(np.where(forbidden, 4 * horizon, cost))
        dur_m.append(np.where(forbidden, 4 * horizon, t))
    types = [
        pyvrp.VehicleType(
            num_available=1, capacity=[int(c) for c in v.capacities[:2]], fixed_cost=int(v.fixed_cost),
            tw_early=int(v.earliest_start),
            tw_late=int(v.latest_end if v.latest_end is not None else horizon),
            profile=profiles.index(v.profile), unit_distance_cost=1, unit_duration_cost=0,
        )
        for v in inst.vehicles
    ]
    data = pyvrp.ProblemData(
        clients=clients, depots=[pyvrp.Depot(location=0, tw_early=0, tw_late=horizon)],
        vehicle_types=types, distance_matrices=dist_m, duration_matrices=dur_m,
        locations=[pyvrp.Location(0.0, 0.0) for _ in order],
    )
    result = pyvrp.solve(data, stop=MaxRuntime(budget_s), seed=seed, display=False, collect_stats=False)
    routes: list[list[int]] = [[] for _ in inst.vehicles]
    for route in result.best.routes():
        # PyVRP numbers clients from 0; client k sits at location k + 1 (the depot is location 0).
        routes[route.vehicle_type()] = [order[int(a.idx) + 1] for a in route if a.is_client()]
    return routes


# --------------------------------------------------------------------------------------- runs


ENGINES = ("auto", "ortools")  # the own search where it applies (the default), OR-Tools alone


def run_pipeline(problem: routing.Problem, n_orders: int, budget_s: float, seed: int,
                 engine: str) -> dict[str, object]:
    """``routing.solve`` + ``routing.validate`` with one engine: times, cost, served, km, hours."""
    params = routing.SolveParams(time_limit_s=budget_s, seed=seed, engine=engine)
    started = time.perf_counter()
    solution = routing.solve(problem, params)
    solved = time.perf_counter()
    report = routing.validate(problem, solution)
    validated = time.perf_counter()
    ground = [r for r in solution.routes if r.mode != routing.DRONE]
    return {
        "orders": n_orders,
        "engine": engine,
        "couriers": len(problem.vehicles),
        "drones": len(problem.drones),
        "zones": len(problem.zones),
        "nodes": solution.stats.get("nodes"),
        "matrix_s": solution.stats.get("matrix_s"),
        "solve_s": solution.stats.get("solve_s"),
        "validate_s": round(validated - solved, 3),
        "pipeline_s": round(validated - started, 3),
        "valid": report.ok,
        "violations": list(report.violations[:3]),
        "cost": solution.cost.total,
        "cost_parts": dataclasses.asdict(solution.cost),
        "served": len(solution.served),
        "unserved": len(solution.unserved),
        "unserved_reasons": _count(u.reason for u in solution.unserved),
        "routes_ground": sum(1 for r in solution.routes if r.mode != routing.DRONE),
        "sorties": sum(1 for r in solution.routes if r.mode == routing.DRONE),
        "strategy": solution.stats.get("strategy"),
        "km_by_mode": {m: round(km, 1) for m, km in solution.km_by_mode.items()},
        "courier_hours": round(sum(r.end - r.start for r in ground) / 3600, 2),
    }


def run_scenario(region: RegionData, n_orders: int, budget_s: float, seed: int) -> dict[str, object]:
    problem = scenario(region, n_orders, seed)
    params = routing.SolveParams(time_limit_s=budget_s, seed=seed)
    runs = {engine: run_pipeline(problem, n_orders, budget_s, seed, engine) for engine in ENGINES}
    row: dict[str, object] = {**runs["auto"], "engines": runs}
    own, ref = runs["auto"]["cost"], runs["ortools"]["cost"]
    row["engine_ratio"] = round(float(own) / float(ref), 4) if ref else None  # type: ignore[arg-type]
    # Reference: the ground-only reduction, same matrices, same budget, Hakobu core vs PyVRP.
    ground = build_model(ground_only(problem), params)
    inst = ground.instance
    assert inst is not None
    result = core.solve_core(inst, core.CoreParams(time_limit_s=budget_s, seed=seed))
    mine = evaluate_core(inst, [list(r) for r in result.routes])
    theirs = evaluate_core(inst, pyvrp_routes(inst, budget_s, seed))
    for name, ev in (("ground_hakobu", mine), ("ground_pyvrp", theirs)):
        row[name] = {"cost": ev.cost, "served": ev.served, "unserved": ev.unserved, "routes": ev.routes,
                     "ok": not ev.violations, "violations": list(ev.violations[:3])}
    row["ground_ratio"] = round(mine.cost / theirs.cost, 4) if theirs.cost else None
    return row


def _count(items: object) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:  # type: ignore[attr-defined]
        out[str(item)] = out.get(str(item), 0) + 1
    return out


def markdown(rows: list[dict[str, object]], budget: float, meta: dict[str, str]) -> str:
    lines = [
        f"# Tajima hub scenarios at {budget:g} s (default SolveParams: one worker)",
        "",
        f"Generated by `python benchmarks/tajima_scenarios.py` ({meta['when']}, commit {meta['commit']}, "
        f"command `{meta['command']}`, load average {meta.get('load', '?')}). IZUSHI hub, "
        "2026-12-12 09:00-17:00 JST; see the script's "
        "docstring for the scenario. Times in seconds; cost in the problem's cost units "
        "(seconds of travel and service + 1800 per courier called out + unserved penalties).",
        "",
        "## Full pipeline (couriers, drones, no-fly zones, supply point)",
        "",
        "Each batch twice in the same run: `auto` (the default: the own search, which now models "
        "these batches) and `ortools` (`SolveParams(engine=\"ortools\")`, the path every such "
        "batch took before). Ratio = auto cost / ortools cost.",
        "",
        "| orders | engine | couriers | drones | nodes | matrix s | solve s | validate s | "
        "pipeline s | valid | cost | ratio | served | unserved | courier routes | sorties | "
        "courier km | courier h |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        for engine, r in row.get("engines", {"auto": row}).items():  # type: ignore[union-attr]
            km = sum(v for m, v in r.get("km_by_mode", {}).items() if m != routing.DRONE)
            ratio = row.get("engine_ratio") if engine == "auto" else ""
            lines.append(
                f"| {r['orders']} | {engine} | {r['couriers']} | {r['drones']} | {r['nodes']} | "
                f"{r['matrix_s']} | {r['solve_s']} | {r['validate_s']} | {r['pipeline_s']} | "
                f"{'yes' if r['valid'] else 'NO'} | {r['cost']} | {ratio} | {r['served']} | "
                f"{r['unserved']} | {r['routes_ground']} | {r['sorties']} | {km:.1f} | "
                f"{r.get('courier_hours', '')} |"
            )
    lines += [
        "",
        "## Reference: ground-only reduction, same matrices and budget, Hakobu core vs PyVRP",
        "",
        "Every order at the hub, couriers only (what PyVRP expresses); both re-costed and checked by "
        "`evaluate_core`. Ratio = Hakobu cost / PyVRP cost (1.00 = as good).",
        "",
        "| orders | Hakobu cost | served | routes | ok | PyVRP cost | served | routes | ok | ratio |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        h, p = r["ground_hakobu"], r["ground_pyvrp"]
        assert isinstance(h, dict) and isinstance(p, dict)
        lines.append(
            f"| {r['orders']} | {h['cost']} | {h['served']} | {h['routes']} | {'yes' if h['ok'] else 'NO'} "
            f"| {p['cost']} | {p['served']} | {p['routes']} | {'yes' if p['ok'] else 'NO'} "
            f"| {r['ground_ratio']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", action="append", type=int, help="scenario size (repeatable)")
    parser.add_argument("--budget", type=float, default=routing.SolveParams().time_limit_s,
                        help="search seconds (default: SolveParams' default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    region = load_region()
    load = os.getloadavg()[0]
    rows = []
    for n in args.orders or SIZES:
        row = run_scenario(region, n, args.budget, args.seed)
        rows.append(row)
        h, p = row["ground_hakobu"], row["ground_pyvrp"]
        assert isinstance(h, dict) and isinstance(p, dict)
        for engine, r in row["engines"].items():  # type: ignore[union-attr]
            print(f"{n:>4} orders {engine:<7}: matrix {r['matrix_s']} s, solve {r['solve_s']} s, "
                  f"validate {r['validate_s']} s, pipeline {r['pipeline_s']} s, valid {r['valid']}, "
                  f"cost {r['cost']}, unserved {r['unserved']} {r['unserved_reasons']}", flush=True)
        print(f"     own / OR-Tools {row['engine_ratio']}; ground-only Hakobu {h['cost']} / PyVRP "
              f"{p['cost']} = {row['ground_ratio']}", flush=True)
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    meta = {"when": dt.datetime.now().isoformat(timespec="minutes"), "commit": commit,
            "load": f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores)",
            "command": "python benchmarks/tajima_scenarios.py " + " ".join(
                argv if argv is not None else sys.argv[1:])}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tajima_scenarios.json").write_text(json.dumps({"meta": meta, "budget_s": args.budget,
                                                                "rows": rows}, indent=1))
    (RESULTS / "tajima_scenarios.md").write_text(markdown(rows, args.budget, meta))
    print(markdown(rows, args.budget, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
