"""Two municipalities in one database (issue 18, item 3): the access table holds with users of each.

The tiny sample region is loaded twice, as ``tiny`` (with a confirmed day: plan, routes, a drone
sortie, a welfare alert) and as ``tiny-b``: both have a hub ``H1``, residents, couriers, a drone and
zones of their own. An operator of ``tiny-b/H1`` gets 404 on every hub-scoped page and action of
``tiny``'s day and sees none of it in the lists; the operator of ``tiny/H1`` reaches the same pages;
a bare ``H1`` is refused when an account is made, since it would name both hubs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Hub, Region, Resident, User
from dispatch.region.importer import load_region
from dispatch.region.reader import read_region
from dispatch.services.users import upsert_user
from tests.conftest import TINY
from tests.web.conftest import PASSWORD, login
from tests.web.test_access_table import _objects, assert_nothing_of_theirs
from tests.web.test_board import DAY, day  # noqa: F401 - the confirmed tiny day fixture

pytestmark = pytest.mark.db


@pytest.fixture
def second_region(db: Database, day: dict[str, str]) -> str:  # noqa: F811 - the imported fixture
    """``tiny-b``, loaded beside ``tiny`` once its day is confirmed; returns its H1's id."""
    load_region(db, read_region(TINY), code="tiny-b")
    with db.read() as s:
        return s.scalars(select(Hub.id).join(Region).where(Region.code == "tiny-b", Hub.code == "H1")).one()


def test_both_regions_keep_their_own_hubs_residents_and_timezone(db: Database, second_region: str) -> None:
    with db.read() as s:
        per_region = dict(s.execute(select(Region.code, func.count(Resident.id)).join(Resident)
                                    .group_by(Region.code)).all())
        timezones = set(s.scalars(select(Region.timezone)))
    assert per_region == {"tiny": per_region["tiny"], "tiny-b": per_region["tiny"]} and per_region["tiny"] > 0
    assert timezones == {"Asia/Tokyo"}


def test_a_hub_code_two_regions_share_must_name_its_region(db: Database, second_region: str) -> None:
    with pytest.raises(DomainError, match=r"hub H1 is in several regions \(tiny, tiny-b\): write region/hub"):
        upsert_user(db, "op@example.jp", "Op", "operator", PASSWORD, ("H1",))
    with pytest.raises(DomainError, match="no hub tiny-c/H1"):
        upsert_user(db, "op@example.jp", "Op", "operator", PASSWORD, ("tiny-c/H1",))
    user_id = upsert_user(db, "op@example.jp", "Op", "operator", PASSWORD, ("tiny-b/H1",))
    with db.read() as s:
        assert [h.id for h in s.get_one(User, user_id).hubs] == [second_region]


def test_the_other_regions_operator_gets_404_and_the_regions_own_reaches_the_pages(
        client: FlaskClient, make_user: Callable[..., str], db: Database, day: dict[str, str],  # noqa: F811
        second_region: str) -> None:
    ids = _objects(db, day)
    login(client, make_user("operator", email="b@example.jp", hubs=("tiny-b/H1",)))
    assert_nothing_of_theirs(client, ids, day)
    dashboard = client.get("/?region=tiny").get_data(as_text=True)  # asking for the other region
    assert 'class="regions"' not in dashboard  # one region in scope: no switch
    assert f'data-timeline="{second_region}"' in dashboard
    assert f'data-timeline="{day["hub"]}"' not in dashboard

    own = client.application.test_client()
    own.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(own, make_user("operator", email="a@example.jp", hubs=("tiny/H1",)))
    for path in (f"/plans/{ids['plan']}", f"/intake/phone/{ids['resident']}", f"/drones/{ids['sortie']}",
                 f"/routes/{ids['route']}/sheet", f"/volunteers?hub={day['hub']}"):
        assert own.get(path).status_code == 200, path
    assert f'data-plan="{ids["plan"]}"' in own.get("/plans").get_data(as_text=True)
    assert own.get(f"/board/data{DAY}").get_json()["parcels"]
    page = own.get("/").get_data(as_text=True)
    assert f'data-timeline="{day["hub"]}"' in page and f'data-timeline="{second_region}"' not in page


def test_a_planner_switches_between_the_municipalities_on_the_map_page(
        client: FlaskClient, make_user: Callable[..., str], day: dict[str, str],  # noqa: F811
        second_region: str) -> None:
    login(client, make_user("planner"))
    first = client.get("/").get_data(as_text=True)
    assert 'data-region="tiny" aria-current="page"' in first and 'data-region="tiny-b"' in first
    assert f'data-timeline="{day["hub"]}"' in first and f'data-timeline="{second_region}"' not in first
    other = client.get("/?region=tiny-b").get_data(as_text=True)
    assert 'data-region="tiny-b" aria-current="page"' in other
    assert f'data-timeline="{second_region}"' in other and f'data-timeline="{day["hub"]}"' not in other
    assert "/live?" in other and "region=tiny-b" in other  # the page polls for its own region
    live = {region: client.get(f"/live?region={region}").get_json() for region in ("tiny", "tiny-b")}
    assert live["tiny"]["orders"] and live["tiny-b"]["orders"] == [], "the live layers of one region only"
