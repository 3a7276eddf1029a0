"""What hub staff record about a drone sortie: the pre-flight checklist, take-off, landing, abort."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, IdMixin, JSONText


class SortieLog(IdMixin, Base):
    """One row per sortie that staff acted on (a drone :class:`~dispatch.models.Route`).

    Written at take-off with the checklist the pilot went through, then completed at the landing
    or the abort. An abort before take-off has no checklist (``taken_off_at`` is None). The
    custody of the parcels is in the handoff chain; this row is the flight's own record (what was
    checked, by whom, under which permit), kept apart so the hashed chain carries no free text.
    """

    __tablename__ = "sortie_log"

    route_id: Mapped[str] = mapped_column(ForeignKey("route.id", ondelete="CASCADE"), unique=True)
    drone_id: Mapped[str] = mapped_column(ForeignKey("drone.id"), index=True)
    payload_kg: Mapped[float | None] = mapped_column(Float)  # weighed before take-off
    payload_limit_kg: Mapped[float] = mapped_column(Float)  # the drone's limit at the time
    battery_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    weather_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    permit_ref: Mapped[str] = mapped_column(String(200), default="")  # the permit number(s) relied on
    pilot: Mapped[str] = mapped_column(String(200), default="")  # 飛行させた者 (as on the permit)
    #: The pilot's skill certificate number (技能証明書番号), as typed at take-off ("": none given).
    pilot_licence: Mapped[str] = mapped_column(String(40), default="")
    #: Identifiers of the zones on the path that needed a permit at take-off.
    permit_zones: Mapped[list[Any]] = mapped_column(JSONText, default=list)
    checked_by: Mapped[str] = mapped_column(String(80))  # "user:<id>" or "system:<name>"
    taken_off_at: Mapped[dt.datetime | None] = mapped_column()
    landed_at: Mapped[dt.datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16), default="flying")  # flying | landed | aborted
    aborted_at: Mapped[dt.datetime | None] = mapped_column()
    abort_reason: Mapped[str] = mapped_column(Text, default="")
    #: Flight log (飛行日誌) entries made at the landing: events affecting safety, defects and
    #: what was done about them.
    safety_notes: Mapped[str] = mapped_column(Text, default="")
    defects: Mapped[str] = mapped_column(Text, default="")
