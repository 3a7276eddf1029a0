"""Residents order on the web: phone + one-time SMS code, a plain form, history and cancel."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Message, Order

pytestmark = pytest.mark.db


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _latest_code(db: Database, phone: str) -> str:
    with db.read() as s:
        message = s.scalars(select(Message).where(Message.phone == phone, Message.template == "login_code")
                            .order_by(Message.created_at.desc())).first()
    assert message is not None, "no sign-in code was texted"
    return str(message.params["code"])


def _sign_in(client: FlaskClient, db: Database, typed: str = "070-0000-0001",
             phone: str = "+817000000001") -> None:
    page = client.get("/order/sign-in").get_data(as_text=True)
    assert client.post("/order/sign-in", data={"phone": typed, "csrf_token": _token(page)}).status_code == 302
    code_page = client.get("/order/code").get_data(as_text=True)
    response = client.post("/order/code", data={"code": _latest_code(db, phone),
                                                "csrf_token": _token(code_page)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/order/")


def test_order_page_requires_sign_in(client: FlaskClient) -> None:
    response = client.get("/order/")
    assert response.status_code == 302 and "/order/sign-in" in response.headers["Location"]


def test_sign_in_with_code_then_order_then_cancel(client: FlaskClient, db: Database,
                                                  tiny_region: str) -> None:
    _sign_in(client, db)
    page = client.get("/order/").get_data(as_text=True)
    assert "<script" not in page  # works without JavaScript
    resident_id = re.search(r'<option[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/order/", data={"csrf_token": _token(page), "resident": resident_id,
                                            "wish": "1:morning", "item0": "米", "qty0": "2",
                                            "item1": "牛乳", "qty1": "1"})
    assert response.status_code == 302
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        names = [i.name for i in order.items]
    assert order.channel == "web" and names == ["米", "牛乳"]
    history = client.get("/order/").get_data(as_text=True)
    assert f"#{order.number}" in history
    cancel = client.post(f"/order/{order.id}/cancel", data={"csrf_token": _token(history)})
    assert cancel.status_code == 302
    with db.read() as s:
        assert s.get(Order, order.id).state == "cancelled"


def test_a_code_works_once_and_wrong_codes_lock_out(client: FlaskClient, db: Database,
                                                    tiny_region: str) -> None:
    page = client.get("/order/sign-in").get_data(as_text=True)
    client.post("/order/sign-in", data={"phone": "+817000000001", "csrf_token": _token(page)})
    code = _latest_code(db, "+817000000001")
    wrong = "000000" if code != "000000" else "111111"
    token = _token(client.get("/order/code").get_data(as_text=True))
    for _ in range(5):
        assert client.post("/order/code", data={"code": wrong, "csrf_token": token}).status_code == 200
    locked = client.post("/order/code", data={"code": code, "csrf_token": token})
    assert locked.status_code == 200 and "not valid" in locked.get_data(as_text=True)
    assert client.get("/order/").status_code == 302


def test_unknown_numbers_get_no_code_and_learn_nothing(client: FlaskClient, db: Database,
                                                       tiny_region: str) -> None:
    page = client.get("/order/sign-in").get_data(as_text=True)
    response = client.post("/order/sign-in", data={"phone": "090-9999-0000", "csrf_token": _token(page)})
    assert response.status_code == 302  # same answer as for a known number
    with db.read() as s:
        assert s.scalars(select(Message)).all() == []


def test_another_residents_order_cannot_be_cancelled(client: FlaskClient, db: Database,
                                                     tiny_region: str) -> None:
    from dispatch.models import Resident
    from dispatch.requests import ItemRequest
    from dispatch.services.ordering import place_order

    with db.read() as s:
        other = s.scalars(select(Resident.id).where(Resident.code == "R2")).one()
    foreign = place_order(db, other, [ItemRequest("米", 1)], channel="phone")
    _sign_in(client, db)
    token = _token(client.get("/order/").get_data(as_text=True))
    assert client.post(f"/order/{foreign.id}/cancel", data={"csrf_token": token}).status_code == 404
    with db.read() as s:
        assert s.get(Order, foreign.id).state == "confirmed"
