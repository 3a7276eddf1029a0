"""Volunteers' training recorded in the console (issue 15, item 4).

An operator records a completed course (:data:`TRAINING`) with the day it was completed; the record
keeps who entered it and when, and the course joins ``Volunteer.training``, which planning reads
(an order that needs a trained courier is only planned for one who has it). A region reload keeps
recorded courses even when ``volunteers.csv`` does not list them (:func:`records_of`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError, NotFound
from dispatch.localtime import timezone_of_hubs
from dispatch.models import TRAINING, TrainingRecord, Volunteer


def record_training(
    db: Database,
    hub_ids: Collection[str] | None,
    volunteer_id: str,
    course: str,
    completed_on: dt.date,
    *,
    user_id: str | None,
    now: dt.datetime,
) -> TrainingRecord:
    """Record ``course`` completed on ``completed_on`` by the volunteer, if ``hub_ids`` (None: all)
    include their hub; another hub's volunteer is :class:`NotFound`, as if it did not exist."""
    if course not in TRAINING:
        raise DomainError("unknown training '%(training)s'", training=course)
    with db.write() as session:
        volunteer = session.get(Volunteer, volunteer_id)
        if volunteer is None or (hub_ids is not None and volunteer.hub_id not in hub_ids):
            raise NotFound(f"volunteer {volunteer_id} not found")
        if completed_on > now.astimezone(timezone_of_hubs(session, [volunteer.hub_id])).date():
            raise DomainError("a training cannot be completed in the future")
        record = TrainingRecord(
            volunteer_id=volunteer.id,
            course=course,
            completed_on=completed_on,
            recorded_by_user_id=user_id,
            recorded_at=now,
        )
        session.add(record)
        if course not in volunteer.training:
            volunteer.training = [*volunteer.training, course]
        session.flush()
        session.expunge(record)
        return record


def records_of(session: Session, volunteer_ids: Collection[str]) -> dict[str, list[TrainingRecord]]:
    """Each volunteer's console records, newest completion first: the week page shows them, and a
    region reload adds their courses to what ``volunteers.csv`` lists."""
    rows = session.scalars(
        select(TrainingRecord)
        .where(TrainingRecord.volunteer_id.in_(list(volunteer_ids)))
        .order_by(TrainingRecord.completed_on.desc())
    )
    found: dict[str, list[TrainingRecord]] = {}
    for r in rows:
        found.setdefault(r.volunteer_id, []).append(r)
    return found
