"""Plan review in the console: real plans solved on the tiny region, the real Flask test client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Batch, Message, Order, Plan
from dispatch.planning import plan_batch
from dispatch.services.solving import solve_batch
from tests.dispatch.test_plan_edits import NOW, deliveries, planned, volunteer_id
from tests.dispatch.test_planning import FAST, latest_plan, states
from tests.web.conftest import csrf_token, login
from web import create_app

pytestmark = pytest.mark.db


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The real app on the test database."""
    application = create_app({"database_url": database_url, "secret_key": "test-secret-key",
                              "tiles": "none", "solve_time_limit_s": 2.0, "TESTING": True},
                             clock=lambda: NOW)  # the plans' day, five minutes after the cutoff
    yield application
    application.extensions["hakobu"].db.dispose()


@pytest.fixture
def plan(db: Database, tiny_region: str) -> tuple[str, str, dict[str, str]]:
    """(batch id, plan id, {resident code: order id}) of a freshly solved proposed plan."""
    return planned(db)


def post(client: FlaskClient, plan_id: str, action: str, **data: str) -> str:
    token = csrf_token(client, f"/plans/{plan_id}")
    response = client.post(f"/plans/{plan_id}/{action}", data={"csrf_token": token, **data},
                           follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_plan_list_and_page_show_kpis_routes_map_and_sorties(client: FlaskClient, make_user, db,
                                                            plan) -> None:
    batch_id, plan_id, _ = plan
    login(client, make_user("operator", hubs=("H1",)))
    listing = client.get("/plans").get_data(as_text=True)
    assert f'data-plan="{plan_id}"' in listing
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    stored = latest_plan(db, batch_id)
    served = sum(len(deliveries(stored, r.volunteer_id)) for r in stored.routes if r.volunteer_id)
    served += sum(1 for r in stored.routes if r.drone_id for st in r.stops if st.kind == "delivery")
    assert f'data-kpi="deliveries">{served}<' in page
    assert f'data-kpi="unserved">{len(stored.unserved)}<' in page
    assert "The plan passes every check." in page
    assert page.count('class="route"') == len(stored.routes)
    for route in stored.routes:
        assert f'data-route="{route.id}"' in page
    # One GeoJSON layer per route; drone legs dashed.
    assert page.count("L.geoJson(") >= len(stored.routes)
    drones = [r for r in stored.routes if r.drone_id]
    if drones:
        assert '"8 6"' in page and page.count("data-sortie=") == len(drones)
    assert 'id="confirm-plan"' in page and "disabled" not in page.split('id="confirm-plan"')[1][:40]


def test_operator_of_another_hub_gets_404_and_changes_nothing(client: FlaskClient, make_user, make_hub,
                                                              db, plan) -> None:
    _, plan_id, ids = plan
    make_hub("other", region_code="tiny")
    login(client, make_user("operator", email="b@example.jp", hubs=("other",)))
    assert client.get(f"/plans/{plan_id}").status_code == 404
    assert f'data-plan="{plan_id}"' not in client.get("/plans").get_data(as_text=True)
    token = csrf_token(client, "/plans")
    assert client.post(f"/plans/{plan_id}/confirm", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/plans/{plan_id}/drop", data={"csrf_token": token,
                                                       "order_id": ids["R1"]}).status_code == 404
    with db.read() as s:
        assert s.get(Plan, plan_id).state == "proposed"  # type: ignore[union-attr]
    assert client.get("/plans/no-such-plan").status_code == 404


def test_planner_reads_but_cannot_edit_or_confirm(client: FlaskClient, make_user, db, plan) -> None:
    _, plan_id, _ = plan
    login(client, make_user("planner"))
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'data-kpi="deliveries"' in page
    assert 'id="confirm-plan"' not in page and 'id="move-form"' not in page
    token = csrf_token(client, "/plans")
    assert client.post(f"/plans/{plan_id}/confirm", data={"csrf_token": token}).status_code == 403
    with db.read() as s:
        assert s.get(Plan, plan_id).state == "proposed"  # type: ignore[union-attr]


def test_move_makes_a_new_version_and_the_page_follows_it(client: FlaskClient, make_user, db, plan) -> None:
    batch_id, plan_id, ids = plan
    v2 = volunteer_id(db, "V2")
    login(client, make_user("operator", hubs=("H1",)))
    before = latest_plan(db, batch_id)
    target = next(o for o in ids.values() if any(st.order_id == o and st.kind == "delivery"
                                                 for r in before.routes for st in r.stops))
    page = post(client, plan_id, "move", order_id=target, vehicle=v2, position="1")
    new = latest_plan(db, batch_id)
    assert new.version == 2 and deliveries(new, v2)[0] == target
    assert f"v{new.version}" in page and "Saved as a new version" in page
    old = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "This is an older version." in old and 'id="confirm-plan"' not in old


def test_an_invalid_plan_cannot_be_confirmed_and_says_why(client: FlaskClient, make_user, db, plan) -> None:
    batch_id, _, ids = plan
    v1 = volunteer_id(db, "V1")
    login(client, make_user("operator", hubs=("H1",)))
    for code in ("R1", "R2", "R3", "R4", "R5"):  # the walker carries at most 4 parcels
        current = latest_plan(db, batch_id)
        if ids[code] in deliveries(current, v1) or ids[code] in {u["order_id"] for u in current.unserved}:
            continue
        post(client, current.id, "move", order_id=ids[code], vehicle=v1, position="99")
    invalid = latest_plan(db, batch_id)
    assert invalid.validation["ok"] is False
    page = client.get(f"/plans/{invalid.id}").get_data(as_text=True)
    assert "over the limit 4" in page
    assert re.search(r'id="confirm-plan" disabled', page)
    assert "fix them before confirming" in page
    page = post(client, invalid.id, "confirm")
    assert "Not confirmed" in page and "invalid" in page
    with db.read() as s:
        assert s.get(Plan, invalid.id).state == "proposed"  # type: ignore[union-attr]
        assert not s.scalars(select(Message).where(Message.template == "courier_route_link")).all()


def test_confirm_queues_courier_links(client: FlaskClient, make_user, db, plan) -> None:
    batch_id, plan_id, _ = plan
    login(client, make_user("operator", hubs=("H1",)))
    page = post(client, plan_id, "confirm")
    assert "Plan confirmed" in page
    stored = latest_plan(db, batch_id)
    assert stored.state == "confirmed" and stored.confirmed_at is not None
    couriers = {r.volunteer_id for r in stored.routes if r.volunteer_id and r.stops}
    with db.read() as s:
        links = s.scalars(select(Message).where(Message.template == "courier_route_link")).all()
    assert {m.volunteer_id for m in links} == couriers
    assert post(client, plan_id, "confirm").count("Not confirmed") == 1  # only once


def test_drop_and_reorder_through_the_forms(client: FlaskClient, make_user, db, plan) -> None:
    batch_id, plan_id, _ = plan
    login(client, make_user("operator", hubs=("H1",)))
    stored = latest_plan(db, batch_id)
    victim = next(st.order_id for r in stored.routes for st in r.stops if st.kind == "delivery")
    post(client, plan_id, "drop", order_id=victim)
    dropped = latest_plan(db, batch_id)
    assert dropped.version == 2 and states(db, [victim]) == {victim: "confirmed"}
    assert any(u["order_id"] == victim and u["reason"] == "dropped" for u in dropped.unserved)
    page = client.get(f"/plans/{dropped.id}").get_data(as_text=True)
    assert "dropped by the operator" in page
    courier = next((r for r in dropped.routes if r.volunteer_id
                    and sum(st.kind == "delivery" for st in r.stops) > 1), None)
    if courier is None:
        pytest.skip("the solver put at most one delivery on each courier: nothing to reorder")
    with db.read() as s:
        numbers = {o.id: o.number for o in s.scalars(select(Order))}
    order = [numbers[st.order_id] for st in courier.stops if st.kind == "delivery"]
    page = post(client, dropped.id, "reorder", vehicle=courier.volunteer_id or "", numbers="999")
    assert "Not on this route: #999" in page
    post(client, dropped.id, "reorder", vehicle=courier.volunteer_id or "",
         numbers=", ".join(str(n) for n in reversed(order)))
    again = latest_plan(db, batch_id)
    assert [numbers[o] for o in deliveries(again, courier.volunteer_id or "")] == list(reversed(order))


def test_force_ground_takes_an_order_off_the_drone(client: FlaskClient, make_user, db, plan) -> None:
    batch_id, plan_id, _ = plan
    stored = latest_plan(db, batch_id)
    flown = [st.order_id for r in stored.routes if r.drone_id for st in r.stops if st.kind == "delivery"]
    if not flown:
        pytest.skip("the solver flew no order in this plan: nothing to force to the ground")
    login(client, make_user("operator", hubs=("H1",)))
    page = post(client, plan_id, "force-ground", order_id=flown[0])
    # The request only asks for the re-plan (a web request never solves) ...
    assert "data-replanning" in page and 'http-equiv="refresh"' in page
    assert latest_plan(db, batch_id).version == 1
    with db.read() as s:
        assert s.get(Batch, batch_id).state == "closed"  # type: ignore[union-attr]
    # ... which the scheduler's worker function carries out.
    assert solve_batch(db.url, batch_id, planner=lambda d, b: plan_batch(d, b, **FAST)) == "solved"
    new = latest_plan(db, batch_id)
    assert new.version == 2 and "force ground" in new.note
    assert flown[0] not in {st.order_id for r in new.routes if r.drone_id for st in r.stops}
    followed = client.get(f"/plans/{plan_id}?follow=1")
    assert followed.status_code == 302 and followed.headers["Location"].endswith(f"/plans/{new.id}")


def test_a_bad_form_is_refused_with_a_message(client: FlaskClient, make_user, db, plan) -> None:
    batch_id, plan_id, _ = plan
    login(client, make_user("operator", hubs=("H1",)))
    page = post(client, plan_id, "move", order_id="nope", vehicle="nobody", position="1")
    assert "not on a route of this plan" in page
    page = post(client, plan_id, "drop")
    assert "The form was not accepted" in page and "order_id" in page
    assert latest_plan(db, batch_id).version == 1


def test_dashboard_notifies_plans_waiting_and_shows_the_batch_timeline(client: FlaskClient, make_user, db,
                                                                       plan) -> None:
    from dispatch.requests import ItemRequest
    from dispatch.services.batching import close_batch
    from dispatch.services.ordering import place_order
    from dispatch.services.solving import mark_failed
    from tests.dispatch.test_planning import CUTOFF, hub_id, resident_id

    _, plan_id, _ = plan
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get("/").get_data(as_text=True)
    assert "1 plan waiting for review" in page
    assert f'href="/plans/{plan_id}"' in page
    timeline = page.split('class="timeline"')[1].split("</table>")[0]
    assert timeline.count("data-timeline=") == 1  # H1 (the tiny region's only hub with cutoffs)
    assert "closed" in timeline  # the last batch, planned outside the solve worker, stays 'closed'
    # The route lines of the proposed plan are on the dashboard map too (one layer per route).
    stored = latest_plan(db, plan[0])
    assert len(re.findall(r'"[^"]+ \((?:walk|bicycle|car|drone)\)"', page)) == len(stored.routes)
    afternoon = CUTOFF.replace(hour=14)
    place_order(db, resident_id(db, "R2"), [ItemRequest("牛乳", 1)], channel="web",
                now=afternoon - dt.timedelta(hours=1))
    later = close_batch(db, hub_id(db), afternoon, now=afternoon)
    assert mark_failed(db, later.batch_id, "solver crashed: out of memory")
    page = client.get("/").get_data(as_text=True)
    assert "solver crashed: out of memory" in page and "data-failed=" in page
    token = csrf_token(client, f"/plans/{plan_id}")
    client.post(f"/plans/{plan_id}/confirm", data={"csrf_token": token})
    assert "0 plans waiting for review" in client.get("/").get_data(as_text=True)


def test_plan_page_in_japanese_with_local_times(client: FlaskClient, make_user, db, plan) -> None:
    from tests.dispatch.test_planning import CUTOFF

    _, plan_id, _ = plan
    login(client, make_user("operator", hubs=("H1",)))
    page = client.get(f"/plans/{plan_id}?lang=ja").get_data(as_text=True)
    assert '<html lang="ja">' in page
    assert "計画を確定" in page and "主な数値" in page and "この計画はすべての検証に合格しています。" in page
    assert "Confirm plan" not in page
    assert CUTOFF.strftime("%Y/%m/%d 10:00") in page  # the 10:00 JST cutoff, in Japanese date format
    dashboard = client.get("/?lang=ja").get_data(as_text=True)
    assert "確認待ちの計画 1 件" in dashboard and "バッチの予定と状況" in dashboard


def test_a_late_confirm_warns_and_re_times_the_plan_from_now(database_url: str, make_user, db,
                                                              plan) -> None:
    """Issue 13: the page warns that the first ETA has passed; Confirm re-times the plan from the
    app's now, and the residents are texted the new times."""
    from dispatch.services.plans import first_eta

    batch_id, plan_id, _ = plan
    first = first_eta(latest_plan(db, batch_id))
    assert first is not None
    late = create_app({"database_url": database_url, "secret_key": "test-secret-key", "tiles": "none",
                       "TESTING": True}, clock=lambda: first + dt.timedelta(minutes=30))
    try:
        client = late.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(client, make_user("operator", hubs=("H1",)))
        page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
        assert 'id="past-eta"' in page and 'id="confirm-as-planned"' in page
        page = post(client, plan_id, "confirm")
        assert "re-timed from now" in page and "Plan confirmed" in page
        confirmed = latest_plan(db, batch_id)
        assert confirmed.state == "confirmed" and confirmed.id != plan_id
        new_first = first_eta(confirmed)
        assert new_first is not None and new_first >= first + dt.timedelta(minutes=30)
    finally:
        late.extensions["hakobu"].db.dispose()


def test_confirm_with_the_planned_times_keeps_them(database_url: str, make_user, db, plan) -> None:
    batch_id, plan_id, _ = plan
    evening = NOW.replace(hour=19)  # Tokyo: after every shift, so re-timing cannot work
    late = create_app({"database_url": database_url, "secret_key": "test-secret-key", "tiles": "none",
                       "TESTING": True}, clock=lambda: evening)
    try:
        client = late.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        login(client, make_user("operator", hubs=("H1",)))
        page = post(client, plan_id, "confirm")
        assert "Not confirmed" in page and "re-plan the batch" in page
        assert latest_plan(db, batch_id).state == "proposed"
        page = post(client, plan_id, "confirm", as_planned="1")
        assert "Plan confirmed" in page and latest_plan(db, batch_id).id == plan_id
    finally:
        late.extensions["hakobu"].db.dispose()
