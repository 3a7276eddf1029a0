"""The static world of a region: hubs, residents and their proxies, couriers, drones, roads, zones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, Time, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, IdMixin, JSONText, utcnow


class Region(IdMixin, Base):
    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(64), unique=True)  # folder name, e.g. "tajima"
    name: Mapped[str] = mapped_column(String(200))
    crs: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    order_seq: Mapped[int] = mapped_column(Integer, default=0)  # last short order number given

    hubs: Mapped[list[Hub]] = relationship(back_populates="region")


class Hub(IdMixin, Base):
    """A village hub (where couriers start) or a supply point (post office, shop, depot)."""

    __tablename__ = "hub"
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # hub | supply
    drone_port: Mapped[bool] = mapped_column(Boolean, default=False)
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)
    cutoffs: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # ["HH:MM", ...] local time
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    weather_hold: Mapped[bool] = mapped_column(Boolean, default=False)  # grounds the hub's drones
    #: The hub's phone (E.164), which residents call or text; "" when the region file gives none.
    phone: Mapped[str] = mapped_column(String(20), default="", server_default="")

    region: Mapped[Region] = relationship(back_populates="hubs")


class Resident(IdMixin, Base):
    __tablename__ = "resident"
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))  # the resident code a proxy quotes
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    language: Mapped[str] = mapped_column(String(8), default="ja")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    drop_lon: Mapped[float | None] = mapped_column(Float)
    drop_lat: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where a courier may leave a parcel when nobody answers: none | neighbour | hall | either,
    # with how and when the resident agreed (and which neighbour or hall) in the note.
    handover_consent: Mapped[str] = mapped_column(String(16), default="none")  # one of HANDOVER_CONSENT
    handover_consent_note: Mapped[str] = mapped_column(Text, default="")

    hub: Mapped[Hub] = relationship()


class Proxy(IdMixin, Base):
    """Someone allowed to order for a resident, with the resident's consent on record."""

    __tablename__ = "proxy"
    __table_args__ = (UniqueConstraint("resident_id", "phone"),)

    resident_id: Mapped[str] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    relation: Mapped[str] = mapped_column(String(32))  # family | welfare | hub_staff | neighbour
    consent_recorded_at: Mapped[dt.datetime] = mapped_column()
    consent_note: Mapped[str] = mapped_column(Text, default="")  # how consent was given
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The consent record (issue 15): who consented (the resident, or their guardian), how (one of
    # CONSENT_METHODS), what it covers, and the operator who recorded it; a revoked proxy keeps
    # its row (orders point at it) with when and by whom it was revoked.
    consented_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    consent_method: Mapped[str] = mapped_column(String(16), default="in_person", server_default="in_person")
    covers_ordering: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    covers_receiving: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    recorded_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))

    resident: Mapped[Resident] = relationship()


#: Training a volunteer may have completed (``volunteers.csv`` column ``training``); an order that
#: needs one (``Order.needs_training``) is only planned for a courier who has it.
TRAINING = ("pin", "welfare", "medicine")
#: How a resident gave a proxy their consent (``Proxy.consent_method``).
CONSENT_METHODS = ("in_person", "paper", "phone")
#: Who a proxy is to the resident (``Proxy.relation``).
PROXY_RELATIONS = ("family", "welfare", "hub_staff", "neighbour")


#: A resident's consent to a handover when nobody is home (region format ``handover``).
HANDOVER_CONSENT = ("none", "neighbour", "hall", "either")


class Volunteer(IdMixin, Base):
    __tablename__ = "volunteer"
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # walk | bicycle | car
    capacity_kg: Mapped[float] = mapped_column(Float)
    max_parcels: Mapped[int] = mapped_column(Integer)
    shift_start: Mapped[dt.time] = mapped_column(Time)
    shift_end: Mapped[dt.time] = mapped_column(Time)
    days: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # ["mon", ...]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="ja")  # of the courier's SMS
    #: Called off (courier cancelled mid-day): not planned for shifts starting before this instant.
    off_until: Mapped[dt.datetime | None] = mapped_column()
    #: Completed training (subset of :data:`TRAINING`), e.g. ``["pin", "medicine"]``.
    training: Mapped[list[Any]] = mapped_column(JSONText, default=list, server_default="[]")

    hub: Mapped[Hub] = relationship()


class TrainingRecord(IdMixin, Base):
    """A volunteer's completed training as an operator recorded it in the console (issue 15, item 4).

    Kept apart from ``Volunteer.training`` (which also holds what ``volunteers.csv`` says) so that a
    region reload can tell the two apart: training recorded here survives a reload whose file
    does not list it (``docs/volunteers.md``)."""

    __tablename__ = "training_record"

    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteer.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(16))  # one of TRAINING
    completed_on: Mapped[dt.date] = mapped_column()
    recorded_by_user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    #: The operator (a ``User``, named by string: ``users`` imports this module), loaded with the
    #: record so the week page can name them after its session closed.
    recorded_by: Mapped[Any] = relationship("User", lazy="joined")


class Drone(IdMixin, Base):
    __tablename__ = "drone"
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(100))
    payload_kg: Mapped[float] = mapped_column(Float)
    range_km: Mapped[float] = mapped_column(Float)
    cruise_kmh: Mapped[float] = mapped_column(Float)
    turnaround_min: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="available")  # available | grounded | maintenance
    registration: Mapped[str] = mapped_column(String(32), default="")  # 登録記号, e.g. JU0123456789
    # Weather limits of the model (drones.csv; defaults in dispatch.weather.DEFAULT_LIMITS).
    max_wind_ms: Mapped[float] = mapped_column(Float, default=10.0)  # mean wind
    max_gust_ms: Mapped[float] = mapped_column(Float, default=15.0)
    max_precip_mmh: Mapped[float] = mapped_column(Float, default=1.0)
    min_temp_c: Mapped[float] = mapped_column(Float, default=-10.0)
    min_visibility_m: Mapped[float] = mapped_column(Float, default=1000.0)

    hub: Mapped[Hub] = relationship()


class Road(IdMixin, Base):
    __tablename__ = "road"
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    maxspeed_kmh: Mapped[float | None] = mapped_column(Float)
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    car: Mapped[bool] = mapped_column(Boolean, default=True)
    coords: Mapped[list[Any]] = mapped_column(JSONText)  # [[lon, lat], ...] WGS84


class Zone(IdMixin, Base):
    """A geofence in the ED-318-style profile of the region format."""

    __tablename__ = "zone"
    __table_args__ = (UniqueConstraint("region_id", "identifier"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    identifier: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    variant: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(32))
    buffer_m: Mapped[float] = mapped_column(Float, default=0.0)
    lower_m: Mapped[float | None] = mapped_column(Float)
    upper_m: Mapped[float | None] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONText)  # GeoJSON geometry, WGS84
    applicability: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # [[start|None, end|None]] ISO
    feature: Mapped[dict[str, Any]] = mapped_column(JSONText)  # the original feature, for display
    active_override: Mapped[bool | None] = mapped_column(Boolean)  # operator switch; None = by schedule


class BusTrip(IdMixin, Base):
    """A community-bus trip that may carry parcels (貨客混載), from the region's GTFS feed and
    ``bus_parcels.csv``: its calls, the days it runs and the parcel capacity its drivers agreed to."""

    __tablename__ = "bus_trip"
    __table_args__ = (UniqueConstraint("region_id", "code"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(128))  # GTFS trip_id
    route_code: Mapped[str] = mapped_column(String(128))  # GTFS route_id
    route_name: Mapped[str] = mapped_column(String(200), default="")
    max_parcels: Mapped[int] = mapped_column(Integer)
    max_kg: Mapped[float] = mapped_column(Float)
    agreement: Mapped[str] = mapped_column(Text)  # the drivers' agreement the parcels ride under
    #: when it runs: dispatch.region.gtfs.Service as JSON (calendar weekdays, dates, exceptions)
    service: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    #: [[stop_id, stop name, lon, lat, arrival "HH:MM:SS", departure "HH:MM:SS"], ...] in order
    calls: Mapped[list[Any]] = mapped_column(JSONText, default=list)
