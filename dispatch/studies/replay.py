"""Replay data: what happened (handoff events, courier positions) beside what was planned.

Plain data only; the web layer draws it (a folium map plus a time slider). Works the same for real
and simulated days, since both leave the same rows: orders, confirmed plan versions, handoff events
and courier positions. Events without a place (an operator confirming at the hub) are drawn at the
hub of their ``hub:<id>`` party, or not drawn but kept in the parcel's timeline.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import routing
from dispatch.db import Database
from dispatch.models import Batch, CourierPosition, HandoffEvent, Order, Plan, Route
from dispatch.services.plans import SortieLog, drone_sorties
from dispatch.studies.facts import Facts, load_facts, local_bounds

#: Colours of event kinds on the replay map.
KIND_COLOURS = {
    "hub_to_courier": "#0d6efd", "hub_to_drone": "#6f42c1", "supply_to_drone": "#6f42c1",
    "supply_to_courier": "#0d6efd", "supply_to_hub": "#6c757d", "drone_to_hub": "#6f42c1",
    "courier_to_hub": "#6c757d", "courier_to_resident": "#198754", "drone_to_resident": "#198754",
    "courier_to_neighbour": "#20c997", "courier_to_hall": "#20c997", "returned": "#dc3545",
}


@dataclass(frozen=True)
class Step:
    """One line of a parcel's timeline. ``what`` is the English text; ``code`` and ``args`` let a page
    say it in its own language (``ordered`` (channel), ``batch``, ``eta`` (local end time),
    ``handoff`` (kind, proof), ``sortie`` (order number, kind))."""

    at: dt.datetime
    what: str
    code: str = ""
    args: tuple[str, ...] = ()


@dataclass
class ParcelTimeline:
    order_id: str
    number: int
    hub: str
    state: str
    steps: list[Step] = field(default_factory=list)


@dataclass
class Replay:
    facts: Facts
    happened: list[dict[str, Any]]  # GeoJSON Point features with "time" (ISO, UTC) and "track"
    planned: dict[str, Any]  # routing's plan GeoJSON of the confirmed plans
    timelines: list[ParcelTimeline]
    sorties: list[SortieLog]
    sortie_events: dict[str, list[Step]]  # drone sortie route id -> recorded hand-overs

    @property
    def times(self) -> list[str]:
        return sorted({f["properties"]["time"] for f in self.happened})


def load_replay(db: Database, start: dt.date, end: dt.date, hub_codes: list[str] | None = None) -> Replay:
    facts = load_facts(db, start, end, hub_codes=hub_codes)
    order_ids = [o.id for o in facts.orders]
    numbers = {o.id: o.number for o in facts.orders}
    lo, hi = local_bounds(facts.tz, start, end)
    with db.read() as s:
        events = [e for chunk in _chunks(order_ids) for e in s.scalars(
            select(HandoffEvent).where(HandoffEvent.order_id.in_(chunk)).order_by(HandoffEvent.seq))]
        route_ids = [r.id for r in facts.routes]
        positions = [p for chunk in _chunks(route_ids) for p in s.scalars(
            select(CourierPosition).where(
                CourierPosition.route_id.in_(chunk), CourierPosition.recorded_at >= lo,
                CourierPosition.recorded_at < hi).order_by(CourierPosition.recorded_at))]
        plans = list(s.execute(select(Plan.id, Plan.batch_id).where(Plan.id.in_(facts.plan_ids))))
        planned = _planned_features(s, [(p.id, p.batch_id) for p in plans])
        batch_ids = [p.batch_id for p in plans]
        batches = {b.id: b for b in s.scalars(select(Batch).where(Batch.id.in_(batch_ids)))}
        flown = {(st.order_id, r.drone_id): r.id for r in s.scalars(
            select(Route).where(Route.plan_id.in_(facts.plan_ids), Route.drone_id.is_not(None)))
            for st in r.stops}
        order_rows = {o.id: o for chunk in _chunks(order_ids)
                      for o in s.scalars(select(Order).where(Order.id.in_(chunk)))}
    happened = [*_event_features(facts, events, numbers), *_position_features(positions)]
    timelines = _timelines(facts, events, order_rows, batches)
    sorties = [log for plan in plans for log in drone_sorties(db, plan.id)]
    sortie_events: dict[str, list[Step]] = defaultdict(list)
    for e in events:
        if e.from_party.startswith("drone:") or e.to_party.startswith("drone:"):
            drone = (e.from_party if e.from_party.startswith("drone:") else e.to_party).split(":", 1)[1]
            route_id = flown.get((e.order_id, drone))
            if route_id is not None:
                number = str(numbers.get(e.order_id))
                sortie_events[route_id].append(Step(e.occurred_at, f"#{number} {e.kind}", "sortie",
                                                    (number, e.kind)))
    return Replay(facts, happened, {"type": "FeatureCollection", "features": planned}, timelines, sorties,
                  dict(sortie_events))


#: The plan GeoJSON features of each plan version (immutable once stored), computed once per
#: process: reading a version's problem back and drawing it along the roads was most of a replay
#: (issue 16, item 8). Readers never change the features.
_PLANNED: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
_PLANNED_LOCK = threading.Lock()
PLANNED_CACHE_SIZE = 64


def _planned_features(s: Session, plans: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """routing's plan GeoJSON features of ``plans`` ((plan id, batch id), in order)."""
    with _PLANNED_LOCK:
        missing = [(pid, bid) for pid, bid in plans if pid not in _PLANNED]
    if missing:
        rows = s.execute(select(Plan.id, Plan.batch_id, Plan.problem, Plan.solution)
                         .where(Plan.id.in_([pid for pid, _ in missing])))
        for row in rows:
            problem = routing.problem_from_json(row.problem, check_schema=False)  # stored by us
            solution = routing.solution_from_json(row.solution, check_schema=False)
            features = routing.plan_geojson(problem, solution, row.batch_id)["features"]
            with _PLANNED_LOCK:
                _PLANNED[row.id] = features
                while len(_PLANNED) > PLANNED_CACHE_SIZE:
                    _PLANNED.popitem(last=False)
    out: list[dict[str, Any]] = []
    with _PLANNED_LOCK:
        for pid, _bid in plans:
            features = _PLANNED.get(pid)
            if features is not None:
                _PLANNED.move_to_end(pid)
                out += features
    return out


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[k:k + size] for k in range(0, len(ids), size)] or [[]]


def _event_features(facts: Facts, events: list[HandoffEvent],
                    numbers: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        lon, lat = e.lon, e.lat
        if lon is None or lat is None:
            party = next((p for p in (e.from_party, e.to_party) if p.startswith("hub:")), None)
            hub = facts.hubs.get(party.split(":", 1)[1]) if party else None
            if hub is None:
                continue
            lon, lat = hub.lon, hub.lat
        out.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"time": e.occurred_at.astimezone(dt.UTC).isoformat(), "track": "",
                                   "label": f"#{numbers.get(e.order_id, '?')} {e.kind}",
                                   "colour": KIND_COLOURS.get(e.kind, "#6c757d"), "kind": e.kind}})
    return out


def _position_features(positions: list[CourierPosition]) -> list[dict[str, Any]]:
    """Courier positions; ``track`` groups them per courier so the slider shows where each one is."""
    return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
             "properties": {"time": p.recorded_at.astimezone(dt.UTC).isoformat(), "track": p.volunteer_id,
                            "label": "courier", "colour": "#ffc107", "kind": "position"}}
            for p in positions]


def _timelines(facts: Facts, events: list[HandoffEvent], orders: dict[str, Order],
               batches: dict[str, Batch]) -> list[ParcelTimeline]:
    by_order: dict[str, list[HandoffEvent]] = defaultdict(list)
    for e in events:
        by_order[e.order_id].append(e)
    out = []
    for o in facts.orders:
        steps = [Step(o.created_at, f"ordered ({o.channel})", "ordered", (o.channel,))]
        row = orders.get(o.id)
        batch = batches.get(row.batch_id) if row is not None and row.batch_id else None
        if batch is not None:
            steps.append(Step(batch.cutoff_at, "batch closed", "batch"))
        if o.eta_window is not None:
            until = f"{o.eta_window[1].astimezone(facts.tz):%H:%M}"
            steps.append(Step(o.eta_window[0], f"ETA window until {until}", "eta", (until,)))
        steps += [Step(e.occurred_at, f"{e.kind} ({e.proof})", "handoff", (e.kind, e.proof))
                  for e in by_order.get(o.id, [])]
        steps.sort(key=lambda s: s.at)
        out.append(ParcelTimeline(o.id, o.number, facts.hubs[o.hub_id].code, o.state, steps))
    return out
