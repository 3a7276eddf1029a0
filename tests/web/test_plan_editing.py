"""Plan editing as dispatchers expect (issue 16, item 4): per-stop buttons, the before/after
figures of every new version, and force ground as a local change."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from dispatch.db import Database
from dispatch.models import Order
from dispatch.services.plans import ground_here
from tests.dispatch.test_plan_edits import deliveries, planned
from tests.dispatch.test_planning import latest_plan
from tests.web.conftest import csrf_token, login
from tests.web.test_plans import app  # noqa: F401 - the app on the plans' day

pytestmark = pytest.mark.db


def test_force_ground_moves_the_order_onto_a_courier_and_keeps_the_other_routes(db: Database,
                                                                                tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    before = latest_plan(db, batch_id)
    drone = next(r for r in before.routes if r.drone_id and r.stops)
    order_id = next(st.order_id for st in drone.stops if st.kind == "delivery")
    couriers = {r.volunteer_id: [st.order_id for st in r.stops] for r in before.routes if r.volunteer_id}
    new_id = ground_here(db, plan_id, order_id)
    plan = latest_plan(db, batch_id)
    assert plan.id == new_id and plan.validation["ok"], plan.validation
    on = [r for r in plan.routes if any(st.order_id == order_id for st in r.stops)]
    assert len(on) == 1 and on[0].volunteer_id is not None  # by ground, on one courier
    for r in plan.routes:  # every other courier route as it was
        if r.volunteer_id and r is not on[0]:
            assert [st.order_id for st in r.stops] == couriers[r.volunteer_id]
    rest = [st.order_id for st in on[0].stops if st.order_id != order_id]
    assert rest == couriers.get(on[0].volunteer_id, [])  # inserted among the courier's stops
    assert len([r for r in plan.routes if r.drone_id]) == len([r for r in before.routes if r.drone_id]) - 1
    with db.read() as s:
        assert s.get_one(Order, order_id).force_ground  # a later re-plan keeps it on the ground


def test_every_new_version_shows_its_figures_beside_the_previous_ones(client: FlaskClient, make_user,
                                                                     db: Database, tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    login(client, make_user("operator", hubs=("H1",)))
    assert 'id="before-after"' not in client.get(f"/plans/{plan_id}").get_data(as_text=True)  # v1
    drone = next(r for r in latest_plan(db, batch_id).routes if r.drone_id and r.stops)
    order_id = next(st.order_id for st in drone.stops if st.kind == "delivery")
    token = csrf_token(client, f"/plans/{plan_id}")
    response = client.post(f"/plans/{plan_id}/ground", data={"csrf_token": token, "order_id": order_id})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    table = page.split('id="before-after"')[1].split("</table>")[0]
    assert "Compared with v1" in page and "<th>v1</th><th>v2</th>" in table
    km = re.search(r'data-change="km"><td>km</td><td>([\d.]+)</td><td>([\d.]+)</td>', table)
    assert km is not None
    v2 = latest_plan(db, batch_id)
    assert float(km.group(2)) == round(sum(r.distance_m for r in v2.routes) / 1000, 1)
    assert 'data-change="late"' in table and 'data-change="unserved"' in table


def test_the_down_button_moves_a_stop_one_later(client: FlaskClient, make_user, db: Database,
                                                tiny_region: str) -> None:
    batch_id, plan_id, _ = planned(db)
    plan = latest_plan(db, batch_id)
    route = next(r for r in plan.routes if r.volunteer_id and len(r.stops) > 1)
    first, second = deliveries(plan, route.volunteer_id)[:2]
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    with db.read() as s:
        number = s.get_one(Order, first).number
    form = re.search(r'<form method="post" class="inline" action="([^"]+)">((?:(?!</form>).)*data-down="'
                     + str(number) + r'"(?:(?!</form>).)*)</form>', page)
    assert form is not None
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form.group(2)))
    response = client.post(form.group(1), data=fields)
    assert response.status_code == 302
    assert deliveries(latest_plan(db, batch_id), route.volunteer_id)[:2] == [second, first]
