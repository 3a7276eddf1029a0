"""Community-bus legs in a batch's plan (貨客混載, issue 20, item 3).

Before the solver runs, :func:`take_bus_legs` offers the batch's orders to the region's bus
trips running that day (``BusTrip`` rows, from ``gtfs/`` and ``bus_parcels.csv``); the choice is
:func:`routing.bus.plan_bus_legs` (a stop near the hub, a stop near the home inside the order's
window, cheaper than the courier's cheapest insertion). Orders sent by bus leave the courier
problem; :func:`save_bus_legs` stores each trip used as a route of mode ``bus`` whose stops are
the boarding (``pickup``: the hub hands the parcel to the driver) and the alighting stop
(``delivery``: the resident, or a courier, collects it from the driver there at the bus's time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

import routing
from dispatch.lifecycle import OrderState, transition
from dispatch.models import Batch, BusTrip, Hub, Order, Plan, Region, Route, Stop, utcnow
from dispatch.planning.build import Built, Horizon, horizon_of
from dispatch.region.gtfs import Service
from routing.bus import BusLeg, BusParams, Call, plan_bus_legs
from routing.travel.matrices import build_travel


def day_trips(session: Session, region_id: str, hz: Horizon) -> list[routing.bus.BusTrip]:
    """The region's parcel-carrying trips running on the horizon's local day, times from ``t0``."""
    day = hz.start.astimezone(hz.tz).date()
    midnight = dt.datetime.combine(day, dt.time(0), hz.tz)
    trips = []
    for row in session.scalars(
        select(BusTrip).where(BusTrip.region_id == region_id, BusTrip.max_parcels > 0).order_by(BusTrip.code)
    ):
        if not Service.from_json(row.service).runs_on(day):
            continue
        calls = tuple(
            Call(
                stop_id,
                lon,
                lat,
                hz.seconds(midnight + _clock(arrival)),
                hz.seconds(midnight + _clock(departure)),
            )
            for stop_id, _name, lon, lat, arrival, departure in row.calls
        )
        trips.append(routing.bus.BusTrip(row.id, calls, row.max_parcels, row.max_kg))
    return trips


def _clock(text: str) -> dt.timedelta:
    """A GTFS time of the service day (``25:10:00`` is 01:10 the next morning)."""
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)


def take_bus_legs(
    session: Session, batch: Batch, built: Built, params: routing.SolveParams, bus: BusParams | None = None
) -> tuple[Built, list[BusLeg]]:
    """``built`` without the orders that go by bus, and their legs (none: ``built`` unchanged)."""
    hub = session.get_one(Hub, batch.hub_id)
    region = session.get_one(Region, hub.region_id)
    trips = day_trips(session, region.id, horizon_of(batch, hub, region))
    problem = built.problem
    if not trips or not problem.orders or not problem.vehicles:
        return built, []
    legs = plan_bus_legs(problem, build_travel(problem, params), trips, bus or BusParams())
    if not legs:
        return built, []
    by_bus = {leg.order_id for leg in legs}
    rest = replace(problem, orders=tuple(o for o in problem.orders if o.id not in by_bus))
    return replace(built, problem=rest), legs


def save_bus_legs(session: Session, plan: Plan, t0: dt.datetime, legs: list[BusLeg]) -> list[Route]:
    """One ``bus`` route per trip used, after the plan's other routes; its orders become planned."""
    routes = []
    position = len(plan.routes)
    for trip_id in sorted({leg.trip_id for leg in legs}):
        trip = session.get_one(BusTrip, trip_id)
        mine = sorted(
            (leg for leg in legs if leg.trip_id == trip_id),
            key=lambda leg: (leg.alight.arrival, leg.order_id),
        )
        board = min(leg.board.departure for leg in mine)
        last = max(leg.alight.arrival for leg in mine)
        route = Route(
            plan_id=plan.id,
            position=position,
            bus_trip_id=trip.id,
            mode="bus",
            depart_at=t0 + dt.timedelta(seconds=board),
            return_at=t0 + dt.timedelta(seconds=last),
            distance_m=0.0,
            path=_path(trip.calls, mine),
        )
        position += 1
        stops = [(leg.order_id, "pickup", leg.board) for leg in mine] + [
            (leg.order_id, "delivery", leg.alight) for leg in mine
        ]
        route.stops = [
            Stop(
                seq=seq,
                order_id=order_id,
                kind=kind,
                eta=t0 + dt.timedelta(seconds=call.departure if kind == "pickup" else call.arrival),
                lon=call.lon,
                lat=call.lat,
            )
            for seq, (order_id, kind, call) in enumerate(stops, start=1)
        ]
        session.add(route)
        routes.append(route)
    for order in session.scalars(select(Order).where(Order.id.in_([leg.order_id for leg in legs]))):
        if order.state == OrderState.BATCHED.value:
            transition(order, OrderState.PLANNED)
            order.updated_at = utcnow()
    return routes


def carry_bus_routes(session: Session, previous: Plan, plan: Plan) -> None:
    """An edit or a re-timing of ``previous`` keeps its bus legs (the buses keep their timetable):
    each ``bus`` route is copied into the new version ``plan``, after its other routes."""
    position = len(plan.routes)
    for route in previous.routes:
        if route.mode != "bus":
            continue
        copy = Route(
            plan_id=plan.id,
            position=position,
            bus_trip_id=route.bus_trip_id,
            mode="bus",
            depart_at=route.depart_at,
            return_at=route.return_at,
            distance_m=route.distance_m,
            path=route.path,
        )
        copy.stops = [
            Stop(seq=st.seq, order_id=st.order_id, kind=st.kind, eta=st.eta, lon=st.lon, lat=st.lat)
            for st in route.stops
        ]
        session.add(copy)
        position += 1


def bus_stop_name(session: Session, route: Route, stop: Stop) -> str:
    """The timetable's name of the stop where ``stop`` of a bus route is (matched by place)."""
    trip = session.get_one(BusTrip, route.bus_trip_id)
    for _stop_id, name, lon, lat, _arrival, _departure in trip.calls:
        if abs(lon - stop.lon) < 1e-7 and abs(lat - stop.lat) < 1e-7:
            return str(name)
    return ""


def _path(calls: list[list[object]], legs: list[BusLeg]) -> list[list[float]]:
    """The bus's line on the map: its stops from the first boarding to the last alighting."""
    ids = [c[0] for c in calls]
    first = min(ids.index(leg.board.stop_id) for leg in legs)
    last = max(ids.index(leg.alight.stop_id) for leg in legs)
    return [[float(c[2]), float(c[3])] for c in calls[first : last + 1]]  # type: ignore[arg-type]
