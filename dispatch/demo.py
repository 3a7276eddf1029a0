"""Demo data: accounts for every role and a small demo day on top of a loaded region."""

from __future__ import annotations

from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Hub, Region
from dispatch.services.users import upsert_user


def seed_demo(db: Database, region_code: str, password: str) -> list[str]:
    """Create (or reset) the demo accounts; returns human lines describing what was seeded."""
    with db.read() as s:
        region = s.scalars(select(Region).where(Region.code == region_code)).one()
        hub_codes = list(s.scalars(select(Hub.code).where(Hub.region_id == region.id,
                                                          Hub.kind == "hub")))
    upsert_user(db, "operator@demo", "Demo operator", "operator", password, hub_codes)
    upsert_user(db, "planner@demo", "Demo planner", "planner", password)
    upsert_user(db, "admin@demo", "Demo admin", "admin", password)
    return [f"operator@demo runs hubs: {', '.join(hub_codes)}"]
