"""Every text Hakobu sends by SMS, in Japanese and English, each within a segment budget.

Replies go to elderly residents on feature phones: short, polite (です/ます), plain, no emoji.
Each template declares how many segments it may cost (:attr:`Template.budget`, 1 to 3); a test
renders every template in both languages with worst-case parameters (five-digit order numbers,
twenty long item names, the longest time wish) and fails when one exceeds its budget. A Japanese
reply fits one UCS-2 segment (70 characters) wherever possible; English ones one GSM-7 segment
(160) and use only GSM characters (``-`` not ``–``, ``...`` not ``…``) so they stay GSM-7.

Parameters are formatted here, not by callers, so no caller can break the budget: item lists go
through :func:`summarize_items` with a per-template limit, resident codes are cut to 16
characters, times become ``HH:MM``, dates ``12月31日`` / ``Dec 31``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sms.parser import TimeWish

LANGUAGES: Final = ("ja", "en")
DEFAULT_LANGUAGE: Final = "ja"
#: Longest resident code echoed back (the database allows 64; real codes are a few characters).
MAX_CODE_CHARS: Final = 16
#: Longest person's name written into a text (a proxy's or resident's; the database allows 200).
MAX_NAME_CHARS: Final = 12
#: A bus stop's name in a text (GTFS names are short: 停留所名).
MAX_STOP_CHARS: Final = 12


class ItemLike(Protocol):
    """Anything with the shape of :class:`sms.parser.Item` (also an order-item row)."""

    @property
    def name(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit(self) -> str | None: ...


@dataclass(frozen=True)
class Template:
    """One reply: its two texts (``str.format`` fields), its segment budget, and how many
    characters an item summary may take in each language."""

    ja: str
    en: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    budget: int = 1
    items_chars: Mapping[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------- item summaries


def _format_item(item: ItemLike, language: str) -> str:
    unit = item.unit or ""
    if language == "ja":
        return f"{item.name}×{item.quantity}{unit if not unit.isascii() else ''}"
    return f"{item.name} x{item.quantity}{' ' + unit if unit else ''}"


def summarize_items(items: Sequence[ItemLike], max_chars: int, language: str = "ja") -> str:
    """A one-line list of ``items`` of at most ``max_chars`` characters.

    As many items as fit are listed in order, the rest counted (``米×2、牛乳×1本 他3点`` /
    ``rice x2, milk x1 +3 more``); a first item too long on its own is cut with an ellipsis. The
    result never exceeds ``max_chars`` (property-tested), so a template's budget holds whatever
    the resident ordered.
    """
    ja = language == "ja"
    sep, ellipsis = ("、", "…") if ja else (", ", "...")
    parts = [_format_item(item, "ja" if ja else "en") for item in items]

    def more(n: int) -> str:
        return (f" 他{n}点" if ja else f" +{n} more") if n else ""

    text = ""
    for i, part in enumerate(parts):
        candidate = part if not text else text + sep + part
        if len(candidate) + len(more(len(parts) - i - 1)) > max_chars:
            if not text:  # not even the first item fits: cut it
                room = max_chars - len(more(len(parts) - 1)) - len(ellipsis)
                text = part[: max(room, 0)] + ellipsis
                return (text + more(len(parts) - 1))[:max_chars] if room > 0 else text[:max_chars]
            return (text + more(len(parts) - i))[:max_chars]
        text = candidate
    return text


# --------------------------------------------------------------------------- parameters

_STATE_WORDS: Final = {
    "received": ("受付済み", "received"),
    "confirmed": ("確認済み", "confirmed"),
    "batched": ("準備中", "being prepared"),
    "planned": ("配達予定が決まりました", "scheduled"),
    "dispatched": ("まもなく出発します", "leaving the hub"),
    "in_transit": ("配達中", "on its way"),
    "delivered": ("お届け済み", "delivered"),
    "cancelled": ("取消済み", "cancelled"),
    "failed": ("お届けできませんでした", "not delivered"),
    "returned": ("再配達待ち", "waiting for a new delivery"),
    "parked": ("拠点で確認中", "held at the hub for a call"),
}
_PART_WORDS: Final = {
    "morning": ("午前", "morning"),
    "afternoon": ("午後", "afternoon"),
    "evening": ("夕方", "evening"),
    "any": ("", ""),
}
_DAY_WORDS: Final = {0: ("本日", "today"), 1: ("明日", "tomorrow"), 2: ("明後日", "day after tomorrow")}


def state_words(state: str, language: str) -> str:
    """An order state (``dispatch.lifecycle.OrderState`` value) in words; unknown → as given."""
    words = _STATE_WORDS.get(str(state))
    return words[language == "en"] if words else str(state)


def describe_time_wish(wish: TimeWish | None, language: str) -> str:
    """``明日午前`` / ``tomorrow morning``; empty for no wish."""
    if wish is None:
        return ""
    en = language == "en"
    day = _DAY_WORDS.get(wish.day_offset)
    day_text = day[en] if day else (f"{wish.day_offset}日後" if not en else f"in {wish.day_offset} days")
    if wish.day_offset == 0 and wish.part != "any":
        day_text = "" if not en else "this"
    part = _PART_WORDS.get(wish.part, ("", ""))[en]
    return (" " if en else "").join(p for p in (day_text, part) if p)


def _hhmm(value: dt.time | dt.datetime | str) -> str:
    return value.strftime("%H:%M") if isinstance(value, dt.time | dt.datetime) else str(value)[:5]


def _date(value: dt.date, language: str, today: dt.date | None = None) -> str:
    """The day as the resident reads it: 今日 / 明日 / 12月5日 (today / tomorrow / on Dec 05),
    relative to ``today`` (the day the text is sent, in the region's timezone)."""
    en = language == "en"
    if today is not None and value == today:
        return "today" if en else "今日"
    if today is not None and value == today + dt.timedelta(days=1):
        return "tomorrow" if en else "明日"
    return value.strftime("on %b %d") if en else f"{value.month}月{value.day}日"


def _fields(tpl: Template, language: str, params: dict[str, Any],
            today: dt.date | None = None) -> dict[str, str]:
    """Turn raw parameters into the strings the template expects."""
    en = language == "en"
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if name == "items":
            limit = tpl.items_chars[language]
            out[name] = value[:limit] if isinstance(value, str) else summarize_items(value, limit, language)
        elif name == "time_wish":
            text = describe_time_wish(value, language)
            out["wish"] = (f", delivery {text}" if en else f"、希望: {text}") if text else ""
        elif name in {"start", "end", "time"}:
            out[name] = _hhmm(value)
        elif name == "date":
            out[name] = _date(value, language, today)
        elif name == "state":
            out[name] = state_words(value, language)
        elif name == "resident":
            out[name] = str(value)[:MAX_CODE_CHARS]
        elif name == "name":
            out[name] = str(value)[:MAX_NAME_CHARS]
        elif name == "stop":  # a bus stop's name from the timetable
            out[name] = str(value)[:MAX_STOP_CHARS]
        elif name == "weekday":
            out[name] = _WEEKDAYS[int(value) % 7][1 if en else 0]
        elif name == "every":
            weeks = int(value)
            out[name] = (("every week" if weeks == 1 else f"every {weeks} weeks") if en
                         else ("毎週" if weeks == 1 else f"{weeks}週ごとの"))
        else:
            out[name] = str(value)
    return out


# --------------------------------------------------------------------------- templates

_WEEKDAYS: Final = (("月曜", "Monday"), ("火曜", "Tuesday"), ("水曜", "Wednesday"), ("木曜", "Thursday"),
                    ("金曜", "Friday"), ("土曜", "Saturday"), ("日曜", "Sunday"))

_ITEMS = {"ja": 34, "en": 48}

TEMPLATES: Final[Mapping[str, Template]] = {
    "order_received": Template(
        "ご注文#{number}を受け付けました: {items}{wish}。{due}",
        "Order #{number} received: {items}{wish}.{due}",
        items_chars=_ITEMS,
        required=("number", "items"),
        optional=("time_wish", "date"),
    ),
    "order_planned": Template(
        "注文#{number}は{when}{start}〜{end}にお届けします。受取の暗証番号は{pin}です。",
        "Order #{number} arrives {when} {start}-{end}. Your delivery PIN is {pin}: tell it to the courier.",
        required=("number", "start", "end", "pin"),
        optional=("date",),
    ),
    "order_by_bus": Template(
        "注文#{number}は{when}{start}着のバスで「{stop}」に届きます。運転士に暗証番号{pin}を伝えてください。",
        # the stop's name is Japanese (GTFS-JP): the English text, kept to GSM-7, says "the stop near you"
        "Order #{number} comes by bus {when} at {start} to the stop near you. "
        "Tell the driver your PIN {pin}.",
        required=("number", "start", "stop", "pin"),
        optional=("date",),
    ),
    "out_for_delivery": Template(
        "注文#{number}を配達に出しました。{eta}",
        "Order #{number} is on its way.{eta}",
        required=("number",),
        optional=("start", "end", "date"),
    ),
    "delivered": Template(
        "注文#{number}を{time}にお届けしました。ご利用ありがとうございました。",
        "Order #{number} was delivered at {time}. Thank you for using Hakobu.",
        required=("number", "time"),
    ),
    "delivery_failed": Template(
        "注文#{number}をお届けできませんでした。{retry}",
        "We could not deliver order #{number}. {retry}",
        required=("number",),
        optional=("date",),
    ),
    "cancelled": Template(
        "注文#{number}を取り消しました。", "Order #{number} has been cancelled.", required=("number",)
    ),
    "cancel_not_possible": Template(
        "注文#{number}は配達に出ているため取り消せません。ハブにお電話ください。",
        "Order #{number} is already out for delivery and cannot be cancelled. Please call the hub.",
        required=("number",),
    ),
    "nothing_to_cancel": Template(
        "取り消せるご注文はありません。", "You have no order that can still be cancelled."
    ),
    "status": Template(
        "注文#{number}は{state}です。{eta}",
        "Order #{number}: {state}.{eta}",
        required=("number", "state"),
        optional=("start", "end", "date"),
    ),
    "status_none": Template("現在お届け予定のご注文はありません。", "You have no open orders at the moment."),
    "help": Template(
        "使い方: 注文 米2、牛乳1 (明日午前など) / 状況 / 取消 12 / 停止 / 開始",
        "Text: ORDER rice 2, milk 1 (add e.g. tomorrow morning) / STATUS / CANCEL 12 / "
        "STOP / START. Questions: call the hub.",
    ),
    "stopped": Template(
        "配信を停止しました。再開するには「開始」と送ってください。",
        "You will get no more messages from Hakobu. Text START to receive them again.",
    ),
    "started": Template(
        "配信を再開しました。停止するには「停止」と送ってください。",
        "Messages from Hakobu are on again. Text STOP to stop them, HELP for help.",
    ),
    "unknown_number": Template(
        "この番号は未登録です。ハブから折り返しお電話し、登録をご案内します。",
        "This number is not registered with Hakobu. The hub will call you back to help you register.",
    ),
    "unparseable": Template(
        "すみません、読み取れませんでした。例: 注文 米2、牛乳1 (使い方は「ヘルプ」)",
        "Sorry, we did not understand. Example: ORDER rice 2, milk 1 (text HELP for more).",
    ),
    "proxy_not_allowed": Template(
        "この番号から{resident}さんの代理注文はできません。ハブにご相談ください。",
        "This number may not order for {resident}. Please contact the hub.",
        required=("resident",),
    ),
    "proxy_unknown_resident": Template(
        "利用者番号{resident}が見つかりません。番号をご確認ください。",
        "No resident has the code {resident}. Please check the code.",
        required=("resident",),
    ),
    "proxy_added": Template(
        "{name}さんが代理で注文できるよう登録しました。心当たりがなければハブにご連絡ください。",
        "The number ending {tail} may now order for you. If you did not agree, call the hub.",
        required=("name", "tail"),
    ),
    "proxy_registered": Template(
        "{name}さんの代理に登録しました。注文例: 代理 {resident} 注文 米2",
        "You may now order for resident {resident}: text e.g. FOR {resident} ORDER rice 2",
        required=("name", "resident"),
    ),
    "proxy_removed": Template(
        "{name}さんの代理注文の登録を取り消しました。",
        "The number ending {tail} may no longer order for you.",
        required=("name", "tail"),
    ),
    "proxy_revoked": Template(
        "{name}さんの代理注文の登録が取り消されました。",
        "You may no longer order for resident {resident}.",
        required=("name", "resident"),
    ),
    "standing_reminder": Template(
        "{date} {items} をお届けします(注文#{number})。不要なら 取消 と返信してください。",
        "We deliver {items} {date} (order #{number}). Not needed? Reply CANCEL.",
        items_chars=_ITEMS,
        required=("number", "items", "date"),
    ),
    "standing_closed": Template(
        "{date}はハブが休みのため、定期便 {items} はお届けしません。",
        "Hub closed {date}: no regular {items} that day.",
        items_chars=_ITEMS,
        required=("items", "date"),
    ),
    "standing_set": Template(
        "定期便を登録しました: {every}{weekday} {items}。初回は{date}です。",
        "Regular order: {items}, {every} on {weekday}, first {date}.",
        items_chars=_ITEMS,
        required=("items", "weekday", "every", "date"),
    ),
    "standing_paused": Template(
        "定期便({count}件)を休止しました。再開は「定期 再開」と送ってください。",
        "Your regular order(s) ({count}) are paused. Text REGULAR RESUME to resume.",
        required=("count",),
    ),
    "standing_active": Template(
        "定期便({count}件)を再開しました。", "Your regular order(s) ({count}) are on again.",
        required=("count",),
    ),
    "standing_stopped": Template(
        "定期便({count}件)を終了しました。", "Your regular order(s) ({count}) are stopped.",
        required=("count",),
    ),
    "standing_none": Template(
        "定期便の登録はありません。例: 定期 米2 毎週火曜",
        "You have no regular order. Example: REGULAR rice 2 every Tuesday",
    ),
    "standing_help": Template(
        "定期便の例: 定期 米2 毎週火曜 / 定期 休み / 定期 再開 / 定期 終了 と送ってください。",
        "Regular orders: REGULAR rice 2 every Tuesday / REGULAR PAUSE / RESUME / STOP",
    ),
    "standing_status": Template(
        "定期便: {every}{weekday} {items}。次回は{date}です。",
        "Regular order: {items}, {every} on {weekday}, next {date}.",
        items_chars=_ITEMS,
        required=("items", "weekday", "every", "date"),
    ),
    "standing_status_paused": Template(
        "定期便は休止中です: {every}{weekday} {items}。再開は「定期 再開」と送ってください。",
        "Paused: {items}, {every} on {weekday}. REGULAR RESUME resumes it.",
        items_chars=_ITEMS,
        required=("items", "weekday", "every"),
    ),
    "courier_route_link": Template(
        "本日の配達ルートです: {url}",
        "Your delivery route for today: {url}",
        budget=2,
        required=("url",),
    ),
    "eta_changed": Template(
        "注文#{number}のお届けは{when}{start}〜{end}に変わりました。暗証番号は同じです。",
        "Order #{number} now arrives {when} {start}-{end}. Your delivery PIN is unchanged.",
        required=("number", "start", "end"),
        optional=("date",),
    ),
    "rescheduled": Template(
        "注文#{number}は予定の便でお届けできなくなりました。次の便の時刻をお知らせします。",
        "Order #{number} cannot go out as planned. We will text you the time of the next delivery.",
        required=("number",),
    ),
    "carried_over": Template(
        "注文#{number}は{date}のお届けになります。時刻は決まり次第お知らせします。",
        "Order #{number} will now be delivered {date}. We will text you the time.",
        required=("number", "date"),
    ),
    "order_parked": Template(
        "注文#{number}をまだお届けできていません。拠点の担当者からご連絡します。",
        "We have not been able to deliver order #{number} yet. Someone from the hub will contact you.",
        required=("number",),
    ),
    "route_changed": Template(
        "配達ルートが変わりました。確認してください: {url}",
        "Your delivery route has changed. Please check it: {url}",
        budget=2,
        required=("url",),
    ),
    "stop_cancelled": Template(
        "注文#{number}は取消になりました。配達せず、お持ちならハブへ戻してください。",
        "Order #{number} was cancelled: do not deliver it; if you carry it, bring it back to the hub.",
        required=("number",),
    ),
    "courier_released": Template(
        "本日の配達の取りやめを受け付けました。お持ちの荷物{count}個はハブへ戻してください。",
        "You are off for today. Please bring the {count} parcel(s) you carry back to the hub.",
        required=("count",),
    ),
    # Volunteers (issue 15, item 3): availability they text, and call-outs to join a plan.
    "availability_saved": Template(
        "{date}{start}〜{end}に手伝えると受け付けました。ありがとうございます。",
        "Thank you: you are available {date} {start}-{end}.",
        required=("start", "end", "date"),
    ),
    "availability_day": Template(
        "{date}は終日手伝えると受け付けました。ありがとうございます。",
        "Thank you: you are available all day {date}.",
        required=("date",),
    ),
    "availability_off": Template(
        "{date}はお休みと受け付けました。",
        "Noted: you are off {date}.",
        required=("date",),
    ),
    "volunteer_help": Template(
        "読み取れませんでした。例: 明日 9時から12時 / 土曜 休み / 依頼には はい か いいえ",
        "Sorry, we did not understand. Examples: tomorrow 9-12 / Saturday off / YES or NO to a call-out.",
    ),
    "volunteer_examples": Template(
        "例: 明日 9時から12時 / 土曜 休み / 依頼には はい か いいえ で返信してください。",
        "Text e.g.: tomorrow 9-12 / Saturday off / YES or NO to a call-out.",
    ),
    "callout": Template(
        "{date}{start}〜{end}に配達を手伝えますか。「はい」か「いいえ」で返信してください: {url}",
        "Can you deliver {date} {start}-{end}? Reply YES or NO, or answer here: {url}",
        budget=2,
        required=("start", "end", "date", "url"),
    ),
    "callout_accepted": Template(
        "ありがとうございます。{date}{start}〜{end}の配達をお願いします。ルートは後で送ります。",
        "Thank you! You deliver {date} {start}-{end}. We will text you your route.",
        required=("start", "end", "date"),
    ),
    "callout_declined": Template(
        "承知しました。ご返信ありがとうございます。",
        "Noted, thank you for answering.",
    ),
    "callout_kept": Template(
        "参加のお返事は受け付け済みです。ルートは後で送ります。",
        "You have already said yes. We will text you your route.",
    ),
    "callout_closed": Template(
        "この依頼は締め切りました。ご返信ありがとうございます。",
        "This request is closed. Thank you for answering.",
    ),
    "callout_none": Template(
        "お答えいただく依頼は今ありません。ありがとうございます。",
        "There is no request to answer at the moment. Thank you.",
    ),
    "login_code": Template(
        "Hakobuのログインコード: {code} ({minutes}分間有効)。他の人に教えないでください。",
        "Your Hakobu sign-in code is {code}. It expires in {minutes} minutes. Do not share it with anyone.",
        required=("code", "minutes"),
    ),
}

_FRAGMENTS: Final[dict[str, Callable[[dict[str, str], bool], str]]] = {
    "eta": lambda f, en: (
        (f" Expected {f['date'] + ' ' if 'date' in f else ''}{f['start']}-{f['end']}." if en
         else f"到着予定{f.get('date', '')}{f['start']}〜{f['end']}。")
        if "start" in f and "end" in f
        else ""
    ),
    "retry": lambda f, en: (
        (f"We will try again {f['date']}." if en else f"{f['date']}に再配達します。")
        if "date" in f
        else ("The hub will contact you." if en else "ハブから改めてご連絡します。")
    ),
    "when": lambda f, en: f.get("date", "today" if en else "本日"),
    "due": lambda f, en: (
        (f" Delivery {f['date']}; we will text the time." if en else f"{f['date']}お届け予定です。")
        if "date" in f
        else (" We will text the delivery time." if en else "")
    ),
    "wish": lambda f, en: "",
}


def parameters(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (required, optional) parameter names of template ``key``."""
    tpl = _template(key)
    return tpl.required, tpl.optional


def _template(key: str) -> Template:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise KeyError(f"unknown reply template {key!r}") from None


def render(key: str, language: str, *, today: dt.date | None = None, **params: Any) -> str:
    """The reply ``key`` in ``language`` (``"ja"`` or ``"en"``; anything else gets Japanese).

    Parameters a template does not use are ignored, so a caller may pass one set of facts to
    several templates. ``today`` (the local day the text is sent) turns a ``date`` into 今日 / 明日;
    without it every date is written out. Raises ``KeyError`` naming the key for an unknown
    template, and ``KeyError`` naming the parameter when a required one is missing or None.
    """
    tpl = _template(key)
    missing = [name for name in tpl.required if params.get(name) is None]
    if missing:
        raise KeyError(f"reply {key!r} needs the parameter {missing[0]!r}")
    lang = (language or "").lower()[:2]
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    accepted = {*tpl.required, *tpl.optional}
    fields = _fields(tpl, lang, {k: v for k, v in params.items() if k in accepted}, today)
    for name, fragment in _FRAGMENTS.items():
        fields.setdefault(name, fragment(fields, lang == "en"))
    return (tpl.en if lang == "en" else tpl.ja).format_map(fields)
