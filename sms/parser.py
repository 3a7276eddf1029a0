"""Turn one inbound SMS into a :data:`Command`: pure, deterministic, never raises.

The parser reads the text produced by :func:`sms.normalize.normalize` and recognises, Japanese
and English alike (English keywords in any case):

===========================  ==================================================================
``注文`` / ``ORDER`` …         :class:`Order` with items and an optional :class:`TimeWish`
``状況`` / ``STATUS``          :class:`Status`
``取消`` / ``キャンセル`` /     :class:`Cancel`, optionally with a short order number
``CANCEL`` [``#12``]
``ヘルプ`` / ``HELP`` / ``?``  :class:`Help`
``停止`` / ``STOP`` …          :class:`Stop` (also ``配信停止``, ``STOPALL``, ``UNSUBSCRIBE``, …)
``開始`` / ``START`` …         :class:`Start` (also ``再開``, ``UNSTOP``)
``代理 R12 …`` / ``FOR R12 …`` :class:`Proxy` wrapping the command for resident ``R12``
``定期 …`` / ``REGULAR …``     a standing order: :class:`Standing`, :class:`StandingChange`,
                             :class:`StandingStatus` (see "standing orders" below)
anything else                :class:`Unparseable` with a reason for the operator queue
===========================  ==================================================================

Decisions (each pinned by the message corpus in ``tests/sms/messages.py``):

* **No keyword.** A text without a keyword is an order only when it *clearly* lists items: every
  item carries an explicit quantity (``米 2、牛乳 1本``). ``米、牛乳`` or ``ありがとう`` are
  :class:`Unparseable` and go to the operator queue.
* **Typos are not guessed.** ``ORDR rice 2`` is :class:`Unparseable` with reason
  ``typo: 'ORDR' looks like ORDER``: acting on a guess (``STPO`` → stop?) is worse than asking.
* **Quantities** are 1 to :data:`MAX_QUANTITY` per item and at most :data:`MAX_ITEMS` items;
  anything outside is :class:`Unparseable` (not clamped: a silently changed order is worse than
  a question). A number glued to a name without a counter and above the limit (``コーラ500``)
  is read as part of the name, a size or model number. Numbers followed by a size unit
  (``米5kg``) are part of the name, numbers followed by a counter (``2本``, ``3 bottles``) are
  quantities. Items without a quantity count 1.
* **Words without a quantity between them form one name** (``食パン 6枚切り 1`` is one item),
  so nothing the resident wrote is lost; separators (``、`` ``,`` line break …) split items.
* **Time wishes** (``明日の午前``, ``午後``, ``tomorrow morning``, ``14時``) anywhere in an order
  are taken out of the item list; the first day and the first part of day found win. Without a
  day the offset is 0: the service moves a part of day already past to the next day.
* **Text cut by normalisation** (over 1,600 characters) is :class:`Unparseable` (``too_long``)
  rather than half an order.
* **Proxy** codes are ASCII letters, digits, ``-`` and ``_`` with at least one digit (so ``FOR
  tomorrow`` is not a code), kept as typed; the wrapped command is never a :class:`Proxy` or an
  :class:`Unparseable` (an unreadable inner command makes the whole message unparseable).
* **STOP** and friends count when they open the message (``停止してください``); ``END``,
  ``QUIT`` and ``OPTOUT`` only as the whole message, as carriers do.
* **Markup** (``<script>…</script>``, any ``<tag>``) is :class:`Unparseable` (``markup``): no
  resident writes it, so it goes to the operator queue instead of into an item name. Whoever
  renders stored text still escapes it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Final

from sms.normalize import ITEM_SEPARATOR, normalize_with_flag

log = logging.getLogger(__name__)

#: Most of one item a single SMS may order.
MAX_QUANTITY: Final = 20
#: Most items in one order.
MAX_ITEMS: Final = 20
#: Longest item name, in characters (the database allows 200; a real name is far shorter).
MAX_NAME_CHARS: Final = 80

PARTS: Final = frozenset({"morning", "afternoon", "evening", "any"})


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Item:
    """One line of an order: ``牛乳 2本`` is ``Item("牛乳", 2, "本")``."""

    name: str
    quantity: int
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class TimeWish:
    """When the resident would like the delivery: days from today and a part of the day."""

    day_offset: int
    part: str = "any"


@dataclass(frozen=True, slots=True)
class Order:
    items: tuple[Item, ...]
    time_wish: TimeWish | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """Where is my order?"""


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel the order with this short number, or the latest one when ``number`` is None."""

    number: int | None = None


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Stop:
    """Opt out of all messages."""


@dataclass(frozen=True, slots=True)
class Start:
    """Opt back in."""


@dataclass(frozen=True, slots=True)
class Proxy:
    """A registered proxy acting for the resident with ``resident_code``."""

    resident_code: str
    command: Command


@dataclass(frozen=True, slots=True)
class Unparseable:
    """Not understood. ``reason`` starts with a stable code (``typo``, ``no_items`` …) followed
    by ``: detail`` for the operator; ``language_hint`` is ``"ja"`` or ``"en"``."""

    reason: str
    language_hint: str

    @property
    def code(self) -> str:
        """The stable part of the reason, e.g. ``"typo"``."""
        return self.reason.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Standing:
    """Set a standing order: ``items`` every ``every_weeks`` weeks on ``weekday`` (0 = Monday)."""

    items: tuple[Item, ...]
    weekday: int
    every_weeks: int = 1
    part: str = "any"


@dataclass(frozen=True, slots=True)
class StandingChange:
    """Pause (``paused``), resume (``active``) or stop (``stopped``) the sender's standing orders."""

    state: str


@dataclass(frozen=True, slots=True)
class StandingStatus:
    """What standing orders do I have?"""


Command = (Order | Status | Cancel | Help | Stop | Start | Proxy | Standing | StandingChange
           | StandingStatus | Unparseable)


class _Refused(Exception):
    """Internal: a part of the message that makes the whole message unparseable."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)


# --------------------------------------------------------------------------- language

_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def guess_language(text: str) -> str:
    """``"ja"`` when the text has any kana or kanji, ``"en"`` when it has Latin letters only,
    else ``"ja"`` (the service's home language)."""
    if _JA_CHARS.search(text):
        return "ja"
    return "en" if _LATIN.search(text) else "ja"


# --------------------------------------------------------------------------- vocabulary

_S = ITEM_SEPARATOR
_DIGITS = r"[0-9]{1,6}"
_KANJI_NUM = r"(?:二?十[一二三四五六七八九]?|[一二三四五六七八九])"
_KANA_NUMS: Final = {
    "ひとつ": 1, "ふたつ": 2, "みっつ": 3, "よっつ": 4, "いつつ": 5,
    "むっつ": 6, "ななつ": 7, "やっつ": 8, "ここのつ": 9, "とお": 10,
}  # fmt: skip
_EN_NUMS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_KANJI_DIGITS: Final = dict(zip("一二三四五六七八九", range(1, 10), strict=True))
_KANA_NUM = "|".join(sorted(_KANA_NUMS, key=len, reverse=True))
_JA_COUNTERS = (
    "パック|ケース|セット|切れ|ふくろ|ぱっく|本|個|コ|こ|袋|枚|缶|箱|束|玉|匹|尾|切|丁|株|房|把|"
    "斤|組|点|瓶|ヶ|ケ|カン|たば|はこ"
)
_EN_COUNTERS = (
    "pcs|pc|pieces|piece|packs|pack|pkts|pkt|bags|bag|bottles|bottle|cans|can|boxes|box|"
    "cartons|carton|loaves|loaf|bunches|bunch|heads|head|jars|jar|tins|tin|trays|tray"
)
_COUNTER = f"(?:{_JA_COUNTERS}|{_EN_COUNTERS})"
_TIMES = r"(?:[x×*]\s*)"

# A token that is only a quantity: 2, 2本, x2, ×3, *2, 二つ, 三本, ふたつ, two, 2つ, 2x.
_QTY_ONLY = re.compile(
    rf"(?i)^(?:{_TIMES}?(?P<d>{_DIGITS})(?:(?P<dc>{_COUNTER})|つ|x)?"
    rf"|{_TIMES}?(?P<k>{_KANJI_NUM})(?:(?P<kc>{_COUNTER})|つ)?"
    rf"|(?P<w>{_KANA_NUM}|{'|'.join(_EN_NUMS)}))$"
)
# A name with a quantity glued to its end: 牛乳2本, パン1, 米×2, 豆腐一丁, りんごふたつ.
_GLUED = re.compile(
    rf"(?i)^(?P<name>.*?[^\s0-9.])\s*(?P<x>(?<![a-z])x|[×*])?"
    rf"(?:(?P<d>{_DIGITS})(?:(?P<dc>{_COUNTER})|つ)?"
    rf"|(?P<k>{_KANJI_NUM})(?:(?P<kc>{_COUNTER})|つ)"
    rf"|(?P<w>{_KANA_NUM.replace('|とお', '')}))$"
)
_COUNTER_WORD = re.compile(rf"(?i)^{_COUNTER}$")

_FILLER = (
    r"(?:(?:を)?(?:よろしく)?(?:お願い(?:します|致します|いたします|します。)?|おねがい(?:します)?|"
    r"ください(?:ませ)?|下さい|です|ます|します|以上(?:です)?|ありがとう(?:ございます)?|"
    r"(?:を)?注文(?:します|したいです|したい|です)?|please|pls|plz|thanks|thank you|thx)[\s!.~]*)"
)
_FILLER_TAIL = re.compile(rf"(?i)\s*{_FILLER}+$")
_FILLER_HEAD = re.compile(
    r"(?i)^(?:please|pls|plz|すみません|すいません|あの|えっと|i want to order|i'?d like to order|"
    r"i would like to order|i want|i'?d like|i would like|can i (?:get|have)|could i (?:get|have))"
    r"[\s!:]*"
)
_GREETING = re.compile(
    r"(?i)^(?:(?:こんにちは|こんばんは|おはようございます|おはよう|いつも|お世話になって(?:おり|い)ます|"
    r"お世話になります|ありがとうございます|hello|hi|hey|dear hakobu|good morning|"
    r"good afternoon|good evening)[\s!,]*)+"
)
_COURTESY = re.compile(
    r"(?i)^(?:ありがとう(?:ございます|ございました)?|どうも|了解(?:です|しました)?|"
    r"わかりました|分かりました|はい|お疲れ様です|おつかれさまです|ok|okay|thanks|thank you|"
    r"thx|yes|no|いいえ)[\s!.~]*$"
)

# --------------------------------------------------------------------------- time wishes

_DAY_WORDS: Final = {
    "今日": 0, "きょう": 0, "本日": 0, "today": 0, "tonight": 0,
    "明日": 1, "あした": 1, "あす": 1, "tomorrow": 1, "tmrw": 1,
    "明後日": 2, "あさって": 2,
}  # fmt: skip
_PART_WORDS: Final = {
    "午前中": "morning", "午前": "morning", "朝": "morning", "あさ": "morning",
    "ごぜん": "morning", "morning": "morning",
    "午後": "afternoon", "昼": "afternoon", "ひる": "afternoon", "ごご": "afternoon",
    "afternoon": "afternoon",
    "夕方": "evening", "夜": "evening", "晩": "evening", "ゆうがた": "evening", "よる": "evening",
    "evening": "evening", "night": "evening",
    "いつでも": "any", "anytime": "any", "any time": "any",
}  # fmt: skip


def _alternatives(words: object) -> str:
    return "|".join(sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


_EDGE_L = rf"(?<![^\s{_S}])"
_EDGE_R = rf"(?![^\s{_S}])"
_HOUR = r"(?P<hour>[0-9]{1,2})(?:時(?:半)?|\s?(?P<ampm>am|pm))"
_WISH = re.compile(
    rf"(?i){_EDGE_L}(?:(?:deliver(?:y)?|by|for|in|on|this|the|at)\s+)*"
    rf"(?:(?P<day>{_alternatives(_DAY_WORDS)})(?:の|\s)?(?:(?:in the\s+)?"
    rf"(?P<dpart>{_alternatives(_PART_WORDS)})|{_HOUR.replace('hour', 'dhour').replace('ampm', 'dampm')})?"
    rf"|(?P<part>{_alternatives(_PART_WORDS)})|{_HOUR})"
    r"(?:頃|ごろ|くらい|以降|から|まで|過ぎ|の|で|に|が|配達|お届け|配送|希望|がいい|が良い|"
    r"お願いします|おねがいします|お願い|ください|下さい|です|\s+please)*"
    rf"{_EDGE_R}"
)


def _part_of_hour(hour: int, ampm: str | None) -> str | None:
    if ampm and ampm.lower() == "pm" and hour < 12:
        hour += 12
    if not 5 <= hour <= 21:
        return None
    return "morning" if hour < 12 else "afternoon" if hour < 17 else "evening"


def _take_time_wish(body: str) -> tuple[TimeWish | None, str]:
    """Find time-wish phrases, return the combined wish and the body without them."""
    day: int | None = None
    part: str | None = None
    for m in _WISH.finditer(body):
        words = {k: (v.lower() if v else v) for k, v in m.groupdict().items()}
        if words["day"] is not None and day is None:
            day = _DAY_WORDS[words["day"]]
            if words["day"] == "tonight" and part is None:
                part = "evening"
        found = words["dpart"] or words["part"]
        hour, ampm = words["dhour"] or words["hour"], words["dampm"] or words["ampm"]
        if found is None and hour is not None:
            found = _part_of_hour(int(hour), ampm)
        if found is not None and part is None:
            part = _PART_WORDS[found]
    if day is None and part is None:
        return None, body
    rest = _WISH.sub(_S, body)
    if day is None and part == "any":
        return None, rest
    return TimeWish(day or 0, part or "any"), rest


# --------------------------------------------------------------------------- items


@dataclass(frozen=True, slots=True)
class _Qty:
    value: int
    unit: str | None


def _number(m: re.Match[str]) -> _Qty:
    if m["d"]:
        return _Qty(int(m["d"]), m["dc"].lower() if m["dc"] else None)
    if m["k"]:
        k = m["k"]
        tens, _, ones = k.rpartition("十") if "十" in k else ("", "", k)
        value = (_KANJI_DIGITS.get(tens, 1) * 10 if "十" in k else 0) + _KANJI_DIGITS.get(ones, 0)
        return _Qty(value, m["kc"])
    word = m["w"].lower()
    return _Qty(_KANA_NUMS.get(word) or _EN_NUMS[word], None)


def _qty_only(token: str) -> _Qty | None:
    m = _QTY_ONLY.match(token)
    return _number(m) if m else None


def _clean_name(name: str) -> str:
    name = name.strip(" :;.!?~-")
    if len(name) > 1 and name.endswith("を"):
        name = name[:-1].rstrip()
    return name


class _Collector:
    """Builds items from the tokens of one chunk (see :func:`_chunk_items`)."""

    def __init__(self) -> None:
        self.items: list[tuple[Item, bool]] = []
        self.names: list[str] = []
        self.pending: _Qty | None = None  # a quantity written before its name: "2 milk"
        self.after_qty = False  # the previous token was a quantity: a counter word may follow

    def emit(self, qty: _Qty | None, extra: str = "") -> None:
        name = _clean_name(" ".join([*self.names, extra]).strip())
        self.names = []
        if not name:
            if qty is not None:
                raise _Refused("quantity_without_item", str(qty.value))
            return
        if len(name) > MAX_NAME_CHARS:
            raise _Refused("item_name_too_long", f"{name[:20]}… ({len(name)} characters)")
        if qty is not None and not 1 <= qty.value <= MAX_QUANTITY:
            raise _Refused("quantity_out_of_range", f"{qty.value} for '{name}' (1-{MAX_QUANTITY})")
        self.items.append((Item(name, qty.value if qty else 1, qty.unit if qty else None), bool(qty)))

    def set_unit(self, unit: str) -> None:
        """Attach a counter word written after its number: ``牛乳 2 本``, ``2 bottles milk``."""
        if self.pending is not None:
            self.pending = _Qty(self.pending.value, unit)
        elif self.items:
            item, explicit = self.items[-1]
            self.items[-1] = (Item(item.name, item.quantity, unit), explicit)


def _chunk_items(chunk: str) -> list[tuple[Item, bool]]:
    """Items of one separator-free chunk, each with whether its quantity was written."""
    tokens = [t for t in chunk.split(" ") if t]
    c = _Collector()
    for i, token in enumerate(tokens):
        qty = _qty_only(token)
        if qty is not None:
            if c.names:
                c.emit(c.pending or qty)
                c.pending = qty if c.pending else None
            elif c.pending is not None:
                raise _Refused("quantity_without_item", str(c.pending.value))
            else:
                c.pending = qty
            c.after_qty = True
            continue
        if c.after_qty and _COUNTER_WORD.match(token):
            c.set_unit(token.lower() if token.isascii() else token)
            continue
        c.after_qty = False
        if token.lower() == "of" and c.pending is not None and not c.names:
            continue  # "2 bags of rice"
        glued = None if i + 1 < len(tokens) and _qty_only(tokens[i + 1]) else _GLUED.match(token)
        if glued is not None:
            qty = _number(glued)
            if glued["d"] and not glued["dc"] and not glued["x"] and qty.value > MAX_QUANTITY:
                glued = None  # コーラ500: a size or model number, not a quantity
        if glued is not None:
            if c.pending is not None:
                raise _Refused("quantity_without_item", str(c.pending.value))
            c.emit(_number(glued), glued["name"])
            continue
        c.names.append(token)
    if c.names:
        c.emit(c.pending)
    elif c.pending is not None:
        raise _Refused("quantity_without_item", str(c.pending.value))
    return c.items


_AND = re.compile(r"(?i)\s+(?:and|&)\s+")


def _strip_fillers(text: str) -> str:
    return _FILLER_HEAD.sub("", _FILLER_TAIL.sub("", text)).strip()


def _items(body: str) -> tuple[list[tuple[Item, bool]], TimeWish | None]:
    """All items of an order body and its time wish."""
    wish, body = _take_time_wish(body)
    found: list[tuple[Item, bool]] = []
    for raw in body.split(_S):
        for chunk in _AND.split(raw):
            found.extend(_chunk_items(_strip_fillers(chunk)))
    if len(found) > MAX_ITEMS:
        raise _Refused("too_many_items", f"{len(found)} (at most {MAX_ITEMS})")
    return found, wish


# --------------------------------------------------------------------------- keywords


#: Command keywords, tried in this order: (kind, Japanese pattern, English words). Japanese
#: keywords may be glued to what follows (``注文米2``); English ones need a word boundary.
_KEYWORDS: Final = (
    ("proxy", "代理|だいり", "FOR|PROXY"),
    ("standing", "定期(?:便|注文)?|ていき", "REGULAR|WEEKLY"),
    ("status", "(?:注文の?)?(?:状況|状態|じょうきょう|確認)", r"(?:ORDER\s+)?STATUS"),
    ("cancel", "(?:注文の?)?(?:取り?消し?|とりけし|キャンセル)(?:して|します|する|て|を)?", "CANCEL"),
    ("order", "ご?注文|ちゅうもん", "ORDER"),
    ("help", "ヘルプ|へるぷ|使い方|つかいかた", "HELP|INFO"),
    ("stop", "配信停止|停止|ていし", "STOPALL|STOP|UNSUBSCRIBE"),
    ("start", "配信開始|配信再開|開始|再開|かいし", "START|UNSTOP"),
)
_HEADS: Final = tuple(
    (kind, re.compile(rf"(?i)^(?:(?:{ja})|(?:{en})(?![A-Za-z0-9]))")) for kind, ja, en in _KEYWORDS
)
_WHOLE_STOP = re.compile(r"(?i)^(?:END|QUIT|OPTOUT|CANCEL ALL)[\s!.]*$")
_MARKUP = re.compile(r"<[^<>]{0,200}>")
_ONLY_QUESTION = re.compile(r"^[?\s]+$")
_KEYWORDS_FOR_TYPOS: Final = ("ORDER", "STATUS", "CANCEL", "HELP", "STOP", "START", "UNSTOP")
_FIRST_WORD = re.compile(r"^([A-Za-z]+)(?![A-Za-z0-9])")
_PROXY_CODE = re.compile(rf"^[\s:{_S}]*([A-Za-z0-9][A-Za-z0-9_-]{{0,63}})(?![A-Za-z0-9_-])")
_CANCEL_NUMBER = re.compile(
    r"(?i)^(?:(?:my|the)\s+)?(?:order\s*|注文番号\s*|番号\s*|注文\s*|no\.?\s*|number\s*)?"
    r"#?\s*(?P<n>[0-9]{1,9})\s*(?:番)?(?:の注文)?(?:を)?$"
)
_CANCEL_EMPTY = re.compile(r"(?i)^(?:(?:my|the|last)\s+)*(?:order|注文|前の注文|最後の注文)?$")


def _damerau1(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one edit or one swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _typo_of(text: str) -> str | None:
    m = _FIRST_WORD.match(text)
    if not m or len(m[1]) < 3:
        return None
    word = m[1].upper()
    return next((k for k in _KEYWORDS_FOR_TYPOS if _damerau1(word, k)), None)


def _after(text: str, m: re.Match[str]) -> str:
    return text[m.end() :].lstrip(f" :{_S}-")


def _cancel(rest: str) -> Command:
    rest = _strip_fillers(rest.replace(_S, " "))
    if _CANCEL_EMPTY.match(rest):
        return Cancel(None)
    m = _CANCEL_NUMBER.match(rest)
    if m is None or int(m["n"]) == 0:
        raise _Refused("cancel_unclear", rest[:40])
    return Cancel(int(m["n"]))


def _order(rest: str, *, keyword: bool) -> Command:
    found, wish = _items(rest)
    if not found:
        raise _Refused("no_items") if keyword else _Refused("no_command")
    if not keyword and not all(explicit for _, explicit in found):
        raise _Refused("no_command", "not every item has a quantity")
    return Order(tuple(item for item, _ in found), wish)


def _proxy(rest: str) -> Command:
    m = _PROXY_CODE.match(rest)
    if m is None or not any(ch.isdigit() for ch in m[1]):
        raise _Refused("proxy_without_code")
    inner = _after(rest, m)
    if not inner:
        raise _Refused("proxy_without_command", m[1])
    command = _command(inner, allow_proxy=False)
    if isinstance(command, Unparseable):
        raise _Refused(command.code, f"for {m[1]}: {command.reason}")
    return Proxy(m[1], command)


# --------------------------------------------------------------------------- standing orders
# The words after 定期 / REGULAR / WEEKLY (corpus: tests/sms/standing_messages.py):
# ===========================================  ===================================================
# ``定期 米2 毎週火曜`` / ``REGULAR rice 2 tue``   :class:`Standing`: rice ×2 every Tuesday
# ``定期 米2 隔週金曜 午前``                       every other Friday, in the morning
# ``定期 薬1 3週ごと 月曜`` / ``every 3 weeks``     every 3 weeks (1 to 4)
# ``定期 休み`` / ``REGULAR PAUSE``                :class:`StandingChange` to ``paused``
# ``定期 再開`` / ``REGULAR RESUME``               :class:`StandingChange` to ``active``
# ``定期 終了`` / ``定期 停止`` / ``REGULAR STOP``  :class:`StandingChange` to ``stopped``
# ``定期`` / ``定期 確認`` / ``REGULAR STATUS``     :class:`StandingStatus`
# ===========================================  ===================================================
#
# Decisions: a standing order names exactly one weekday (``standing_without_weekday``,
# ``standing_two_weekdays`` otherwise: the resident sets one per day); Japanese weekdays need 曜
# (``火曜``, ``火曜日``) so that an item such as ``水`` is never read as Wednesday; a day word
# (``明日``) has no meaning for a weekly order and is refused (``standing_day_word``) rather than
# dropped; items are read as after ``注文``.

_JA_DAYS: Final = "月火水木金土日"
_EN_DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# 毎週火曜 / 隔週の金曜日 / 2週ごとの月曜 / 火曜日に / every tuesday / every 2 weeks on tue / tuesdays
_WEEKDAY = re.compile(
    rf"(?i)(?:(?P<every_ja>毎週|隔週|(?P<n_ja>[1-4])週(?:間)?(?:ごと|おき|毎)(?:の|に)?)\s*(?:の\s*)?)?"
    rf"(?P<ja>[{_JA_DAYS}])曜(?:日)?(?:ごと|毎)?(?:の|に|で)?"
    rf"|{_EDGE_L}(?:(?P<every_en>every\s+(?:other\s+|(?P<n_en>[1-4])\s*(?:nd|rd|th)?\s+weeks?\s+on\s+)?)|on\s+)?"
    rf"(?P<en>{'|'.join(d[:3] + '(?:' + d[3:] + ')?' for d in _EN_DAYS)})s?{_EDGE_R}"
)
_EVERY = re.compile(
    r"(?i)(?:(?P<ja>[1-4])週(?:間)?(?:ごと|おき|毎)|every\s+(?P<en>[1-4])\s+weeks?|隔週|every\s+other\s+week)"
)
_PART = re.compile(
    rf"(?i){_EDGE_L}(?:in\s+the\s+)?(?P<part>午前中?|午後|夕方|morning|afternoon|evening)(?:に|で|の|配達|希望)*{_EDGE_R}"
)
_PARTS: Final = {"午前": "morning", "午前中": "morning", "午後": "afternoon", "夕方": "evening"}
_CHANGES: Final = (
    ("paused", re.compile(r"(?i)^(?:休み|休止|一時停止|お休み|pause|hold)$")),
    ("active", re.compile(r"(?i)^(?:再開|resume|restart)$")),
    ("stopped", re.compile(r"(?i)^(?:終了|停止|解約|やめる|やめます|stop|end|cancel)$")),
)
_STATUS = re.compile(r"(?i)^(?:確認|状況|status|\?)?$")
_DAY_WORD = re.compile(rf"(?i){_EDGE_L}(?:{'|'.join(sorted(_DAY_WORDS, key=len, reverse=True))}){_EDGE_R}")


def _every(m: re.Match[str], text: str) -> int:
    if m["n_ja"]:
        return int(m["n_ja"])
    if m["n_en"]:
        return int(m["n_en"])
    found = m.group(0).lower()
    if "隔週" in found or "other" in found:
        return 2
    loose = _EVERY.search(text)  # "every 2 weeks" written apart from the weekday
    if loose is None:
        return 1
    return int(loose["ja"] or loose["en"] or 2)


def _standing(rest: str) -> Command:
    """Read what follows the keyword; raises :class:`sms.parser._Refused` when unreadable."""
    words = _strip_fillers(rest.replace(_S, " ")).strip(" 。.!")
    if _STATUS.match(words):
        return StandingStatus()
    for state, pattern in _CHANGES:
        if pattern.match(words):
            return StandingChange(state)
    days = list(_WEEKDAY.finditer(rest))
    if not days:
        raise _Refused("standing_without_weekday")
    if len({m["ja"] or m["en"][:3].lower() for m in days}) > 1:
        raise _Refused("standing_two_weekdays")
    m = days[0]
    weekday = _JA_DAYS.index(m["ja"]) if m["ja"] else [d[:3] for d in _EN_DAYS].index(m["en"][:3].lower())
    every = _every(m, rest)
    body = _EVERY.sub(_S, _WEEKDAY.sub(_S, rest))
    part = "any"
    found = _PART.search(body)
    if found is not None:
        part = _PARTS.get(found["part"], found["part"].lower())
        body = _PART.sub(_S, body)
    if _DAY_WORD.search(body):
        raise _Refused("standing_day_word", _DAY_WORD.search(body)[0])  # type: ignore[index]
    items, _wish = _items(re.sub(r"(?i)(?<![^\s])(?:every|on)(?![^\s])", " ", body))
    if not items:
        raise _Refused("no_items")
    return Standing(tuple(item for item, _ in items), weekday, every, part)


def _command(text: str, *, allow_proxy: bool = True) -> Command:
    """Parse normalised, non-empty text; raises :class:`_Refused` for unreadable messages."""
    text = _GREETING.sub("", text).lstrip(f" {_S}")
    if not text:
        raise _Refused("courtesy")
    if _ONLY_QUESTION.match(text):
        return Help()
    if _WHOLE_STOP.match(text):
        return Stop()
    for kind, pattern in _HEADS:
        m = pattern.match(text)
        if m is None:
            continue
        rest = _after(text, m)
        if kind == "proxy":
            if not allow_proxy:
                raise _Refused("proxy_nested")
            return _proxy(rest)
        if kind == "cancel":
            return _cancel(rest)
        if kind == "order":
            return _order(rest, keyword=True)
        if kind == "standing":
            return _standing(rest)
        return {"status": Status, "help": Help, "stop": Stop, "start": Start}[kind]()
    if _COURTESY.match(_strip_fillers(text.replace(_S, " ")) or "ok"):
        raise _Refused("courtesy")
    typo = _typo_of(text)
    if typo is not None:
        raise _Refused("typo", f"'{_FIRST_WORD.match(text)[1]}' looks like {typo}")  # type: ignore[index]
    return _order(text, keyword=False)


def parse(text: str) -> Command:
    """Parse one inbound SMS body into a :data:`Command`; never raises."""
    normal, cut = normalize_with_flag(text)
    hint = guess_language(normal)
    if not normal:
        return Unparseable("empty", hint)
    if cut:
        return Unparseable("too_long", hint)
    if _MARKUP.search(normal):
        return Unparseable("markup", hint)
    try:
        return _command(normal)
    except _Refused as refused:
        return Unparseable(str(refused), hint)
    except Exception:  # a parser bug must not lose the message: it goes to the operator queue
        log.exception("SMS parser failed on %r", normal[:200])
        return Unparseable("internal_error", hint)
