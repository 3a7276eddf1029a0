"""KPIs for effect measurement, per hub, per day and over a range (formulas in docs/planners.md).

Every figure is computed from :class:`~dispatch.studies.facts.Facts` by a formula simple enough
to check by hand; ``None`` means "not defined" (no delivered order, no courier hour), never 0.
The CO2 factors and their sources travel with the numbers (:data:`FACTORS`), so every table that
shows a CO2 figure can print where it comes from.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from dispatch.lifecycle import OrderState
from dispatch.studies.facts import Facts, OrderFact, RouteFact
from routing.geo import to_metric

MODES = ("walk", "bicycle", "car", "drone")


@dataclass(frozen=True)
class Factor:
    """One emission factor: value, unit and where it comes from."""

    name: str
    value: float
    unit: str
    source: str


#: Emission factors. Change them here (and in docs/planners.md) when better figures exist.
FACTORS: dict[str, Factor] = {
    "baseline_car": Factor(
        "private car, household shopping trip", 130.0, "g-CO2/km",
        "MLIT, 運輸部門における二酸化炭素排出量 (輸送量あたりのCO2排出量, 自家用乗用車 ≈130 g-CO2/人km, "
        "FY2021); one occupant per trip, so per person-km = per vehicle-km"),
    "kei_car": Factor(
        "volunteer's kei car", 116.0, "g-CO2/km",
        "gasoline 2.32 kg-CO2/L (MOE 算定・報告・公表制度 算定方法・排出係数一覧) ÷ 20 km/L (real-world "
        "kei car fuel economy, assumed)"),
    "drone_energy": Factor(
        "multicopter energy use", 0.05, "kWh/km",
        "assumed, order of magnitude of published small delivery multicopters (e.g. Stolaroff et al., "
        "Nature Communications 9, 409, 2018); replace with the operator's measured battery use"),
    "grid": Factor(
        "grid electricity", 0.43, "kg-CO2/kWh",
        "assumed, order of the national average of MOE/METI 電気事業者別排出係数; use the supplier's "
        "current published factor (e.g. 関西電力)"),
    "circuity": Factor(
        "road distance / straight distance", 1.3, "ratio",
        "assumed circuity of rural mountain roads (valley roads wind; 1.2-1.4 is typical)"),
}
ZERO_EMISSION_MODES = frozenset({"walk", "bicycle"})


def mode_factor_g_per_km(mode: str) -> float:
    """Grams of CO2 per km for a delivery mode (walk and bicycle: 0)."""
    if mode in ZERO_EMISSION_MODES:
        return 0.0
    if mode == "drone":
        return FACTORS["drone_energy"].value * FACTORS["grid"].value * 1000
    return FACTORS["kei_car"].value


@dataclass
class Kpis:
    """The KPIs of one scope (a hub or all hubs; a day or the whole range)."""

    hub: str  # hub code or "all"
    day: str  # ISO date or "range"
    orders: int = 0
    delivered: int = 0
    cancelled: int = 0
    on_time: int = 0
    with_window: int = 0
    on_time_share: float | None = None
    lead_median_min: float | None = None
    lead_p90_min: float | None = None
    km_by_mode: dict[str, float] = field(default_factory=dict)
    courier_hours: float = 0.0
    drone_sorties: int = 0
    drone_km: float = 0.0
    bus_legs: int = 0  # parcels that rode a community bus (貨客混載)
    courier_parcels: int = 0
    parcels_per_courier_hour: float | None = None
    co2_service_kg: float = 0.0
    co2_baseline_kg: float = 0.0
    co2_saved_kg: float = 0.0
    residents: int = 0
    residents_ordering: int = 0
    residents_reached_share: float | None = None
    unserved: dict[str, int] = field(default_factory=dict)

    def row(self) -> dict[str, object]:
        """A flat row (CSV, tables): one column per mode and per unserved reason."""
        data = asdict(self)
        km = data.pop("km_by_mode")
        unserved = data.pop("unserved")
        for mode in MODES:
            data[f"km_{mode}"] = round(km.get(mode, 0.0), 3)
        data["unserved_total"] = sum(unserved.values())
        for reason, n in sorted(unserved.items()):
            data[f"unserved_{reason}"] = n
        return data


def percentile_nearest_rank(values: list[float], q: float) -> float:
    """The nearest-rank percentile: the ``ceil(q/100 · n)``-th smallest value (q in (0, 100])."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def on_time(order: OrderFact) -> bool | None:
    """Delivered within the ETA window told to the resident (inclusive); None if not applicable."""
    if order.delivered_at is None or order.eta_window is None:
        return None
    start, end = order.eta_window
    return start <= order.delivered_at <= end


def baseline_km(facts: Facts, orders: list[OrderFact]) -> float:
    """Kilometres the households would have driven instead: for each delivered order, a return trip
    from home to the nearest supply point ("town"; any hub when the region has none), straight
    distance × circuity × 2."""
    towns = [h for h in facts.hubs.values() if h.kind == "supply"] or list(facts.hubs.values())
    homes = [facts.residents[o.resident_id] for o in orders if o.resident_id in facts.residents]
    if not homes or not towns:
        return 0.0
    h = to_metric(facts.crs, np.array([(r.lon, r.lat) for r in homes]))
    t = to_metric(facts.crs, np.array([(p.lon, p.lat) for p in towns]))
    nearest = np.sqrt(((h[:, None, :] - t[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    return float(nearest.sum()) * 2 * FACTORS["circuity"].value / 1000


def compute(facts: Facts, hub_ids: set[str] | None, days: set[dt.date] | None, *, hub: str = "all",
            day: str = "range") -> Kpis:
    """KPIs over the orders and routes of ``hub_ids`` (None: all) on ``days`` (None: the range)."""
    def keep(hub_id: str, d: dt.date) -> bool:
        return (hub_ids is None or hub_id in hub_ids) and (days is None or d in days)

    orders = [o for o in facts.orders if keep(o.hub_id, o.day)]
    routes = [r for r in facts.routes if keep(r.hub_id, r.day)]
    k = Kpis(hub=hub, day=day, orders=len(orders))
    delivered = [o for o in orders if o.delivered_at is not None]
    k.delivered = len(delivered)
    k.cancelled = sum(o.state == OrderState.CANCELLED for o in orders)
    timed = [t for t in (on_time(o) for o in delivered) if t is not None]
    k.with_window, k.on_time = len(timed), sum(timed)
    k.on_time_share = k.on_time / k.with_window if k.with_window and facts.basis == "recorded" else None
    leads = [(o.delivered_at - o.created_at).total_seconds() / 60 for o in delivered
             if o.delivered_at is not None]
    if leads:
        k.lead_median_min = round(statistics.median(leads), 1)
        k.lead_p90_min = round(percentile_nearest_rank(leads, 90), 1)
    hours = _route_kpis(k, routes)
    k.courier_parcels = sum(o.parcels for o in delivered if o.delivered_by not in ("drone", "bus"))
    k.parcels_per_courier_hour = round(k.courier_parcels / hours, 2) if hours > 0 else None
    k.co2_service_kg = round(sum(km * mode_factor_g_per_km(m) for m, km in k.km_by_mode.items()) / 1000, 3)
    k.co2_baseline_kg = round(baseline_km(facts, delivered) * FACTORS["baseline_car"].value / 1000, 3)
    k.co2_saved_kg = round(k.co2_baseline_kg - k.co2_service_kg, 3)
    residents = [r for r in facts.residents.values() if hub_ids is None or r.hub_id in hub_ids]
    k.residents = len(residents)
    ordering = {o.resident_id for o in orders}
    k.residents_ordering = len(ordering & {r.id for r in residents})
    k.residents_reached_share = k.residents_ordering / k.residents if k.residents else None
    k.unserved = dict(sorted(Counter(o.unserved_reason for o in orders if o.unserved_reason).items()))
    return k


def _route_kpis(k: Kpis, routes: Iterable[RouteFact]) -> float:
    """Fill kilometres, courier hours and sorties; return the unrounded courier hours."""
    km: dict[str, float] = {}
    for r in routes:
        km[r.mode] = km.get(r.mode, 0.0) + r.distance_m / 1000
        if r.mode == "drone":
            k.drone_sorties += 1
            k.drone_km += r.distance_m / 1000
        elif r.mode == "bus":  # the bus runs anyway: no courier hours, only the parcels it took
            k.bus_legs += r.deliveries
        elif r.deliveries:
            k.courier_hours += r.hours
    k.km_by_mode = {m: round(v, 3) for m, v in sorted(km.items())}
    k.drone_km = round(k.drone_km, 3)
    hours, k.courier_hours = k.courier_hours, round(k.courier_hours, 3)
    return hours


@dataclass
class KpiTable:
    """Per hub per day, per hub over the range, and all hubs (per day and over the range)."""

    rows: list[Kpis]
    basis: str

    def total(self) -> Kpis:
        return next(r for r in self.rows if r.hub == "all" and r.day == "range")

    def to_csv(self) -> str:
        flat = [r.row() for r in self.rows]
        columns: list[str] = []
        for row in flat:
            columns += [c for c in row if c not in columns]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, restval=0, lineterminator="\n")
        writer.writeheader()
        writer.writerows(flat)
        return out.getvalue()


def kpi_table(facts: Facts) -> KpiTable:
    """Every scope: each hub with orders or residents × (each day, the range), then all hubs."""
    rows: list[Kpis] = []
    hubs = sorted({o.hub_id for o in facts.orders} | {r.hub_id for r in facts.residents.values()},
                  key=lambda h: facts.hubs[h].code)
    for hub_id in hubs:
        code = facts.hubs[hub_id].code
        for d in facts.days():
            rows.append(compute(facts, {hub_id}, {d}, hub=code, day=d.isoformat()))
        rows.append(compute(facts, {hub_id}, None, hub=code))
    if len(facts.days()) > 1:
        for d in facts.days():
            rows.append(compute(facts, None, {d}, day=d.isoformat()))
    rows.append(compute(facts, None, None))
    return KpiTable(rows, facts.basis)


#: The columns people compare (label, attribute), in display order.
HEADLINE = (
    ("orders", "orders"), ("delivered", "delivered"), ("on-time share", "on_time_share"),
    ("lead time median (min)", "lead_median_min"), ("lead time p90 (min)", "lead_p90_min"),
    ("km walk", "km_walk"), ("km bicycle", "km_bicycle"), ("km car", "km_car"),
    ("km drone", "km_drone"), ("courier hours", "courier_hours"), ("drone sorties", "drone_sorties"),
    ("drone flight km", "drone_km"), ("parcels by community bus", "bus_legs"),
    ("parcels per courier hour", "parcels_per_courier_hour"),
    ("CO2 service (kg)", "co2_service_kg"), ("CO2 baseline (kg)", "co2_baseline_kg"),
    ("CO2 saved (kg)", "co2_saved_kg"), ("residents reached", "residents_reached_share"),
    ("unserved", "unserved_total"),
)


def compare(base: Kpis, other: Kpis) -> list[tuple[str, object, object, object]]:
    """(label, base, scenario, difference) for each headline KPI; difference None when undefined."""
    a, b = base.row(), other.row()
    out = []
    for label, key in HEADLINE:
        x, y = a.get(key, 0), b.get(key, 0)
        diff = None
        if isinstance(x, int | float) and isinstance(y, int | float):
            diff = round(y - x, 3)
        out.append((label, x, y, diff))
    return out
