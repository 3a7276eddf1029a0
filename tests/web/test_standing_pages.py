"""Standing orders on the residents' page and hub closures in the console (issue 15, item 2): a
proxy signed in with their own phone sets a standing order for their resident and pauses it; an
operator closes the hub for a day, and that day's occurrence is skipped with a notice SMS."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import HubClosure, Message, Order, Resident, StandingOccurrence, StandingOrder
from dispatch.requests import ItemRequest
from dispatch.services import standing
from tests.web.conftest import csrf_token, login
from tests.web.test_resident import _register_proxy, _sign_in, _token

pytestmark = pytest.mark.db
TOKYO = dt.timezone(dt.timedelta(hours=9))


def test_a_proxy_sets_and_pauses_a_standing_order_on_the_residents_page(
    client: FlaskClient, db: Database, tiny_region: str
) -> None:
    proxy_id = _register_proxy(db, "+819011112222", "R2")
    _sign_in(client, db, typed="090-1111-2222", phone="+819011112222")
    assert 'href="/order/regular/"' in client.get("/order/").get_data(as_text=True)
    page = client.get("/order/regular/").get_data(as_text=True)
    [(resident_id, name)] = re.findall(
        r'<option value="([^"]+)">([^<]+)</option>', page.split('id="resident"')[1]
    )[:1]
    assert name == "佐藤 一郎"
    response = client.post(
        "/order/regular/",
        data={
            "csrf_token": _token(page),
            "resident": resident_id,
            "item0": "牛乳",
            "qty0": "2",
            "weekday": "3",
            "every_weeks": "2",
            "part": "morning",
        },
    )
    assert response.status_code == 302
    with db.read() as s:
        so = s.scalars(select(StandingOrder)).one()
        told = s.scalars(select(Message).where(Message.template == "standing_set")).one()
    assert (so.items, so.weekday, so.every_weeks, so.part, so.channel, so.proxy_id) == (
        [["牛乳", 2, None]],
        3,
        2,
        "morning",
        "proxy",
        proxy_id,
    )
    assert told.phone == "+817000000002"  # the resident is told, not only the proxy
    page = client.get("/order/regular/").get_data(as_text=True)
    assert 'data-standing="active"' in page
    pause = f"/order/regular/{resident_id}/{so.id}/paused"
    assert client.post(pause, data={"csrf_token": _token(page)}).status_code == 302
    assert 'data-standing="paused"' in client.get("/order/regular/").get_data(as_text=True)
    # another resident's standing order is not the proxy's to change
    with db.read() as s:
        other = s.scalars(select(Resident.id).where(Resident.code == "R1")).one()
    assert (
        client.post(f"/order/regular/{other}/{so.id}/stopped", data={"csrf_token": _token(page)}).status_code
        == 404
    )


def test_an_operator_closes_the_hub_and_that_days_standing_order_is_skipped_with_notice(
    client: FlaskClient, db: Database, make_user, tiny_region: str
) -> None:
    login(client, make_user("operator", hubs=("H1",)))
    today = dt.datetime.now(TOKYO).date()
    day = today + dt.timedelta(days=8)  # a week and a day ahead: past the first occurrence
    with db.write() as s:
        resident = s.scalars(select(Resident).where(Resident.code == "R1")).one()
        standing.set_standing(
            s,
            resident,
            [ItemRequest("米", 2)],
            weekday=day.weekday(),
            channel="phone",
            now=dt.datetime.now(dt.UTC),
        )
    token = csrf_token(client, "/closures/")
    hub = re.search(r'<option value="(?!all")([^"]+)">', client.get("/closures/").get_data(as_text=True))[1]
    assert (
        client.post(
            "/closures/", data={"csrf_token": token, "hub": hub, "day": day.isoformat(), "reason": "年末年始"}
        ).status_code
        == 302
    )
    assert f'data-closure="{day.isoformat()}"' in client.get("/closures/").get_data(as_text=True)
    evening = dt.datetime.combine(day - dt.timedelta(days=1), standing.REMIND_AT, TOKYO)
    result = standing.run_due(db, now=evening)
    assert result.placed == [] and result.closed == [("R1", day)]
    with db.read() as s:
        assert s.scalars(select(StandingOccurrence.outcome)).one() == "closed"
        assert s.scalar(select(Order.id)) is None
        notice = s.scalars(select(Message).where(Message.template == "standing_closed")).one()
        assert s.scalar(select(HubClosure.reason)) == "年末年始"
    assert notice.phone == "+817000000001" and notice.params["date"] == day.isoformat()


def test_the_closures_and_standing_pages_in_japanese_show_no_raw_code(
    client: FlaskClient, db: Database, make_user, tiny_region: str
) -> None:
    from tests.web.test_japanese_pages import raw_codes

    _register_proxy(db, "+819011112222", "R2")
    with db.write() as s:
        resident = s.scalars(select(Resident).where(Resident.code == "R2")).one()
        standing.set_standing(
            s,
            resident,
            [ItemRequest("牛乳", 2, "本")],
            weekday=4,
            every_weeks=2,
            channel="web",
            now=dt.datetime.now(dt.UTC),
        )
    _sign_in(client, db, typed="090-1111-2222", phone="+819011112222")
    page = client.get("/order/regular/?lang=ja").get_data(as_text=True)
    assert "定期便" in page and "2週ごと" in page and "金曜日" in page and raw_codes(page) == []
    staff = client.application.test_client()
    login(staff, make_user("operator", hubs=("H1",)))
    page = staff.get("/closures/?lang=ja").get_data(as_text=True)
    assert "拠点の休業日・祝日" in page and raw_codes(page) == []
