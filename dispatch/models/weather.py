"""Weather for drone go/no-go (issue 14, item 2): observed or forecast values per hub and hour."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, IdMixin, utcnow


class WeatherReading(IdMixin, Base):
    """Weather at a hub over ``[starts_at, ends_at)`` from one source (``manual``, ``file``,
    ``open-meteo``). A value left None is unknown and checks nothing. A newer reading of the same
    period wins (the latest ``recorded_at``), so an operator's manual entry overrides a forecast.
    """

    __tablename__ = "weather_reading"
    __table_args__ = (Index("ix_weather_reading_hub_period", "hub_id", "starts_at"),)

    hub_id: Mapped[str] = mapped_column(ForeignKey("hub.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[dt.datetime] = mapped_column()
    ends_at: Mapped[dt.datetime] = mapped_column()
    wind_ms: Mapped[float | None] = mapped_column(Float)
    gust_ms: Mapped[float | None] = mapped_column(Float)
    precip_mmh: Mapped[float | None] = mapped_column(Float)
    temp_c: Mapped[float | None] = mapped_column(Float)
    visibility_m: Mapped[float | None] = mapped_column(Float)
    recorded_by: Mapped[str] = mapped_column(String(80), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
