"""MLIT flight permits and approvals (許可・承認) a hub's drone operator holds (issue 14, item 1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, IdMixin, JSONText, utcnow


class Permit(IdMixin, Base):
    """One permit/approval: what it allows (特定飛行 categories), for which aircraft, pilots and
    zones, and when (local calendar days, both inclusive, in the region's timezone).

    Aircraft and zones are kept by their region-file codes (drone ``code``, zone ``identifier``),
    which survive a region reload; pilots by name as written on the permit.
    """

    __tablename__ = "permit"
    __table_args__ = (UniqueConstraint("region_id", "number"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id"), index=True)  # the operator's hub
    number: Mapped[str] = mapped_column(String(100))  # 許可承認番号, as issued
    holder: Mapped[str] = mapped_column(String(200), default="")  # 飛行の主体者
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    categories: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # routing.CATEGORIES
    drones: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # drone codes
    pilots: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # names
    zones: Mapped[list[Any]] = mapped_column(JSONText, default=list)  # zone identifiers
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="console")  # region | console
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
