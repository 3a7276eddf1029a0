"""Residents order on the web: phone + one-time SMS code, a plain form, history and cancel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.config import Settings
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
    resident_id = re.search(r'name="resident" value="([^"]+)"', page).group(1)
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
    foreign = place_order(db, other, [ItemRequest("米", 1)], channel="phone", now=dt.datetime.now(dt.UTC))
    _sign_in(client, db)
    token = _token(client.get("/order/").get_data(as_text=True))
    assert client.post(f"/order/{foreign.id}/cancel", data={"csrf_token": token}).status_code == 404
    with db.read() as s:
        assert s.get(Order, foreign.id).state == "confirmed"


# --------------------------------------------------------------------------- sign-in codes


def _sign_out(client: FlaskClient) -> None:
    token = _token(client.get("/order/").get_data(as_text=True))
    assert client.post("/order/sign-out", data={"csrf_token": token}).status_code == 302


def test_a_code_signs_in_once_only(client: FlaskClient, db: Database, tiny_region: str) -> None:
    from dispatch.services.signin import verify_login_code

    _sign_in(client, db)
    code = _latest_code(db, "+817000000001")
    _sign_out(client)
    assert client.get("/order/").status_code == 302
    assert client.get("/order/code").status_code == 302  # no code pending after signing out
    pepper = Settings(secret_key="test-secret-key").key_for("login_code")  # the web app's (conftest)
    assert not verify_login_code(db, "+817000000001", code, pepper, now=dt.datetime.now(dt.UTC))  # used up


def _count_codes(db: Database) -> int:
    with db.read() as s:
        return len(s.scalars(select(Message).where(Message.template == "login_code")).all())


def test_codes_expire_and_only_the_newest_one_counts(db: Database, tiny_region: str) -> None:
    import datetime as dt

    from dispatch.services.signin import issue_login_code, verify_login_code

    phone, pepper, t0 = "+817000000001", "pepper", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    assert issue_login_code(db, phone, pepper, ttl_s=600, now=t0)
    first = _latest_code(db, phone)
    assert not verify_login_code(db, phone, first, pepper, now=t0 + dt.timedelta(seconds=601))  # expired
    assert issue_login_code(db, phone, pepper, ttl_s=600, now=t0 + dt.timedelta(minutes=11))
    second = _latest_code(db, phone)
    at = t0 + dt.timedelta(minutes=12)
    if first != second:
        assert not verify_login_code(db, phone, first, pepper, now=at)
    assert verify_login_code(db, phone, f" {second} ", pepper, now=at)  # spaces typed around it
    assert not verify_login_code(db, phone, second, pepper, now=at)  # single use


def test_at_most_three_codes_an_hour_are_texted_to_a_number(client: FlaskClient, db: Database,
                                                             tiny_region: str) -> None:
    for _ in range(4):
        page = client.get("/order/sign-in").get_data(as_text=True)
        response = client.post("/order/sign-in", data={"phone": "070-0000-0001", "csrf_token": _token(page)})
        assert response.status_code == 302  # the same answer every time (nothing to enumerate)
    assert _count_codes(db) == 3


def test_sign_in_requests_are_rate_limited_per_client(client: FlaskClient, tiny_region: str) -> None:
    token = _token(client.get("/order/sign-in").get_data(as_text=True))
    answers = [client.post("/order/sign-in", data={"phone": f"090-9999-000{i}", "csrf_token": token})
               .status_code for i in range(6)]
    assert answers[:5] == [302] * 5 and answers[5] == 429


# --------------------------------------------------------------------------- proxies on the web


def _register_proxy(db: Database, phone: str, resident_code: str) -> str:
    import datetime as dt

    from dispatch.models import Proxy, Resident

    with db.write() as s:
        resident = s.scalars(select(Resident).where(Resident.code == resident_code)).one()
        proxy = Proxy(resident_id=resident.id, name="息子", phone=phone, relation="family",
                      consent_recorded_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                      consent_note="resident agreed at the hub")
        s.add(proxy)
        s.flush()
        return proxy.id


def test_a_registered_proxy_orders_for_their_resident_on_the_web(client: FlaskClient, db: Database,
                                                                 tiny_region: str) -> None:
    from dispatch.models import Resident

    proxy_id = _register_proxy(db, "+819011112222", "R2")
    _sign_in(client, db, typed="090-1111-2222", phone="+819011112222")
    page = client.get("/order/").get_data(as_text=True)
    [for_whom] = re.findall(r'name="resident" value="([^"]+)"', page)  # only the resident they act for
    assert "佐藤 一郎" in page and "(R2)" not in page and "R2" not in page  # named, never by code
    response = client.post("/order/", data={"csrf_token": _token(page), "resident": for_whom,
                                            "wish": "0:any", "item0": "牛乳", "qty0": "2"})
    assert response.status_code == 302
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        resident = s.get(Resident, order.resident_id)
        confirmation = s.scalars(select(Message).where(Message.template == "order_received")).one()
    assert order.channel == "proxy" and order.proxy_id == proxy_id and resident.code == "R2"
    assert confirmation.phone == "+817000000002"  # the resident is told, in their language
    assert f"#{order.number}" in client.get("/order/").get_data(as_text=True)


def test_a_proxy_cannot_order_for_a_resident_they_do_not_act_for(client: FlaskClient, db: Database,
                                                                tiny_region: str) -> None:
    from dispatch.models import Resident

    _register_proxy(db, "+819011112222", "R2")
    with db.read() as s:
        stranger = s.scalars(select(Resident.id).where(Resident.code == "R3")).one()
    _sign_in(client, db, typed="090-1111-2222", phone="+819011112222")
    token = _token(client.get("/order/").get_data(as_text=True))
    response = client.post("/order/", data={"csrf_token": token, "resident": stranger, "wish": "0:any",
                                            "item0": "牛乳", "qty0": "1"})
    assert response.status_code == 200 and "Order for: Not a valid choice" in response.get_data(as_text=True)
    with db.read() as s:
        assert s.scalars(select(Order)).all() == []


# --------------------------------------------------------------------------- cancel after planning


def test_cancelling_a_planned_order_revises_the_plan_and_the_page_shows_it_cancelled(
        client: FlaskClient, db: Database, tiny_region: str) -> None:
    import datetime as dt

    from dispatch.models import Plan, Resident
    from tests.dispatch.factories import confirmed_day
    from tests.dispatch.test_planning import latest_plan

    day = confirmed_day(db, confirmed_at=dt.datetime.now(dt.UTC))
    courier = day.courier_with_orders()
    order_id = day.deliveries[courier][0]
    with db.read() as s:
        order = s.get(Order, order_id)
        assert order is not None and order.state == "planned"
        phone = s.get(Resident, order.resident_id).phone
        number = order.number
    _sign_in(client, db, typed=phone, phone=phone)
    page = client.get("/order/").get_data(as_text=True)
    assert re.search(rf"#{number}</strong> planned", page)
    cancel = client.post(f"/order/{order_id}/cancel", data={"csrf_token": _token(page)})
    assert cancel.status_code == 302
    after = client.get("/order/").get_data(as_text=True)
    assert "Order cancelled." in after
    row = re.search(rf'<li data-order="{number}">(.*?)</li>', after, re.S)
    assert row and "cancelled" in row.group(1) and "Cancel order" not in row.group(1)
    revised = latest_plan(db, day.batch_id)
    assert revised.version > day.plan.version and revised.state == "confirmed"
    assert order_id not in {st.order_id for r in revised.routes for st in r.stops}
    with db.read() as s:
        assert s.get(Plan, day.plan.id).state == "superseded"
        told = s.scalars(select(Message).where(Message.template == "stop_cancelled")).all()
        resident_told = s.scalars(select(Message).where(Message.template == "cancelled",
                                                        Message.order_id == order_id)).all()
    assert [m.params["number"] for m in told] == [number] and len(resident_told) == 1
    japanese = client.get("/order/?lang=ja").get_data(as_text=True)
    assert re.search(rf"#{number}</strong> 取消", japanese)


def test_a_bad_quantity_is_explained_and_nothing_is_ordered(client: FlaskClient, db: Database,
                                                            tiny_region: str) -> None:
    _sign_in(client, db)
    page = client.get("/order/").get_data(as_text=True)
    resident_id = re.search(r'name="resident" value="([^"]+)"', page).group(1)
    response = client.post("/order/", data={"csrf_token": _token(page), "resident": resident_id,
                                            "wish": "0:any", "item0": "米", "qty0": "25"})
    assert response.status_code == 200
    assert "Quantity 1: Number must be between 1 and 20." in response.get_data(as_text=True)
    empty = client.post("/order/", data={"csrf_token": _token(page), "resident": resident_id,
                                         "wish": "0:any"})
    assert empty.status_code == 200 and 'class="flash error" role="alert">What do you need?' in \
        empty.get_data(as_text=True)
    with db.read() as s:
        assert s.scalars(select(Order)).all() == []


def test_markup_in_an_item_name_is_refused_and_nothing_is_ordered(client: FlaskClient, db: Database,
                                                                  tiny_region: str) -> None:
    """Red-team finding: the form accepted markup in item names, which reach the map's tooltips."""
    _sign_in(client, db)
    page = client.get("/order/").get_data(as_text=True)
    resident_id = re.search(r'name="resident" value="([^"]+)"', page).group(1)
    response = client.post("/order/", data={"csrf_token": _token(page), "resident": resident_id,
                                            "wish": "0:any", "item0": "<img src=x onerror=alert(1)>",
                                            "qty0": "1"})
    assert response.status_code == 200
    assert "an item name cannot contain &lt; &gt; or control characters" in response.get_data(as_text=True)
    with db.read() as s:
        assert s.scalars(select(Order)).all() == []
