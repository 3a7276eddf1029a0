"""The operators' review queue of inbound texts nobody could act on automatically."""

from __future__ import annotations

from dispatch.db import Database
from dispatch.models import Message, Resident


def resolve_review(db: Database, message_id: str, user_id: str, note: str,
                   hub_ids: set[str] | None) -> bool:
    """Mark a queued text as handled (e.g. after calling the sender back); False if not visible."""
    with db.write() as s:
        message = s.get(Message, message_id)
        if message is None or message.direction != "in" or message.review != "pending":
            return False
        if hub_ids is not None and message.resident_id is not None:
            resident = s.get(Resident, message.resident_id)
            if resident is None or resident.hub_id not in hub_ids:
                return False
        message.review = "done"
        message.review_reason = f"{message.review_reason} — handled by user:{user_id}: {note}"[:1000]
        return True
