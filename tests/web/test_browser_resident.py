"""The residents' page for an 80-year-old (issue 15, item 5) in a real headless Chromium at 360 px,
in Japanese, against a live server whose clock says 21:00 in Tajima: the hub's number where the
hint says to text it, the hub's common items as buttons, the day of every order, no internal
codes, "when" defaulting to tomorrow at night, and cancel and sign-out unlike the main button."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Message, Order
from tests.web.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, serving

pytestmark = [pytest.mark.db, pytest.mark.browser]

TOKYO = ZoneInfo("Asia/Tokyo")
#: Monday 2 March 2026, 21:00 in Tajima: after the tiny hub's last cutoff (14:00).
NIGHT = dt.datetime(2026, 3, 2, 21, 0, tzinfo=TOKYO)
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def night_app(database_url: str, tiny_region: str) -> Iterator[str]:
    """The app on the tiny region with its clock at :data:`NIGHT`, served by waitress."""
    from web import create_app

    app: Flask = create_app({"database_url": database_url, "secret_key": "browser-test",
                             "tiles": "none", "outbox_worker": False},
                            clock=lambda: NIGHT.astimezone(dt.UTC))
    with serving(app) as url:
        yield url


@pytest.fixture
def phone() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, locale="ja-JP")
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        browser.close()


def _code(db: Database, number: str) -> str:
    with db.read() as s:
        message = s.scalars(select(Message).where(Message.phone == number, Message.template == "login_code")
                            .order_by(Message.created_at.desc())).first()
        assert message is not None
        return str(message.params["code"])


def _style(page, selector: str, prop: str) -> str:  # type: ignore[no-untyped-def]
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_the_residents_page_at_360px(phone, night_app: str, db: Database) -> None:  # type: ignore[no-untyped-def]
    page = phone
    page.goto(f"{night_app}/order/sign-in")
    assert "050-0000-0000" in page.inner_text(".hubs")  # the hub's number, where to text it
    page.fill("#phone", "070-0000-0001")
    page.click("button.primary")
    page.fill("#code", _code(db, "+817000000001"))
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/order/$"))

    text = page.inner_text("main")
    assert not re.search(r"\bR\d+\b", text), text  # no resident codes such as R1
    assert "山田" in text or "さんのご注文" in text
    assert "050-0000-0000" in page.inner_text(".hint.sms")
    assert page.get_attribute(".hint.sms a[href^='sms:']", "href") == "sms:+815000000000"
    assert page.input_value("#wish") == "1:any"  # 21:00: tomorrow, not a day already over
    assert "明日" in page.inner_text("#wish option:checked")

    items = page.locator(".common button.item")
    assert items.count() >= 4 and "米" in items.first.inner_text()
    page.click(".common button.item:has-text('牛乳')")
    page.click(".common button.item:has-text('牛乳')")
    page.click(".common button.item:has-text('米')")
    assert [page.input_value(f"[name=item{i}]") for i in range(3)] == ["牛乳", "米", ""]
    assert page.input_value("[name=qty0]") == "2"
    page.screenshot(path=str(ARTIFACTS / "resident-360-form.png"), full_page=True)
    page.click("form.order button.primary")
    page.wait_for_selector(".flash")

    with db.read() as s:
        order = s.scalars(select(Order)).one()
        assert [(i.name, i.quantity) for i in order.items] == [("牛乳", 2), ("米", 1)]
        day = order.window_start.astimezone(TOKYO).date()
    assert day == NIGHT.date() + dt.timedelta(days=1)
    weekday = "月火水木金土日"[day.weekday()]
    row = page.locator(f"li[data-order='{order.number}']")
    assert f"{day.month}月{day.day}日({weekday})" in row.inner_text()  # the day of the order

    # One main action: filled blue and wide. Cancel: red outline, named after its order. Sign-out:
    # a plain underlined text at the bottom.
    primary = page.locator("form.order button.primary").bounding_box()
    cancel = row.locator("button.cancel")
    sign_out = page.locator("form.sign-out button")
    assert _style(page, "form.order button.primary", "backgroundColor") == "rgb(11, 92, 173)"
    assert _style(page, "button.cancel", "backgroundColor") == "rgb(255, 255, 255)"
    assert _style(page, "button.cancel", "color") == "rgb(187, 0, 0)"
    assert _style(page, "form.sign-out button", "textDecorationLine") == "underline"
    assert f"#{order.number}" in cancel.inner_text()
    assert primary["width"] > 300
    assert cancel.bounding_box()["width"] < primary["width"] * 0.7
    assert sign_out.bounding_box()["width"] < primary["width"] * 0.5
    assert sign_out.bounding_box()["y"] > cancel.bounding_box()["y"] + 40
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    page.screenshot(path=str(ARTIFACTS / "resident-360-orders.png"), full_page=True)

    cancel.click()
    page.wait_for_selector(".flash")
    with db.read() as s:
        assert s.get(Order, order.id).state == "cancelled"
    sign_out.click()
    page.wait_for_url(re.compile(r".*/order/sign-in$"))
