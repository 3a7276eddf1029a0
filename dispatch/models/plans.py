"""Plans (versioned per batch), their routes and stops, and the courier positions shown live."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.lifecycle import PlanState, RouteState
from dispatch.models.base import Base, IdMixin, JSONText, StateText, owned_rows, utcnow
from dispatch.models.orders import Batch


class Plan(IdMixin, Base):
    """One version of a batch's plan; every edit makes a new version, the old one is superseded."""

    __tablename__ = "plan"
    __table_args__ = (UniqueConstraint("batch_id", "version"),)

    batch_id: Mapped[str] = mapped_column(ForeignKey("batch.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[PlanState] = mapped_column(StateText(PlanState), default=PlanState.PROPOSED)
    problem: Mapped[dict[str, Any]] = mapped_column(JSONText)  # routing.Problem JSON
    solution: Mapped[dict[str, Any]] = mapped_column(JSONText)  # routing.Solution JSON
    validation: Mapped[dict[str, Any]] = mapped_column(JSONText)  # {"ok": bool, "violations": [...]}
    unserved: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # [{"order_id", "reason"}]
    note: Mapped[str] = mapped_column(Text, default="")  # what edit made this version
    #: What the plan says about flying (stored phrases): the permit each drone flies a zone
    #: under, or why a zone stays no-fly; weather that keeps drones down.
    flight_notes: Mapped[list[Any]] = mapped_column(JSONText, default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column()

    batch: Mapped[Batch] = relationship()
    routes: Mapped[list[Route]] = owned_rows("plan", order_by="Route.position")


class Route(IdMixin, Base):
    __tablename__ = "route"

    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    volunteer_id: Mapped[str | None] = mapped_column(ForeignKey("volunteer.id"), index=True)
    drone_id: Mapped[str | None] = mapped_column(ForeignKey("drone.id"))
    #: A community-bus leg (mode ``bus``): the trip its parcels ride; no courier or drone.
    bus_trip_id: Mapped[str | None] = mapped_column(ForeignKey("bus_trip.id"))
    sortie: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # walk | bicycle | car | drone | bus
    depart_at: Mapped[dt.datetime | None] = mapped_column()
    return_at: Mapped[dt.datetime | None] = mapped_column()
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[RouteState] = mapped_column(StateText(RouteState), default=RouteState.PLANNED)
    #: What the map draws: the route as one simplified WGS84 line [[lon, lat], ...], along the roads
    #: for couriers and through the detour waypoints for drones. Computed once when the version is
    #: stored (versions never change), so no page runs a road path search; None: not computed.
    path: Mapped[list[Any] | None] = mapped_column(JSONText, default=None)
    #: Drone sorties: the permit numbers the flight relies on (zones needing authorisation on the
    #: path), fixed when the version is stored.
    permits: Mapped[list[Any]] = mapped_column(JSONText, default=list)

    plan: Mapped[Plan] = relationship(back_populates="routes")
    stops: Mapped[list[Stop]] = owned_rows("route", order_by="Stop.seq")


class Stop(IdMixin, Base):
    __tablename__ = "stop"

    route_id: Mapped[str] = mapped_column(ForeignKey("route.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="delivery")  # pickup | delivery
    eta: Mapped[dt.datetime | None] = mapped_column()
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)

    route: Mapped[Route] = relationship(back_populates="stops")


class CourierPosition(IdMixin, Base):
    __tablename__ = "courier_position"

    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteer.id"), index=True)
    route_id: Mapped[str | None] = mapped_column(ForeignKey("route.id"))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
