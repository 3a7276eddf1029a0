"""The full route × audience table: a route that is not listed here fails the suite."""

from __future__ import annotations

from flask import Flask

from web.security import declared_access

#: endpoint -> who may use it. Update deliberately when adding a route.
ACCESS_TABLE: dict[str, set[str]] = {
    "auth.login": {"public"},
    "auth.logout": {"operator", "planner", "admin"},
    "console.dashboard": {"operator", "planner", "admin"},
    "intake.phone_search": {"operator", "admin"},
    "intake.phone_order": {"operator", "admin"},
    "intake.review": {"operator", "admin"},
    "intake.resolve": {"operator", "admin"},
    "intake.simulator": {"operator", "admin"},
    "board.board": {"operator", "planner", "admin"},
    "board.data": {"operator", "planner", "admin"},
    "board.acknowledge": {"operator", "admin"},
    "plans.index": {"operator", "planner", "admin"},
    "plans.show": {"operator", "planner", "admin"},
    "plans.move": {"operator", "admin"},
    "plans.reorder": {"operator", "admin"},
    "plans.drop": {"operator", "admin"},
    "plans.force_ground": {"operator", "admin"},
    "plans.confirm": {"operator", "admin"},
    "resident.sign_in": {"public"},
    "resident.enter_code": {"public"},
    "resident.home": {"resident"},
    "resident.cancel": {"resident"},
    "resident.sign_out": {"resident"},
    "planner.index": {"planner", "admin"},
    "planner.kpis_csv": {"planner", "admin"},
    "planner.replay": {"planner", "admin"},
    "planner.scenario": {"planner", "admin"},
    "planner.scenario_run": {"planner", "admin"},
    "courier.link": {"public"},
    "courier.link_long": {"public"},
    "courier.sign_out": {"courier"},
    "courier.routes": {"courier"},
    "courier.route": {"courier"},
    "courier.token": {"courier"},
    "courier.pick_up": {"courier"},
    "courier.deliver": {"courier"},
    "courier.hand_over": {"courier"},
    "courier.fail": {"courier"},
    "courier.return_to_hub": {"courier"},
    "courier.welfare": {"courier"},
    "courier.position": {"courier"},
    "operations.index": {"operator", "admin"},
    "operations.courier_off": {"operator", "admin"},
    "operations.weather": {"operator", "admin"},
    "operations.drone": {"operator", "admin"},
    "operations.zone": {"operator", "admin"},
    "drones.index": {"operator", "admin"},
    "drones.show": {"operator", "admin"},
    "drones.take_off": {"operator", "admin"},
    "drones.drop": {"operator", "admin"},
    "drones.land": {"operator", "admin"},
    "drones.abort_sortie": {"operator", "admin"},
    "sms.twilio_inbound": {"webhook"},
    "sms.twilio_status": {"webhook"},
    "sms.gateway_webhook": {"webhook"},
}


def test_every_route_is_in_the_access_table(app: Flask) -> None:
    endpoints = {e for e in app.view_functions if e != "static"}
    assert endpoints == set(ACCESS_TABLE), (
        f"unlisted: {sorted(endpoints - set(ACCESS_TABLE))}, "
        f"gone: {sorted(set(ACCESS_TABLE) - endpoints)}"
    )


def test_every_route_declares_exactly_the_listed_audience(app: Flask) -> None:
    for endpoint, audience in ACCESS_TABLE.items():
        assert declared_access(app, endpoint) == audience, endpoint
