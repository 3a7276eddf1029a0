"""Realistic inbound SMS with the exact command each must parse to.

Written the way residents, family members and welfare volunteers actually type on feature phones
and smartphones: full-width digits from a Japanese IME, line-broken lists, politeness formulas,
emoji, typos; plus hostile or broken input (NUL, RTL override, HTML, 1,600+ characters). Each
case pins one decision documented in :mod:`sms.parser`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sms.parser import (
    Cancel,
    Command,
    Help,
    Item,
    Order,
    Proxy,
    Start,
    Status,
    Stop,
    TimeWish,
    Unparseable,
)


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    expected: Command


def _order(*items: tuple[str, int] | tuple[str, int, str], wish: TimeWish | None = None) -> Order:
    return Order(tuple(Item(*item) for item in items), wish)


_LONG_LIST = "注文 " + "、".join(f"品物{i} 1" for i in range(21))
_LONG_TEXT = "注文 米 2、" + "とても長いお便りです。" * 160  # 1,760+ characters

CASES: tuple[Case, ...] = (
    # --- orders, Japanese
    Case("ja_issue_example", "注文 米5kg 1、牛乳 2本", _order(("米5kg", 1), ("牛乳", 2, "本"))),
    Case("ja_minimal", "注文 米 2", _order(("米", 2))),
    Case("ja_fullwidth", "注文　米５ｋｇ　１", _order(("米5kg", 1))),
    Case("ja_fullwidth_comma", "注文　牛乳２本，食パン１斤", _order(("牛乳", 2, "本"), ("食パン", 1, "斤"))),
    Case(
        "ja_line_broken_list",
        "注文\n米 2\n牛乳 1本\nたまご 1パック\n以上です。よろしくお願いします",
        _order(("米", 2), ("牛乳", 1, "本"), ("たまご", 1, "パック")),
    ),
    Case(
        "ja_crlf_list",
        "注文\r\n豆腐二丁\r\n納豆 3パック\r\n",
        _order(("豆腐", 2, "丁"), ("納豆", 3, "パック")),
    ),
    Case(
        "ja_kana_kanji_numerals",
        "注文 りんごふたつ、パン 一つ、大根 一本、みかん みっつ",
        _order(("りんご", 2), ("パン", 1), ("大根", 1, "本"), ("みかん", 3)),
    ),
    Case(
        "ja_counters_glued",
        "注文 卵1パック・トマト3個・味噌1袋",
        _order(("卵", 1, "パック"), ("トマト", 3, "個"), ("味噌", 1, "袋")),
    ),
    Case("ja_no_quantity_is_one", "注文 お米、牛乳、卵", _order(("お米", 1), ("牛乳", 1), ("卵", 1))),
    Case("ja_glued_keyword", "注文米2つください", _order(("米", 2))),
    Case("ja_particle_and_politeness", "注文です。牛乳を2本お願いします", _order(("牛乳", 2, "本"))),
    Case("ja_tomorrow_morning", "注文 米 2、明日の午前", _order(("米", 2), wish=TimeWish(1, "morning"))),
    Case(
        "ja_afternoon_polite",
        "注文 米 2 午後でお願いします",
        _order(("米", 2), wish=TimeWish(0, "afternoon")),
    ),
    Case("ja_tomorrow_only_kana", "注文 パン1 あした", _order(("パン", 1), wish=TimeWish(1, "any"))),
    Case(
        "ja_evening_today", "注文 今日の夕方 豆腐1丁", _order(("豆腐", 1, "丁"), wish=TimeWish(0, "evening"))
    ),
    Case("ja_hour", "注文 米2 14時頃", _order(("米", 2), wish=TimeWish(0, "afternoon"))),
    Case("ja_multiword_name", "注文 食パン 6枚切り 1", _order(("食パン 6枚切り", 1))),
    Case(
        "ja_size_not_quantity", "注文 コーラ500、お茶 2L 2本", _order(("コーラ500", 1), ("お茶 2L", 2, "本"))
    ),
    Case("ja_greeting_first", "こんにちは。注文です。米2", _order(("米", 2))),
    Case("ja_halfwidth_katakana", "注文 ﾊﾟﾝ 2ｺ", _order(("パン", 2, "コ"))),
    Case("ja_emoji", "注文 🍚米 2 🥛牛乳 1 よろしくね😊", _order(("米", 2), ("牛乳", 1), ("よろしくね", 1))),
    Case("ja_keycap_emoji_digits", "注文 卵 1️⃣パック", _order(("卵", 1, "パック"))),
    Case("ja_without_keyword_clear_list", "米 2、牛乳 1本", _order(("米", 2), ("牛乳", 1, "本"))),
    Case(
        "ja_day_after_tomorrow_wish_phrase",
        "注文 米 2 明後日の夕方に配達希望",
        _order(("米", 2), wish=TimeWish(2, "evening")),
    ),
    Case("ja_keyword_at_the_end", "米2つ注文します", _order(("米", 2))),
    Case("ja_wild_ashitaba_is_not_tomorrow", "注文 明日葉 1", _order(("明日葉", 1))),
    # --- orders, English and mixed
    Case("en_issue_example", "ORDER rice 2, milk 1", _order(("rice", 2), ("milk", 1))),
    Case("en_lowercase_spaces", "order rice 2 milk 1", _order(("rice", 2), ("milk", 1))),
    Case(
        "en_prefix_quantities_counter",
        "Order 2 bottles of milk, bread x2 tomorrow morning",
        _order(("milk", 2, "bottles"), ("bread", 2), wish=TimeWish(1, "morning")),
    ),
    Case(
        "en_and_times_star",
        "ORDER eggs*2 and tofu 1 this afternoon please",
        _order(("eggs", 2), ("tofu", 1), wish=TimeWish(0, "afternoon")),
    ),
    Case("en_tonight", "order rice 2 tonight", _order(("rice", 2), wish=TimeWish(0, "evening"))),
    Case("en_number_words", "ORDER apples three, bananas two", _order(("apples", 3), ("bananas", 2))),
    Case("en_sentence_without_keyword", "I want to order rice 2", _order(("rice", 2))),
    Case("mixed_keyword_en_items_ja", "ORDER 米 2、牛乳 1", _order(("米", 2), ("牛乳", 1))),
    Case(
        "mixed_keyword_ja_items_en",
        "注文 milk 2, bread 1 tomorrow",
        _order(("milk", 2), ("bread", 1), wish=TimeWish(1, "any")),
    ),
    # --- other commands
    Case("status_ja", "状況", Status()),
    Case("status_en_question", "Status?", Status()),
    Case("status_order_status", "order status", Status()),
    Case("cancel_ja_number", "取消 12", Cancel(12)),
    Case("cancel_en_hash", "CANCEL #12", Cancel(12)),
    Case("cancel_ja_polite", "キャンセルしてください", Cancel(None)),
    Case("cancel_ja_order_prefix", "注文取消 5番", Cancel(5)),
    Case("cancel_en_my_order", "cancel my order please", Cancel(None)),
    Case("cancel_fullwidth_number", "取り消し　＃１２", Cancel(12)),
    Case("cancel_unclear", "取消 米", Unparseable("cancel_unclear: 米", "ja")),
    Case("cancel_zero", "CANCEL 0", Unparseable("cancel_unclear: 0", "en")),
    Case("help_ja", "ヘルプ", Help()),
    Case("help_en", "help", Help()),
    Case("help_question_mark_fullwidth", "？", Help()),
    Case("stop_en", "STOP", Stop()),
    Case("stop_all", "stopall", Stop()),
    Case("stop_unsubscribe", "Unsubscribe", Stop()),
    Case("stop_ja_polite", "配信停止してください", Stop()),
    Case("stop_end_whole_message", "END", Stop()),
    Case("start_ja", "開始", Start()),
    Case("start_unstop", "UNSTOP", Start()),
    # --- proxies
    Case("proxy_ja", "代理 R12 注文 米 2", Proxy("R12", _order(("米", 2)))),
    Case("proxy_glued_fullwidth", "代理Ｒ１２　注文　牛乳２本", Proxy("R12", _order(("牛乳", 2, "本")))),
    Case("proxy_en", "FOR K-0042 ORDER milk 1, bread 1", Proxy("K-0042", _order(("milk", 1), ("bread", 1)))),
    Case("proxy_status", "for k-0042 status", Proxy("k-0042", Status())),
    Case("proxy_cancel", "代理 R12 取消 7", Proxy("R12", Cancel(7))),
    Case("proxy_no_code", "FOR tomorrow rice 2", Unparseable("proxy_without_code", "en")),
    Case("proxy_no_command", "代理 R12", Unparseable("proxy_without_command: R12", "ja")),
    Case("proxy_nested", "代理 R12 代理 R13 注文 米 2", Unparseable("proxy_nested", "ja")),
    # --- unparseable
    Case("typo_ordr", "ORDR rice 2", Unparseable("typo: 'ORDR' looks like ORDER", "en")),
    Case("typo_cancle", "CANCLE 12", Unparseable("typo: 'CANCLE' looks like CANCEL", "en")),
    Case("empty", "", Unparseable("empty", "ja")),
    Case("whitespace_only", " \u3000\t\n ", Unparseable("empty", "ja")),
    Case("only_numbers", "12345", Unparseable("quantity_without_item: 12345", "ja")),
    Case("only_emoji", "👍🙏", Unparseable("empty", "ja")),
    Case("thanks", "ありがとうございました", Unparseable("courtesy", "ja")),
    Case(
        "list_without_quantities", "米、牛乳", Unparseable("no_command: not every item has a quantity", "ja")
    ),
    Case("chat", "明日は雨ですね", Unparseable("no_command: not every item has a quantity", "ja")),
    Case("order_without_items", "注文", Unparseable("no_items", "ja")),
    Case("order_only_time", "注文 明日の午後", Unparseable("no_items", "ja")),
    Case(
        "quantity_too_large",
        "注文 牛乳 25本",
        Unparseable("quantity_out_of_range: 25 for '牛乳' (1-20)", "ja"),
    ),
    Case("quantity_zero", "ORDER milk 0", Unparseable("quantity_out_of_range: 0 for 'milk' (1-20)", "en")),
    Case("too_many_items", _LONG_LIST, Unparseable("too_many_items: 21 (at most 20)", "ja")),
    Case("too_long", _LONG_TEXT, Unparseable("too_long", "ja")),
    Case("script_tag", "<script>alert(1)</script>", Unparseable("markup", "en")),
    Case("script_in_order", "注文 <img src=x onerror=alert(1)> 1", Unparseable("markup", "ja")),
    Case("sql_like", "ORDER rice'; DROP TABLE orders;-- 1", Unparseable("quantity_without_item: 1", "en")),
    # --- invisible and hostile characters
    Case("nul_inside_keyword", "注\x00文 米 2", _order(("米", 2))),
    Case("rtl_override", "\u202eORDER rice 2\u202c", _order(("rice", 2))),
    Case("zero_width_and_bom", "\ufeff注文\u200b 米\u200d 2", _order(("米", 2))),
)
