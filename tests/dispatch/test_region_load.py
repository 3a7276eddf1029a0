"""Importing a region: everything in one transaction, and loading twice never duplicates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.models import Drone, Hub, Region, Resident, Road, Volunteer, Zone
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from tests.conftest import TINY

pytestmark = pytest.mark.db
MODELS = (Region, Hub, Resident, Volunteer, Drone, Road, Zone)


def _counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_loading_the_tiny_region_creates_every_record(db: Database) -> None:
    data = read_region(TINY)
    report = load_region(db, data)
    counts = _counts(db)
    assert counts == {"Region": 1, "Hub": len(data.hubs), "Resident": len(data.residents),
                      "Volunteer": len(data.volunteers), "Drone": len(data.drones),
                      "Road": len(data.roads), "Zone": len(data.zones)}
    assert report.counts["residents"]["created"] == len(data.residents)


def test_loading_twice_updates_in_place_and_never_duplicates(db: Database, tmp_path: Path) -> None:
    load_region(db, read_region(TINY))
    first = _counts(db)
    with db.read() as s:
        ids_before = set(s.scalars(select(Resident.id)))
    copy = tmp_path / "tiny"
    shutil.copytree(TINY, copy)
    residents = json.loads((copy / "residents.geojson").read_text())
    residents["features"][0]["properties"]["notes"] = "moved the mailbox"
    dropped = residents["features"].pop()["properties"]["id"]
    (copy / "residents.geojson").write_text(json.dumps(residents, ensure_ascii=False))

    report = load_region(db, read_region(copy), code="tiny")
    assert _counts(db) == first
    assert report.counts["residents"]["updated"] == 1
    assert report.counts["residents"]["deactivated"] == 1
    with db.read() as s:
        assert set(s.scalars(select(Resident.id))) == ids_before
        notes = s.scalars(select(Resident.notes).where(Resident.code == "R1")).one()
        inactive = s.scalars(select(Resident.code).where(Resident.active.is_(False))).all()
    assert notes == "moved the mailbox"
    assert inactive == [dropped]


def test_a_region_that_fails_midway_leaves_nothing(db: Database) -> None:
    data = read_region(TINY)
    broken = type(data)(**{**data.__dict__, "drones": (*data.drones, data.drones[0])})
    with pytest.raises(Exception):  # noqa: B017 - the duplicate violates a unique constraint
        load_region(db, broken)
    assert all(n == 0 for n in _counts(db).values())
