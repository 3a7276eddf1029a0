"""An ED-318 zone published with names in several languages shows the viewer's (issue 20, item 1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from dispatch.db import Database
from dispatch.region import read_region
from dispatch.region.importer import load_region
from tests.dispatch.test_ed318_zones import TINY, school_zone
from tests.web.conftest import login

pytestmark = pytest.mark.db


def test_the_dashboard_names_the_zone_in_the_viewers_language(
    client: FlaskClient, make_user, db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "zones.geojson").write_text(
        json.dumps(school_zone(folder), ensure_ascii=False), encoding="utf-8"
    )
    load_region(db, read_region(folder))
    login(client, make_user("operator", hubs=("H1",)))
    english = client.get("/").get_data(as_text=True)
    assert "<strong>Yamazato school</strong>" in english and "月 火 水 木 金" not in english
    assert "mon tue wed thu fri 08:00–12:00" in english
    japanese = client.get("/?lang=ja").get_data(as_text=True)
    assert "<strong>山里小学校</strong>" in japanese and "月 火 水 木 金 08:00–12:00" in japanese
