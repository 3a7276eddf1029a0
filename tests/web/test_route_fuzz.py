"""A route fuzzer (issue 17): every rule of the app's URL map, as each audience it declares (and as
a stranger), with hostile path, query, form and JSON values. No request may end in a 500.

The app runs with ``TESTING`` (an exception in a view propagates to the test, with its traceback)
on a real database holding a confirmed tiny day, so real ids reach the views as well as hostile
ones. CSRF and rate limits are off here (they would stop most requests before the view; both are
tested on their own). The parameter names tried are read from the views' source (``request.args``
and ``request.form`` lookups, WTForms fields), so a new parameter is fuzzed without a list to keep.
Hypothesis draws a few examples per rule and method, with a fixed seed (``derandomize``): the run
is the same every time and takes seconds, not minutes.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from dispatch.db import Database
from dispatch.models import Message, Order, Plan, Resident, Route, utcnow
from dispatch.services import integrations
from tests.conftest import PG_URL, REPO, TINY
from tests.dispatch.factories import confirmed_day
from tests.web.conftest import make_login_client, passwordless_session
from tests.web.test_courier import WEB_SETTINGS
from web import create_app
from web.security import declared_access

pytestmark = pytest.mark.db

#: Values that broke, or could break, a parser: huge and odd-digit numbers, NUL, calendar ends,
#: markup, path tricks, a long string, JSON-looking text, wrong types as strings.
HOSTILE = [
    "9" * 400,
    "-1",
    "0",
    "1e309",
    "NaN",
    "-inf",
    "١٢٣",
    "²³",
    "𝟙𝟚𝟛",
    "\x00",
    "a\x00b",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "<script>x</script>",
    "' OR 1=1 --",
    "../../../etc/passwd",
    "%",
    "%00",
    "",
    " ",
    "x" * 3000,
    "true",
    "[]",
    "{}",
    "null",
    "0:any",
    "9:morning",
    "-5:evening",
    "1:",
    ":",
    "drone",
    "+81",
    "+819099990000",
    "ja",
    "xx",
    "H1",
]
#: JSON bodies: deep nesting, huge numbers, wrong types.
DEEP = "[" * 50_000 + "]" * 50_000
JSON_BODIES = [
    DEEP,
    '{"a": ' + DEEP + "}",
    "1" + "0" * 400,
    '{"lon": 1' + "0" * 400 + "}",
    "NaN",
    '"x"',
    "[1, 2]",
    '{"items": [{"name": "<b>", "quantity": 1e309}]}',
    "{",
    "",
]
#: Parameter names the views read, besides those found in the source (form rows built in loops).
EXTRA_NAMES = {"item0", "qty0", "item1", "qty1", "csrf_token", "lang", "next", "from", "hubs", "events"}
SOURCES = [*REPO.glob("web/**/*.py"), *REPO.glob("sms/*.py")]
_LOOKUP = re.compile(r"request\.(?:args|form|values)(?:\.get|\.getlist)?[\(\[]\s*[\"']([A-Za-z_][\w-]*)[\"']")
_FIELD = re.compile(r"^\s+(\w+)\s*=\s*\w+Field\(", re.M)


def parameter_names() -> list[str]:
    found = set(EXTRA_NAMES)
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        found |= set(_LOOKUP.findall(source)) | set(_FIELD.findall(source))
    return sorted(found)


NAMES = parameter_names()


def _fresh_url(template: str, folder: Path) -> str:
    """A migrated database for this module (the session's template, copied or truncated)."""
    if PG_URL:
        from dispatch.models import Base

        admin = Database(template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with admin.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        admin.dispose()
        return template
    path = folder / "fuzz.sqlite"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def fuzz_app(_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from dispatch.region.importer import load_region
    from dispatch.region.reader import read_region

    url = _fresh_url(_template, tmp_path_factory.mktemp("fuzz"))
    db = Database(url)
    load_region(db, read_region(TINY))
    confirmed_day(db, WEB_SETTINGS, confirmed_at=utcnow())
    db.dispose()
    app = create_app(
        {
            "database_url": url,
            "secret_key": "test-secret-key",
            "public_url": "http://localhost",
            "tiles": "none",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    app.extensions["hakobu"].db.dispose()


@pytest.fixture(scope="module")
def world(fuzz_app: Flask) -> dict[str, Any]:
    """The audiences' clients and the real ids of the seeded day, by path argument name."""
    db: Database = fuzz_app.extensions["hakobu"].db
    with db.read() as s:
        ids = {
            "plan_id": list(s.scalars(select(Plan.id))),
            "order_id": list(s.scalars(select(Order.id))),
            "route_id": list(s.scalars(select(Route.id))),
            "resident_id": list(s.scalars(select(Resident.id))),
            "message_id": list(s.scalars(select(Message.id).limit(5))),
        }
        courier = s.scalars(select(Route.volunteer_id).where(Route.volunteer_id.is_not(None))).first()
        phone = s.scalars(select(Resident.phone).order_by(Resident.code)).first()
    integration = integrations.create_integration(db, "Fuzz", ["H1"], now=utcnow())
    token = integrations.issue_token(db, integration, now=utcnow()).secret
    ids["integration_id"] = [integration]
    clients: dict[str, FlaskClient] = {
        "stranger": fuzz_app.test_client(),
        "operator": make_login_client(fuzz_app, "operator", ("H1",)),
        "planner": make_login_client(fuzz_app, "planner"),
        "admin": make_login_client(fuzz_app, "admin"),
        "courier": passwordless_session(fuzz_app, fuzz_app.test_client(), courier=courier),
        "resident": passwordless_session(fuzz_app, fuzz_app.test_client(), phone=phone),
    }
    clients["integration"] = fuzz_app.test_client()
    clients["integration"].environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return {"clients": clients, "ids": ids, "known": sorted({i for found in ids.values() for i in found})}


def _cases(app_rules: list[tuple[str, str]]) -> list[Any]:
    return [pytest.param(rule, method, id=f"{method} {rule}") for rule, method in app_rules]


def _rules() -> list[tuple[str, str]]:
    app = create_app({"database_url": "sqlite://", "secret_key": "k", "TESTING": True})
    found = sorted(
        (r.rule, m)
        for r in app.url_map.iter_rules()
        if r.endpoint != "static"
        for m in r.methods - {"HEAD", "OPTIONS"}
    )
    app.extensions["hakobu"].db.dispose()
    return found


hostile = st.sampled_from(HOSTILE) | st.text(max_size=12) | st.integers().map(str)


@pytest.mark.parametrize(("rule", "method"), _cases(_rules()))
def test_no_route_answers_500_to_hostile_input(
    fuzz_app: Flask, world: dict[str, Any], rule: str, method: str
) -> None:
    url_rule = next(r for r in fuzz_app.url_map.iter_rules() if r.rule == rule and method in r.methods)
    audiences = sorted(declared_access(fuzz_app, url_rule.endpoint) or ())
    who = ["stranger", *(a for a in audiences if a in world["clients"])]

    @settings(
        max_examples=8,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        client = world["clients"][data.draw(st.sampled_from(who), label="audience")]
        value = hostile | st.sampled_from(world["known"])  # a real id now and then: deeper into the view
        values = {
            arg: data.draw(st.sampled_from(world["ids"].get(arg) or ["x"]) | hostile, label=arg)
            for arg in url_rule.arguments
        }
        path = _build(rule, values)
        query = data.draw(st.dictionaries(st.sampled_from(NAMES), value, max_size=4), label="query")
        kwargs: dict[str, Any] = {"query_string": query}
        if method != "GET":
            if data.draw(st.booleans(), label="json body"):
                kwargs |= {
                    "data": data.draw(st.sampled_from(JSON_BODIES)),
                    "content_type": "application/json",
                }
            else:
                kwargs["data"] = data.draw(
                    st.dictionaries(st.sampled_from(NAMES), value, max_size=8), label="form"
                )
        with client.open(path, method=method, **kwargs) as response:  # closed: file responses too
            assert response.status_code < 500, (method, path, query, kwargs.get("data"), response.status_code)

    run()


def _build(rule: str, values: dict[str, str]) -> str:
    """The rule's path with each ``<name>`` replaced by its value, percent-encoded (``/`` too)."""
    from urllib.parse import quote

    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: quote(values[m.group(1)], safe="") or "x", rule)


def test_the_fuzzer_reads_the_views_parameter_names() -> None:
    """The names come from the source: a few every console user meets must be among them."""
    assert {"day", "from", "to", "phone", "pin", "body", "at"} <= set(NAMES), NAMES
    assert json.loads(JSON_BODIES[-3])  # the bodies are what they say: this one is valid JSON
