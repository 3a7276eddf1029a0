"""Normalisation of inbound SMS text: one plain form for the parser, idempotent, never raises."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms.normalize import ITEM_SEPARATOR, MAX_CHARS, RAW_LIMIT, normalize, normalize_with_flag


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("注文　米５ｋｇ　１", "注文 米5kg 1"),
        ("ＯＲＤＥＲ　ｒｉｃｅ　２", "ORDER rice 2"),
        ("米、牛乳，卵,パン・みそ／酒;塩；砂糖。", "米,牛乳,卵,パン,みそ,酒,塩,砂糖"),
        ("注文\r\n米 2\r牛乳 1\n\n\n卵\u2028豆腐", "注文,米 2,牛乳 1,卵,豆腐"),
        ("  米   2 \t ,  , 、 牛乳  ", "米 2,牛乳"),
        ("注\x00文\x07 米", "注文 米"),
        ("\u202eORDER\u202c rice\u200b 2\ufeff", "ORDER rice 2"),
        ("rice🍚2", "rice 2"),
        ("卵 1\ufe0f\u20e3パック", "卵 1パック"),
        ("👍🏽", ""),
        ("ﾊﾟﾝ ｶﾞﾑ", "パン ガム"),
        ("米5㎏", "米5kg"),
        ("\U000f0000私用", "私用"),
        ("", ""),
    ],
)
def test_examples(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_long_text_is_cut_to_the_limit_and_flagged() -> None:
    text, cut = normalize_with_flag("あ" * (MAX_CHARS + 1))
    assert (len(text), cut) == (MAX_CHARS, True)
    assert normalize_with_flag("あ" * MAX_CHARS) == ("あ" * MAX_CHARS, False)


def test_huge_input_is_bounded() -> None:
    assert len(normalize("x" * (RAW_LIMIT * 10))) == MAX_CHARS


def test_a_cut_never_leaves_a_trailing_separator() -> None:
    text = "あ" * (MAX_CHARS - 1) + "、" + "い" * 10
    assert normalize(text) == "あ" * (MAX_CHARS - 1)


def test_non_string_input_does_not_raise() -> None:
    assert normalize(None) == ""  # type: ignore[arg-type]
    assert normalize(12) == "12"  # type: ignore[arg-type]


_INTERESTING = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            list("、，,・/;；。 \u3000\t\r\n\x00\u202e\u200b\ufeff\ufe0f\u20e3１２ｘ×米🍚ﾊﾟ\u3099\u0301가")
        ),
    ),
    max_size=300,
)


@settings(max_examples=600, deadline=None)
@given(_INTERESTING)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=300, deadline=None)
@given(_INTERESTING)
def test_output_is_plain(text: str) -> None:
    out = normalize(text)
    assert len(out) <= MAX_CHARS
    assert out == out.strip(" " + ITEM_SEPARATOR)
    assert "  " not in out and ITEM_SEPARATOR * 2 not in out
    assert unicodedata.normalize("NFKC", out) == out
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "So"} for c in out)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=MAX_CHARS - 20, max_size=MAX_CHARS + 400))
def test_idempotent_around_the_length_limit(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
