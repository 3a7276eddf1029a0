"""Training recorded in the console (issue 15, item 4): an operator records a volunteer's completed
course from the week page (CSRF, hub-scoped), the record keeps who and when, a region reload keeps
it, and medicine needs a trained courier whichever channel ordered it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Order, Resident, TrainingRecord, User, Volunteer
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.requests import ItemRequest
from dispatch.services.ordering import place_order
from sms.service import receive_sms
from tests.dispatch.factories import SETTINGS
from tests.dispatch.volunteer_region import SATURDAY_EVENING, load_volunteer_region, volunteers
from tests.web.conftest import csrf_token, login

pytestmark = pytest.mark.db


@pytest.fixture
def folder(db: Database, tmp_path: Path) -> Path:
    return load_volunteer_region(db, tmp_path)


def _record(client: FlaskClient, volunteer_id: str, course: str, day: str, token: str | None) -> int:
    data = {"course": course, "completed_on": day} | ({"csrf_token": token} if token else {})
    return client.post(f"/volunteers/{volunteer_id}/training", data=data).status_code


def _training(db: Database, code: str) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(Volunteer.training).where(Volunteer.code == code)).one())


def test_an_operator_records_a_volunteers_training_on_the_week_page(
    client: FlaskClient, db: Database, folder: Path, make_user
) -> None:  # type: ignore[no-untyped-def]
    v3 = volunteers(db)["V3"]
    email = make_user("operator", hubs=("H1",))
    login(client, email)
    token = csrf_token(client, "/volunteers")
    assert _record(client, v3.id, "medicine", "2026-03-01", None) == 400  # no CSRF token
    assert _record(client, v3.id, "medicine", "2026-03-01", token) == 302
    page = client.get("/volunteers").get_data(as_text=True)
    row = page.split('data-volunteer="V3"')[1].split("</tr>")[0]
    assert 'data-training-record="medicine"' in row and "Training recorded: medicine" in page
    assert re.search(r'data-training-record="medicine" title="Recorded by Operator, \S', row)
    with db.read() as s:
        record = s.scalars(select(TrainingRecord)).one()
        user_id = s.scalars(select(User.id).where(User.email == email)).one()
    assert (record.volunteer_id, record.course) == (v3.id, "medicine")
    assert record.completed_on == dt.date(2026, 3, 1)
    assert record.recorded_by_user_id == user_id and record.recorded_at is not None
    assert _training(db, "V3") == ["medicine"]
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert _record(client, v3.id, "welfare", future, token) == 302
    assert "cannot be completed in the future" in client.get("/volunteers").get_data(as_text=True)
    assert _record(client, v3.id, "juggling", "2026-03-01", token) == 400
    assert _training(db, "V3") == ["medicine"]


def test_another_hubs_operator_cannot_record_training(
    client: FlaskClient, db: Database, folder: Path, make_user, make_hub
) -> None:  # type: ignore[no-untyped-def]
    make_hub("other", region_code="tiny-volunteers")
    login(client, make_user("operator", hubs=("other",)))
    token = csrf_token(client, "/volunteers")
    assert _record(client, volunteers(db)["V3"].id, "pin", "2026-03-01", token) == 404
    with db.read() as s:
        assert s.scalars(select(TrainingRecord)).all() == []
    assert _training(db, "V3") == []


def test_a_region_reload_keeps_training_recorded_in_the_console(
    client: FlaskClient, db: Database, folder: Path, make_user
) -> None:  # type: ignore[no-untyped-def]
    login(client, make_user("operator", hubs=("H1",)))
    token = csrf_token(client, "/volunteers")
    assert _record(client, volunteers(db)["V3"].id, "welfare", "2026-03-01", token) == 302
    csv = (folder / "volunteers.csv").read_text(encoding="utf-8")
    (folder / "volunteers.csv").write_text(csv.replace(",en,pin welfare", ",en,pin"), encoding="utf-8")
    load_region(db, read_region(folder))
    assert _training(db, "V3") == ["welfare"]  # the file lists none: the console's record stays
    assert _training(db, "V4") == ["pin"]  # the file is still the source for what it lists


def test_medicine_needs_a_trained_courier_on_every_channel(db: Database, folder: Path) -> None:
    with db.read() as s:
        resident = s.scalars(select(Resident).order_by(Resident.code)).first()
        assert resident is not None
        resident_id, phone = resident.id, resident.phone
    receive_sms(db, "simulator", None, phone, "注文 薬 1", SATURDAY_EVENING, settings=SETTINGS)
    place_order(
        db, resident_id, [ItemRequest("目薬", 1), ItemRequest("牛乳", 1)], channel="web", now=SATURDAY_EVENING
    )
    place_order(db, resident_id, [ItemRequest("米", 1)], channel="web", now=SATURDAY_EVENING)
    with db.read() as s:
        found = [(o.channel, o.needs_training) for o in s.scalars(select(Order).order_by(Order.number))]
    assert found == [("sms", "medicine"), ("web", "medicine"), ("web", "")]
