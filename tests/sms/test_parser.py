"""The SMS parser: the message corpus parses exactly as expected, and properties that must hold
for any text at all (never raises, bounded output, normalisation-invariant)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms import parser
from sms.normalize import MAX_CHARS, normalize
from sms.parser import (
    MAX_ITEMS,
    MAX_QUANTITY,
    Cancel,
    Item,
    Order,
    Proxy,
    TimeWish,
    Unparseable,
    guess_language,
    parse,
)
from tests.sms.messages import CASES

# Text drawn mostly from the alphabets residents use, so the properties meet keywords, digits,
# counters and separators often instead of only random code points.
_PIECES = st.sampled_from(
    [
        "注文", "ORDER", "order", "代理", "FOR", "R12", "取消", "CANCEL", "状況", "停止", "STOP",
        "開始", "ヘルプ", "?", "米", "牛乳", "rice", "milk", "2", "２", "25", "0", "本", "パック",
        "ふたつ", "二", "十", "x", "×", "*", "、", ",", "・", "/", ";", "\n", " ", "\u3000", "明日",
        "の", "午前", "午後", "tomorrow", "morning", "14時", "#", "を", "お願いします", "please",
        "\x00", "\u202e", "\ufe0f", "🍚", "<", ">", "kg", "bottles", "of", "and",
    ]
)  # fmt: skip
_MESSAGES = st.one_of(
    st.text(max_size=200),
    st.lists(_PIECES, max_size=30).map("".join),
    st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=20).map(" ".join),
)


def test_corpus_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_message_parses_to_expected_command(case) -> None:  # type: ignore[no-untyped-def]
    assert parse(case.text) == case.expected


def test_corpus_covers_every_command_kind() -> None:
    kinds = {type(case.expected).__name__ for case in CASES}
    assert kinds == {"Order", "Status", "Cancel", "Help", "Stop", "Start", "Proxy", "Unparseable"}


def test_text_longer_than_the_limit_is_refused_not_half_ordered() -> None:
    text = "注文 " + "米 2、" * (MAX_CHARS // 4)
    assert len(normalize(text)) == MAX_CHARS
    assert parse(text) == Unparseable("too_long", "ja")


def test_exactly_the_item_limit_is_accepted() -> None:
    text = "ORDER " + ", ".join(f"item{chr(97 + i)} {MAX_QUANTITY}" for i in range(MAX_ITEMS))
    result = parse(text)
    assert isinstance(result, Order)
    assert len(result.items) == MAX_ITEMS
    assert result.items[-1] == Item(f"item{chr(97 + MAX_ITEMS - 1)}", MAX_QUANTITY)


def test_unparseable_code_is_the_stable_part_of_the_reason() -> None:
    result = parse("ORDR rice 2")
    assert isinstance(result, Unparseable)
    assert result.code == "typo"


@pytest.mark.parametrize(
    ("text", "language"),
    [("米 2", "ja"), ("rice 2", "en"), ("ﾊﾟﾝ", "ja"), ("12345", "ja"), ("", "ja"), ("漢字 and", "ja")],
)
def test_language_is_guessed_from_the_script(text: str, language: str) -> None:
    assert guess_language(normalize(text)) == language


def _check_command(command: object, *, top: bool) -> None:
    if isinstance(command, Order):
        assert 1 <= len(command.items) <= MAX_ITEMS
        for item in command.items:
            assert item.name and item.name == item.name.strip()
            assert 1 <= item.quantity <= MAX_QUANTITY
        if command.time_wish is not None:
            assert isinstance(command.time_wish, TimeWish)
            assert command.time_wish.part in parser.PARTS
            assert 0 <= command.time_wish.day_offset <= 2
    elif isinstance(command, Cancel):
        assert command.number is None or command.number >= 1
    elif isinstance(command, Proxy):
        assert top, "a proxy never wraps a proxy"
        assert any(ch.isdigit() for ch in command.resident_code)
        assert not isinstance(command.command, Unparseable)
        _check_command(command.command, top=False)
    elif isinstance(command, Unparseable):
        assert top
        assert command.language_hint in {"ja", "en"}
        assert command.reason and command.code != "internal_error"


@settings(max_examples=400, deadline=None)
@given(_MESSAGES)
def test_parse_never_raises_and_returns_a_well_formed_command(text: str) -> None:
    _check_command(parse(text), top=True)


@settings(max_examples=300, deadline=None)
@given(_MESSAGES)
def test_parsing_is_invariant_under_normalisation(text: str) -> None:
    assert parse(normalize(text)) == parse(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2 * MAX_CHARS))
def test_parse_survives_any_unicode_up_to_twice_the_limit(text: str) -> None:
    _check_command(parse(text), top=True)


_NAMES = ["米", "牛乳", "食パン", "豆腐", "納豆", "りんご", "みかん", "トマト", "キャベツ", "醤油",
          "rice", "milk", "bread", "eggs", "tofu", "cabbage", "green tea", "dog food"]
_FULL = str.maketrans("0123456789 ", "０１２３４５６７８９\u3000")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES), st.integers(1, MAX_QUANTITY)), min_size=1,
                max_size=MAX_ITEMS),
       st.sampled_from(["注文 ", "ORDER ", "order ", "注文\n", "ご注文　"]),
       st.sampled_from(["、", ", ", "\n", "・", "\r\n", "，"]),
       st.booleans())
def test_any_well_formed_order_round_trips(items: list[tuple[str, int]], keyword: str, separator: str,
                                           full_width: bool) -> None:
    """Whatever a resident lists, in whichever spelling of the keyword, separator and digits, comes
    back as exactly those items and quantities."""
    text = keyword + separator.join(f"{name} {quantity}" for name, quantity in items)
    if full_width:
        text = text.translate(_FULL)
    assert parse(text) == Order(tuple(Item(name, quantity) for name, quantity in items))


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_NAMES), st.integers(MAX_QUANTITY + 1, 99))
def test_a_quantity_above_the_limit_is_asked_about_not_clamped(name: str, quantity: int) -> None:
    result = parse(f"注文 {name} {quantity}")
    assert isinstance(result, Unparseable) and result.code == "quantity_out_of_range"
    assert str(quantity) in result.reason
