"""The tiny region with three more volunteers who have no regular days (they only come when they
declare availability and accept a call-out) and training on record, loaded from its files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Volunteer
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from tests.conftest import TINY

TOKYO = ZoneInfo("Asia/Tokyo")
#: Sunday 8 March 2026: V1 (Mon-Fri) and V2 (Mon-Sat) are not on shift.
SUNDAY = dt.date(2026, 3, 8)
SATURDAY_EVENING = dt.datetime.combine(SUNDAY - dt.timedelta(days=1), dt.time(18), TOKYO)
SUNDAY_CUTOFF = dt.datetime.combine(SUNDAY, dt.time(10), TOKYO)

VOLUNTEERS = """id,name,phone,hub_id,mode,capacity_kg,max_parcels,shift_start,shift_end,days,language,training
V1,森 健太,+817000000101,H1,walk,8,4,09:00,12:00,mon tue wed thu fri,ja,pin
V2,石井 美咲,+817000000102,H1,bicycle,15,8,09:00,17:00,mon tue wed thu fri sat,ja,pin medicine
V3,上田 翔,+817000000103,H1,bicycle,15,2,09:00,17:00,,ja,
V4,Ken Ward,+817000000104,H1,car,60,2,09:00,17:00,,en,pin welfare
V5,中村 恵子,+817000000105,H1,car,60,2,09:00,17:00,,ja,medicine
"""


def load_volunteer_region(db: Database, tmp_path: Path) -> Path:
    """Copy the tiny region with :data:`VOLUNTEERS` as its ``volunteers.csv`` and load it."""
    folder = tmp_path / "tiny-volunteers"
    shutil.copytree(TINY, folder)
    (folder / "volunteers.csv").write_text(VOLUNTEERS, encoding="utf-8")
    load_region(db, read_region(folder))
    return folder


def volunteers(db: Database) -> dict[str, Volunteer]:
    """Volunteer rows by code (detached, for their ids and phones)."""
    with db.read() as s:
        rows = s.scalars(select(Volunteer)).all()
        s.expunge_all()
        return {v.code: v for v in rows}
