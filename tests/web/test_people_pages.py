"""The console's page of a resident's people (issue 15): an operator registers a proxy with the
consent record, both are texted, the proxy orders by SMS, by phone and on the residents' page, the
page shows who ordered for whom, and a revoked proxy's next order is refused."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Message, Order, Proxy, Resident
from sms.service import receive_sms
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.db
PROXY_PHONE = "+819011112222"


@pytest.fixture
def operator(client: FlaskClient, make_user, tiny_region: str) -> FlaskClient:
    login(client, make_user("operator", hubs=("H1",)))
    return client


def _resident_id(db: Database, code: str = "R1") -> str:
    with db.read() as s:
        return s.scalars(select(Resident.id).where(Resident.code == code)).one()


def _texts_to(db: Database, phone: str) -> list[Message]:
    with db.read() as s:
        return list(
            s.scalars(
                select(Message)
                .where(Message.phone == phone, Message.direction == "out")
                .order_by(Message.created_at)
            )
        )


def _register(operator: FlaskClient, page: str, **extra: str) -> object:
    data = {
        "csrf_token": csrf_token(operator, page),
        "name": "田中花子",
        "phone": PROXY_PHONE,
        "relation": "family",
        "consented_by": "田中一郎",
        "consent_method": "paper",
        "consented_on": "2026-12-01",
        "ordering": "y",
        "note": "同意書 No.12",
        **extra,
    }
    return operator.post(page, data=data)


def test_an_operator_registers_a_proxy_who_then_orders_and_is_revoked(
    operator: FlaskClient, app: Flask, db: Database
) -> None:
    resident_id = _resident_id(db)
    page = f"/intake/people/{resident_id}"
    assert _register(operator, page).status_code == 302
    with db.read() as s:
        proxy = s.scalars(select(Proxy)).one()
        resident = s.get(Resident, resident_id)
    assert (proxy.consented_by, proxy.consent_method, proxy.covers_ordering, proxy.covers_receiving) == (
        "田中一郎",
        "paper",
        True,
        False,
    )
    assert proxy.recorded_by_user_id is not None and proxy.consent_note == "同意書 No.12"
    # both are told, in the resident's language
    [to_resident] = _texts_to(db, resident.phone)
    [to_proxy] = _texts_to(db, PROXY_PHONE)
    assert (to_resident.template, to_resident.params["name"]) == ("proxy_added", "田中花子")
    assert (to_proxy.template, to_proxy.params["resident"]) == ("proxy_registered", "R1")

    # the proxy orders by SMS for the resident
    settings = app.extensions["hakobu"].settings
    reply = receive_sms(db, "simulator", None, PROXY_PHONE, "代理 R1 注文 米 2", settings=settings)
    assert reply.template == "order_received"
    # and by phone: the operator takes the call and names the proxy as the caller
    order_page = f"/intake/phone/{resident_id}"
    form = operator.get(order_page).get_data(as_text=True)
    assert "田中花子" in form
    assert (
        operator.post(
            order_page,
            data={
                "csrf_token": csrf_token(operator, order_page),
                "item0": "薬",
                "qty0": "1",
                "wish": "0:any",
                "priority": "1",
                "caller": proxy.id,
            },
        ).status_code
        == 302
    )
    with db.read() as s:
        orders = list(s.scalars(select(Order).order_by(Order.number)))
    assert [(o.channel, o.proxy_id) for o in orders] == [("proxy", proxy.id), ("phone", proxy.id)]

    # the page's audit: who ordered for whom
    shown = operator.get(page).get_data(as_text=True)
    assert len(re.findall(r'data-by="proxy"', shown)) == 2
    assert "田中花子 (family) for the resident" in shown and "同意書 No.12" in shown

    # revoked: both told, the next SMS order is refused and kept for an operator
    token = csrf_token(operator, page)
    assert operator.post(f"{page}/proxies/{proxy.id}/revoke", data={"csrf_token": token}).status_code == 302
    assert [m.template for m in _texts_to(db, resident.phone)][-1] == "proxy_removed"
    assert [m.template for m in _texts_to(db, PROXY_PHONE)][-1] == "proxy_revoked"
    refused = receive_sms(db, "simulator", None, PROXY_PHONE, "代理 R1 注文 米 1", settings=settings)
    assert refused.template == "proxy_not_allowed"
    with db.read() as s:
        assert s.scalar(select(Proxy.revoked_by_user_id)) is not None
        assert s.scalars(select(Message).where(Message.review == "pending")).one().phone == PROXY_PHONE


def test_an_edit_changes_the_consent_without_texting_anyone(operator: FlaskClient, db: Database) -> None:
    resident_id = _resident_id(db)
    page = f"/intake/people/{resident_id}"
    _register(operator, page)
    with db.read() as s:
        proxy_id = s.scalar(select(Proxy.id))
    before = len(_texts_to(db, PROXY_PHONE))
    prefix = f"p{proxy_id}-"
    data = {
        f"{prefix}{k}": v
        for k, v in {
            "name": "田中花子",
            "phone": PROXY_PHONE,
            "relation": "family",
            "consented_by": "田中一郎",
            "consent_method": "in_person",
            "consented_on": "2026-12-03",
            "ordering": "y",
            "receiving": "y",
            "note": "",
        }.items()
    }
    data[f"{prefix}csrf_token"] = csrf_token(operator, page)
    assert operator.post(f"{page}/proxies/{proxy_id}", data=data).status_code == 302
    with db.read() as s:
        proxy = s.get(Proxy, proxy_id)
    assert (proxy.consent_method, proxy.covers_receiving) == ("in_person", True)
    assert len(_texts_to(db, PROXY_PHONE)) == before


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ({"phone": "090-1111-2222"}, "is not a phone number in E.164 form"),
        ({"phone": "+817000000001"}, "this is the resident's own number"),
        ({"ordering": ""}, "the consent must cover ordering, receiving or both"),
    ],
)
def test_a_bad_proxy_is_refused_with_the_reason_and_nothing_is_saved(
    operator: FlaskClient, db: Database, extra: dict[str, str], shown: str
) -> None:
    page = f"/intake/people/{_resident_id(db)}"
    response = _register(operator, page, **extra)
    assert response.status_code == 200 and shown in html.unescape(response.get_data(as_text=True))
    with db.read() as s:
        assert s.scalar(select(Proxy.id)) is None
        assert s.scalar(select(Message.id)) is None


def test_another_hubs_operator_gets_404(
    client: FlaskClient, db: Database, make_user, make_hub, tiny_region: str
) -> None:
    make_hub("other", region_code="tiny")
    login(client, make_user("operator", hubs=("other",)))
    assert client.get(f"/intake/people/{_resident_id(db)}").status_code == 404


def test_the_page_in_japanese_shows_no_raw_code(operator: FlaskClient, app: Flask, db: Database) -> None:
    from tests.web.test_japanese_pages import raw_codes

    resident_id = _resident_id(db)
    page = f"/intake/people/{resident_id}"
    _register(operator, page)
    receive_sms(
        db, "simulator", None, PROXY_PHONE, "代理 R1 注文 米 2", settings=app.extensions["hakobu"].settings
    )
    token = csrf_token(operator, page)
    operator.post(
        f"{page}/standing",
        data={
            "csrf_token": token,
            "item0": "米",
            "qty0": "2",
            "weekday": "1",
            "every_weeks": "2",
            "part": "morning",
        },
    )
    shown = operator.get(f"{page}?lang=ja").get_data(as_text=True)
    assert "代理人と定期便" in shown and "2週ごと" in shown and "書面で" in shown
    assert raw_codes(shown) == []
