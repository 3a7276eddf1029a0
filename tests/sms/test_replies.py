"""Reply texts and their SMS cost: every template, both languages, worst-case parameters, within
its declared segment budget; plus the segment arithmetic the budget rests on."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.db import Database
from dispatch.lifecycle import OrderState
from sms.parser import Item, TimeWish
from sms.replies import TEMPLATES, parameters, render, state_words, summarize_items
from sms.segments import encoding, length_units, segment_count

# --------------------------------------------------------------------------- worst cases

_JA_ITEMS = [Item("北海道産ゆめぴりか無洗米 5kg", 20, "袋"), Item("低脂肪牛乳 1000ml", 12, "パック")] * 10
_EN_ITEMS = [Item("Koshihikari rice 5kg", 20, "bags"), Item("low-fat milk 1l", 12, "cartons")] * 10
_WORST = {
    "number": 99999,
    "time_wish": TimeWish(2, "afternoon"),
    "start": dt.time(10, 30),
    "end": dt.time(11, 30),
    "pin": "0427",
    "time": dt.datetime(2025, 12, 31, 18, 45),
    "date": dt.date(2025, 12, 31),
    "state": OrderState.RETURNED.value,  # the longest words in both languages
    "resident": "R-0000000000000000000000000012",
    # a courier's sign-in link as dispatch.services.plans builds it: a 32-character secret
    # (secrets.token_urlsafe(24)) behind a realistic public URL
    "url": "https://hub.example.jp/courier/login/" + "Xq3vY0bK9sLm2NpQ7rT4wA-_Zk81LmQp",
    "code": "123456",
    "minutes": 10,
    "count": 99,
    "name": "長谷川ゆかり長谷川ゆかり長谷川ゆかり",
    "tail": "5678",
    "weekday": 2,
    "every": 4,
    "stop": "入善町民会館前バス停留所北口乗り場",  # longer than a text keeps (MAX_STOP_CHARS)
}

#: Templates allowed more than one segment; a template added or grown beyond one segment has to
#: be listed here on purpose.
MULTI_SEGMENT = {"callout": 2, "courier_route_link": 2, "route_changed": 2}


def _worst(key: str, items: list[Item]) -> dict[str, object]:
    required, optional = parameters(key)
    params = {name: _WORST[name] for name in (*required, *optional) if name != "items"}
    if "items" in required:
        params["items"] = items
    return params


@pytest.mark.parametrize("key", sorted(TEMPLATES))
@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_template_fits_its_budget_with_worst_case_parameters(key: str, language: str) -> None:
    text = render(key, language, **_worst(key, _EN_ITEMS if language == "en" else _JA_ITEMS))
    assert 1 <= segment_count(text) <= TEMPLATES[key].budget <= 3, text
    if language == "ja":
        assert len(text) <= 70 * TEMPLATES[key].budget


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_english_replies_stay_gsm7_and_within_three_segments_even_with_japanese_names(key: str) -> None:
    assert encoding(render(key, "en", **_worst(key, _EN_ITEMS))) == "GSM-7"
    assert segment_count(render(key, "en", **_worst(key, _JA_ITEMS))) <= 3


@pytest.mark.parametrize("key", sorted(TEMPLATES))
@pytest.mark.parametrize("language", ["ja", "en"])
def test_templates_render_with_required_parameters_only(key: str, language: str) -> None:
    required, _ = parameters(key)
    params = {name: _WORST[name] for name in required if name != "items"}
    if "items" in required:
        params["items"] = [Item("米", 2)]
    text = render(key, language, **params)
    assert "{" not in text and "None" not in text
    assert segment_count(text) <= TEMPLATES[key].budget


def test_declared_budgets_are_the_known_multi_segment_templates() -> None:
    declared = {key: tpl.budget for key, tpl in TEMPLATES.items() if tpl.budget > 1}
    assert declared == MULTI_SEGMENT


def test_required_templates_exist() -> None:
    assert {
        "order_received", "order_planned", "out_for_delivery", "delivered", "delivery_failed",
        "cancelled", "cancel_not_possible", "nothing_to_cancel", "status", "status_none", "help",
        "stopped", "started", "unknown_number", "unparseable", "proxy_not_allowed",
        "proxy_unknown_resident", "courier_route_link", "login_code",
    } <= set(TEMPLATES)  # fmt: skip


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_japanese_replies_are_plain_and_polite(key: str) -> None:
    text = render(key, "ja", **_worst(key, _JA_ITEMS))
    assert not any(unicodedata.category(c) == "So" for c in text)  # no emoji or pictographs
    polite = ("です", "ます", "ました", "ません", "ください")
    assert any(word in text for word in polite) or key == "help", text


# --------------------------------------------------------------------------- as stored and sent

#: Worst-case parameters in the form the services store them (JSON in the message row): windows as
#: UTC ISO times on another day than today, items as lists, the time as HH:MM, the PIN as the
#: sender fills it in at send time.
_STORED = {
    **{k: v for k, v in _WORST.items() if k not in ("start", "end", "time", "date", "time_wish")},
    "items": [[i.name, i.quantity, i.unit] for i in _JA_ITEMS],
    "window_start": "2030-12-30T01:30:00+00:00",
    "window_end": "2030-12-30T02:30:00+00:00",
    "time": "18:45",
    "date": "2030-12-31",
    "time_wish": [2, "afternoon"],
}


def test_every_template_parameter_survives_storage() -> None:
    """A template whose parameter the sender does not pass on would be dead-lettered at send time."""
    from sms.service import template_arguments

    arguments = template_arguments("any", json.loads(json.dumps(_STORED)), "Asia/Tokyo")
    for key, tpl in TEMPLATES.items():
        assert {*tpl.required, *tpl.optional} <= arguments.keys(), key


@pytest.mark.parametrize("key", sorted(TEMPLATES))
@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_template_rendered_from_storage_fits_its_budget(key: str, language: str) -> None:
    from sms.service import render_message

    required, optional = parameters(key)
    names = {*required, *optional}
    stored = {k: v for k, v in _STORED.items()
              if k in names or (k.startswith("window_") and names & {"start", "end"})}
    if "items" in stored:
        items = _EN_ITEMS if language == "en" else _JA_ITEMS
        stored["items"] = [[i.name, i.quantity, i.unit] for i in items]
    text = render_message(key, language, json.loads(json.dumps(stored)), "Asia/Tokyo")
    assert "{" not in text and "None" not in text
    assert 1 <= segment_count(text) <= TEMPLATES[key].budget, text
    if names & {"start", "end"}:  # 01:30 UTC is 10:30 in Tokyo; a bus arrives at one time, not a window
        assert "10:30" in text and ("11:30" in text or "end" not in names)


@pytest.mark.db
def test_a_message_that_cannot_be_rendered_is_dead_lettered_not_stalling_the_queue(
        db: Database, tiny_region: str) -> None:
    from sqlalchemy import select

    from dispatch.models import Message
    from dispatch.services import outbox
    from sms.sender import send_due
    from sms.transports import SimulatorTransport

    with db.write() as s:
        outbox.queue(s, "+817000000001", "order_received",
                     {"number": 4, "items": [["米", 1, None]], "time_wish": [1]}, "ja")  # truncated wish
        outbox.queue(s, "+817000000002", "help", {}, "ja")
    stats = send_due(db, SimulatorTransport())
    assert (stats.sent, stats.dead) == (1, 1)
    with db.read() as s:
        bad = s.scalars(select(Message).where(Message.template == "order_received")).one()
    assert bad.status == "dead" and "cannot render 'order_received'" in bad.error


# --------------------------------------------------------------------------- concrete texts


def test_order_received_in_both_languages() -> None:
    items = [Item("米5kg", 1), Item("牛乳", 2, "本")]
    assert render("order_received", "ja", number=12, items=items, time_wish=TimeWish(1, "morning")) == (
        "ご注文#12を受け付けました: 米5kg×1、牛乳×2本、希望: 明日午前。"
    )
    assert render("order_received", "en", number=12, items=[Item("rice", 2)]) == (
        "Order #12 received: rice x2. We will text the delivery time."
    )


def test_order_planned_gives_window_and_pin() -> None:
    text = render("order_planned", "ja", number=7, start=dt.time(9, 0), end=dt.time(10, 0), pin="0427")
    assert text == "注文#7は本日09:00〜10:00にお届けします。受取の暗証番号は0427です。"
    text = render(
        "order_planned", "en", number=7, start="09:00", end="10:00", pin="0427", date=dt.date(2025, 6, 3)
    )
    assert text == ("Order #7 arrives on Jun 03 09:00-10:00. Your delivery PIN is 0427: "
                    "tell it to the courier.")


def test_status_with_and_without_eta() -> None:
    assert render("status", "ja", number=3, state="in_transit") == "注文#3は配達中です。"
    assert render("status", "en", number=3, state="in_transit", start="14:00", end="15:00") == (
        "Order #3: on its way. Expected 14:00-15:00."
    )


def test_delivery_failed_with_and_without_a_new_date() -> None:
    assert render("delivery_failed", "ja", number=4, date=dt.date(2025, 6, 4)) == (
        "注文#4をお届けできませんでした。6月4日に再配達します。"
    )
    assert render("delivery_failed", "en", number=4).endswith("The hub will contact you.")


def test_unknown_language_falls_back_to_japanese() -> None:
    assert render("help", "fr") == render("help", "ja")
    assert render("help", "EN-us") == render("help", "en")


def test_unknown_key_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="no_such_reply"):
        render("no_such_reply", "ja")


def test_missing_parameter_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="'pin'"):
        render("order_planned", "ja", number=1, start="09:00", end="10:00")


def test_every_order_state_has_words_in_both_languages() -> None:
    for state in OrderState:
        assert state_words(state.value, "ja") != state.value
        assert state_words(state.value, "en").isascii()


def test_unparseable_reply_carries_exactly_one_example() -> None:
    assert render("unparseable", "ja").count("例:") == 1
    assert render("unparseable", "en").count("Example:") == 1


# --------------------------------------------------------------------------- item summaries


def test_summary_lists_what_fits_and_counts_the_rest() -> None:
    items = [Item("米", 2), Item("牛乳", 1, "本"), Item("たまご", 1, "パック"), Item("豆腐", 2, "丁")]
    assert summarize_items(items, 100) == "米×2、牛乳×1本、たまご×1パック、豆腐×2丁"
    assert summarize_items(items, 14) == "米×2、牛乳×1本 他2点"
    assert summarize_items([Item("rice", 2), Item("milk", 1)], 12, "en") == "r... +1 more"
    assert summarize_items([Item("rice", 2), Item("milk", 1)], 15, "en") == "rice x2 +1 more"


def test_summary_cuts_a_single_overlong_name() -> None:
    assert summarize_items([Item("とても長い名前の商品です", 1)], 8) == "とても長い名前…"


_ITEMS = st.lists(
    st.builds(
        Item,
        st.text(min_size=1, max_size=40),
        st.integers(1, 20),
        st.none() | st.sampled_from(["本", "bags"]),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(_ITEMS, st.integers(0, 120), st.sampled_from(["ja", "en"]))
def test_summary_never_exceeds_its_limit(items: list[Item], max_chars: int, language: str) -> None:
    summary = summarize_items(items, max_chars, language)
    assert len(summary) <= max_chars
    if items and max_chars >= 20:
        assert summary


# --------------------------------------------------------------------------- segments


@pytest.mark.parametrize(
    ("text", "enc", "count"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("{" * 80, "GSM-7", 1),  # extension characters cost two septets
        ("{" * 81, "GSM-7", 2),
        ("a" * 152 + "€" + "a" * 10, "GSM-7", 2),  # the escape pair is never split
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3),
        ("あ" * 70, "UCS-2", 1),
        ("あ" * 71, "UCS-2", 2),
        ("あ" * 134, "UCS-2", 2),
        ("あ" * 135, "UCS-2", 3),
        ("a" * 159 + "é", "GSM-7", 1),
        ("a" * 159 + "ç", "UCS-2", 3),  # lower-case c-cedilla is not in GSM 03.38
        ("🍚" * 35, "UCS-2", 1),  # outside the BMP: two UTF-16 units each
        ("🍚" * 36, "UCS-2", 2),
        ("a" * 66 + "🍚" + "a" * 67, "UCS-2", 3),  # a surrogate pair is never split
    ],
)
def test_segment_counts(text: str, enc: str, count: int) -> None:
    assert encoding(text) == enc
    assert segment_count(text) == count


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=600))
def test_segment_count_is_consistent_with_the_encoding(text: str) -> None:
    count = segment_count(text)
    units = length_units(text)
    single, part = (160, 153) if encoding(text) == "GSM-7" else (70, 67)
    assert count >= 1
    if units <= single:
        assert count == 1
    else:
        # greedy packing: at least ceil(units / part), at most one unit lost per part
        assert -(-units // part) <= count <= -(-units // (part - 1))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc XYZ019{}[]€^~|\\\n")), min_size=1, max_size=500))
def test_gsm_text_never_costs_more_than_the_same_length_in_ucs2(text: str) -> None:
    assert encoding(text) == "GSM-7"
    assert segment_count(text) <= segment_count(text + "あ")


@pytest.mark.parametrize(("days", "ja", "en"), [(0, "今日", "today"), (1, "明日", "tomorrow"),
                                               (3, "12月8日", "on Dec 08")])
def test_every_text_that_names_a_time_names_the_day(days: int, ja: str, en: str) -> None:
    """Issue 13: 今日 / 明日 / 12月5日, relative to the day the text is sent."""
    today = dt.date(2026, 12, 5)
    when = {"date": today + dt.timedelta(days=days), "start": dt.time(9), "end": dt.time(10), "today": today}
    assert f"は{ja}09:00〜10:00に" in render("order_planned", "ja", number=7, pin="0427", **when)
    assert f"arrives {en} 09:00-10:00" in render("order_planned", "en", number=7, pin="0427", **when)
    assert f"到着予定{ja}09:00〜10:00" in render("out_for_delivery", "ja", number=7, **when)
    assert f"Expected {en} 09:00-10:00" in render("status", "en", number=7, state="planned", **when)
    assert f"{ja}お届け予定です" in render("order_received", "ja", number=7, items="米×2", **when)
    assert f"{ja}のお届けになります" in render("carried_over", "ja", number=7, **when)
