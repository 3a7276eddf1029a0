"""Chain of custody: append-only, hash-chained handoff events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.ids import new_id
from dispatch.models.base import Base, utcnow


class HandoffEvent(Base):
    """One custody change of one parcel. ``seq`` orders the chain; ``hash`` covers no personal data."""

    __tablename__ = "handoff_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(32), unique=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # e.g. hub_to_courier, courier_to_resident, returned
    from_party: Mapped[str] = mapped_column(String(80))  # "hub:<id>", "volunteer:<id>", "drone:<id>"
    to_party: Mapped[str] = mapped_column(String(80))
    actor: Mapped[str] = mapped_column(String(80))  # who recorded it ("user:<id>", "volunteer:<id>")
    proof: Mapped[str] = mapped_column(String(32))  # operator_confirm | courier_scan | resident_pin ...
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")  # free text: kept out of the hash
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
