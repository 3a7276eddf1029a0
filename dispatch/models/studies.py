"""Planners' scenario runs started from the web page, solved in a background worker process.

A row is the run's whole story, so it survives a page reload and a restart of the web process:
the scenario file (``spec``), its state (``queued`` → ``running`` → ``done`` | ``failed``), the
progress the worker reports, why it failed, and the comparison it produced (``result``). The web
request only inserts the row; ``dispatch.studies.runs`` does the rest (docs/planners.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, IdMixin, JSONText, utcnow

RUN_STATES = ("queued", "running", "done", "failed")


class ScenarioRun(IdMixin, Base):
    __tablename__ = "scenario_run"

    name: Mapped[str] = mapped_column(String(200), default="")
    spec: Mapped[str] = mapped_column(Text)  # the scenario file (TOML), as checked when submitted
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    #: what the worker is doing: {"step": "snapshot"|"base"|"scenario"|"saving", "done": n, "total": n}
    progress: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it failed
    #: the web process while queued, the worker process while running (with ``host``: a dead
    #: process on this machine is seen at once; elsewhere the heartbeat tells)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(200), default="")
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONText, default=None)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
