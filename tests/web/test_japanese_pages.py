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

import datetime as dt
import html
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.config import Settings
from dispatch.db import Database
from dispatch.lifecycle import BatchState, MessageStatus, OrderState, PlanState, RouteState
from dispatch.models import Hub, Plan, Resident, Route, Volunteer
from dispatch.services.delivery import fail, welfare_note
from sms.service import receive_sms
from tests.conftest import REPO
from tests.dispatch.test_plan_edits import NOW
from tests.web.conftest import login, passwordless_session
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
    """The text a person reads: text nodes outside scripts, styles and elements marked
    ``translate="no"`` (quoted sources), the values of title,
    placeholder, aria-label and alt, and the strings the map's script draws (tooltips, popups,
    layer names)."""
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    # Text marked as not to be translated (a bibliographic source quoted as published).
    body = re.sub(r'<(\w+)[^>]*\stranslate="no"[^>]*>.*?</\1>', " ", body, flags=re.S)
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
    """The board's confirmed day, plus a failed delivery, a welfare note and two texts nobody
    could act on (for the review queue); returns the board's ids and ``phone``, a resident's."""
    courier, carried, at = day["courier"], day["carried"], NOW + dt.timedelta(minutes=20)
    fail(db, courier, carried, "nobody_home", "fail-action-0001", at)
    welfare_note(db, courier, "少し具合が悪そうでした", "welfare-action-0001", at, order_id=day["locked"])
    with db.read() as s:
        phone = s.scalars(select(Resident.phone).order_by(Resident.code)).first()
    assert phone is not None
    receive_sms(db, "simulator", None, phone, "こんにちは、元気です", at, settings=Settings())
    receive_sms(db, "simulator", None, "+819012345678", "米を2つください", at, settings=Settings())
    receive_sms(db, "simulator", None, "+817000000101", "明日 休み", at, settings=Settings())  # V1
    return {**day, "phone": phone}


def _ja(client: FlaskClient) -> FlaskClient:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ja"
    return client


def _pages_of(client: FlaskClient, paths: list[str]) -> dict[str, list[str]]:
    """Each page in Japanese (``?lang=ja``): path -> the raw codes found on it."""
    problems = {}
    for path in paths:
        response = client.get(f"{path}{'&' if '?' in path else '?'}lang=ja")
        assert response.status_code == 200, (path, response.status_code)
        page = response.get_data(as_text=True)
        if response.is_json:
            page = ">" + "<>".join(str(v) for v in _leaves(response.get_json())) + "<"
        found = raw_codes(page)
        if found:
            problems[path] = found
    return problems


def _leaves(data: object) -> list[object]:
    """The values of a JSON answer that the page's script shows (labels, texts, times)."""
    if isinstance(data, dict):
        return [v for k, value in data.items() if k in SHOWN_KEYS or k in LISTS for v in _leaves(value)]
    if isinstance(data, list):
        return [v for item in data for v in _leaves(item)]
    return [data]


#: The keys of the JSON answers (board, live map) whose values the page's script puts on screen.
SHOWN_KEYS = {"label", "text", "holder", "state_label", "exception_labels", "proof", "tooltip",
              "new_label", "window", "items", "message", "name"}
LISTS = {"alerts", "parcels", "chain", "orders", "drones", "couriers"}


def _staff_pages(db: Database, role: str) -> list[str]:
    with db.read() as s:
        plans = list(s.scalars(select(Plan.id)))
        resident = s.scalars(select(Resident.id)).first()
        sorties = list(s.scalars(select(Route.id).where(Route.drone_id.is_not(None))))
        hub = s.scalars(select(Hub.id).where(Hub.code == "H1")).one()
        courier = s.scalars(select(Volunteer.id).where(Volunteer.hub_id == hub)).first()
    pages = ["/", "/live", "/board", "/board/data", "/plans", "/plans?state=proposed",
             "/plans?state=confirmed", *(f"/plans/{p}" for p in plans)]
    if role in ("operator", "admin"):
        pages += ["/intake/phone", "/intake/phone?q=R", f"/intake/phone/{resident}", "/intake/review",
                  "/intake/simulator", "/operations", "/drones", *(f"/drones/{r}" for r in sorties),
                  "/orders/parked", *(f"/plans/{p}/confirm/ask" for p in plans),
                  f"/operations/weather/ask?target={hub}&value=on",
                  f"/operations/courier/ask?target={courier}&value=off",
                  "/volunteers", "/volunteers?week=2026-03-02", "/flight-log"]
    if role in ("planner", "admin"):
        pages += ["/planner/", "/planner/scenario"]
    pages += ["/volunteers/hours?month=2026-03"]
    if role == "admin":
        pages += ["/admin/integrations"]
    return pages


@pytest.mark.parametrize("role", ["operator", "planner", "admin"])
def test_every_staff_page_in_japanese_shows_no_raw_code(app, client: FlaskClient, db: Database,
                                                        busy_day: dict[str, str], make_user,
                                                        role: str) -> None:
    make_user(role, email=f"{role}@example.jp", hubs=("H1",) if role == "operator" else ())
    login(_ja(client), f"{role}@example.jp")
    problems = _pages_of(client, _staff_pages(db, role))
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


def test_the_courier_and_resident_pages_in_japanese_show_no_raw_code(app, db: Database,
                                                                    busy_day: dict[str, str]) -> None:
    courier = passwordless_session(app, app.test_client(), courier=busy_day["courier"])
    with db.read() as s:
        routes = list(s.scalars(select(Route.id).where(Route.volunteer_id == busy_day["courier"])))
    pages = ["/courier/", *(f"/courier/route/{r}" for r in routes),
             *(f"/courier/route/{r}/sheet" for r in routes)]
    problems = _pages_of(_ja(courier), pages)
    resident = passwordless_session(app, app.test_client(), phone=busy_day["phone"])
    problems |= _pages_of(_ja(resident), ["/order/"])
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


def test_the_check_finds_raw_codes() -> None:
    """The detector itself: codes, ISO times and English domain sentences on a page are found,
    Japanese words and names are not."""
    page = ('<p>配達できず · nobody_home</p><td>delivered</td><small>2026-03-02T10:00:00+09:00</small>'
            '<span title="an order needs at least one item">x</span><p>森 健太 · 山里ハブ (Yamazato hub)</p>')
    found = " ".join(raw_codes(page))
    assert "'nobody_home'" in found and "'delivered'" in found and "2026-03-02T10:00" in found
    assert "an order needs" in found and "Yamazato" not in found and "森" not in found


# --- the catalogue -----------------------------------------------------------------------------

CATALOGUE = REPO / "web" / "translations" / "ja" / "LC_MESSAGES" / "messages.po"
#: What the extractor looks for: Babel's defaults (``_``, ``gettext``, ``ngettext``, ``N_``…) and
#: the domain's phrase constructors, whose first argument is a catalogue key.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "lazy_gettext": None,
            "Phrase": None, "phrase": None, "DomainError": None, "PastEtas": None, "_review": (2,)}


def extracted() -> dict[str, str]:
    """msgid -> where it was first found, over the web (Python and templates) and the domain."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, str] = {}
    sources = [("web", [("**.py", "python"), ("templates/**.html", "jinja2")]),
               ("dispatch", [("**.py", "python")])]
    for folder, method_map in sources:
        for filename, _lineno, message, _comments, _context in extract_from_dir(
                str(REPO / folder), method_map, keywords=KEYWORDS, comment_tags=()):
            for msgid in (message if isinstance(message, tuple) else (message,)):
                if msgid:
                    found.setdefault(msgid, f"{folder}/{filename}")
    return found


def catalogue() -> dict[str, str]:
    from babel.messages.pofile import read_po

    entries: dict[str, str] = {}
    with CATALOGUE.open("rb") as f:
        for m in read_po(f, locale="ja"):
            ids = (m.id,) if isinstance(m.id, str) else tuple(m.id)
            texts = (m.string,) if isinstance(m.string, str) else tuple(m.string)
            for msgid in ids:
                if msgid:
                    entries[str(msgid)] = "" if not all(texts) else str(texts[0])
    return entries


def test_every_catalogue_entry_has_a_japanese_translation() -> None:
    empty = sorted(msgid for msgid, text in catalogue().items() if not text)
    assert not empty, f"{len(empty)} entries without msgstr: {empty[:20]}"


def test_every_message_of_the_code_is_in_the_japanese_catalogue() -> None:
    known = catalogue()
    missing = {msgid: where for msgid, where in extracted().items() if not known.get(msgid)}
    assert not missing, "\n".join(f"{where}: {msgid!r}" for msgid, where in sorted(missing.items()))
