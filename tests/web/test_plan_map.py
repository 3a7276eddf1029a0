"""The plan map draws the route lines stored with the version (no road search on a page view)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from dispatch.db import Database
from dispatch.models import Route
from dispatch.read.lines import MapLine, plan_lines, route_path
from tests.dispatch.test_plan_edits import planned
from tests.dispatch.test_planning import latest_plan
from tests.web.conftest import login

pytestmark = pytest.mark.db


def route_lines(db: Database, plan_id: str) -> tuple[MapLine, ...]:
    with db.read() as s:
        return plan_lines(s, plan_id)


def test_route_lines_are_the_stored_lines_in_route_order(db: Database, tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    plan = latest_plan(db, batch_id)
    lines = route_lines(db, plan_id)
    assert [line.mode for line in lines] == [r.mode for r in plan.routes]
    assert [line.path for line in lines] == [r.path for r in plan.routes]
    for line, route in zip(lines, plan.routes, strict=True):
        if route.drone_id:
            assert line.vehicle.endswith(f" #{route.sortie}")


def test_a_version_stored_without_lines_gets_the_same_lines_computed(db: Database, tiny_region: str) -> None:
    _, plan_id, _ = planned(db)
    stored = route_lines(db, plan_id)
    with db.write() as s:
        s.execute(update(Route).where(Route.plan_id == plan_id).values(path=None))
    assert route_lines(db, plan_id) == stored


def test_one_routes_line_is_the_stored_one_or_the_same_computed(db: Database, tiny_region: str) -> None:
    """The courier's page reads one route's line the same way (computed only when not stored)."""
    batch_id, plan_id, _ = planned(db)
    plan = latest_plan(db, batch_id)
    with db.read() as s:
        stored = [route_path(s, r.id) for r in plan.routes]
        assert route_path(s, "no-such-route") == []
    assert stored == [r.path for r in plan.routes]
    with db.write() as s:
        s.execute(update(Route).where(Route.plan_id == plan_id).values(path=None))
    with db.read() as s:
        assert [route_path(s, r.id) for r in plan.routes] == stored


def test_plan_page_map_draws_each_stored_line(client: FlaskClient, make_user, db: Database,
                                             tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    plan = latest_plan(db, batch_id)
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    for route in plan.routes:
        assert route.path is not None
        # One LineString per route, its coordinates as stored (turns and detour waypoints included).
        coordinates = ", ".join(f"[{lon}, {lat}]" for lon, lat in route.path)
        assert f'"coordinates": [{coordinates}]' in page, route.mode
