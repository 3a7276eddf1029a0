"""Read a text from a registered volunteer: declared availability, or the answer to a call-out.

Pure and deterministic like :mod:`sms.parser`, and pinned by the corpus in
``tests/sms/volunteer_messages.py``. A volunteer writes, Japanese or English:

=====================================  ===========================================================
``明日 9時から12時 手伝えます``          :class:`Available` tomorrow 09:00-12:00
``土曜 10:00〜15:00`` / ``sat 10-3pm``   the next Saturday (today when today is one)
``今日 午後`` / ``today afternoon``      13:00-17:00 (午前/morning 09:00-12:00, 夕方 17:00-20:00)
``明日 OK`` / ``available tomorrow``     the whole day (no range)
``明日 休み`` / ``off tomorrow``         :class:`Available` with ``off``
``はい`` / ``YES`` / ``行けます``        :class:`Answer` accepting the open call-out
``いいえ`` / ``NO`` / ``無理です``        :class:`Answer` declining it
anything else                          :class:`NotAvailability` (the resident parser's turn)
=====================================  ===========================================================

Decisions: a range without a day is for today; a day without a range and without 休み/off is the
whole day; hours without am/pm are 24-hour clock, except that ``1-5pm`` reads as 13:00-17:00 and
``午後1時から5時`` as 13:00-17:00; a range whose end is not after its start is refused
(``range_unclear``) rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from sms.normalize import ITEM_SEPARATOR, normalize
from sms.parser import _DAY_WORDS


@dataclass(frozen=True, slots=True)
class Available:
    """Availability for one day: ``day_offset`` from today, or the next ``weekday`` (0 = Monday).

    ``start``/``end`` None: the whole day. ``off``: not available that day.
    """

    day_offset: int | None = 0
    weekday: int | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    off: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """Yes or no to the call-out the volunteer was sent last."""

    accept: bool


@dataclass(frozen=True, slots=True)
class NotAvailability:
    """Not a volunteer's text we understand; ``reason`` is a stable code for the operator."""

    reason: str


VolunteerCommand = Available | Answer | NotAvailability

_YES = re.compile(
    r"(?i)^(?:はい|ok|okay|yes|y|了解(?:です|しました)?|行けます|いけます|大丈夫です|大丈夫|"
    r"引き受けます|参加します|accept|sure)[\s!.。,]*(?:です|します|お願いします)?[\s!.。]*$"
)
_NO = re.compile(
    r"(?i)^(?:いいえ|no|n|無理(?:です)?|むり|行けません|いけません|できません|すみません|"
    r"ごめんなさい|decline|sorry|can'?t|cannot)[\s!.。,]*(?:です|でした)?[\s!.。]*$"
)

#: Today, tomorrow and the day after, as residents write them in orders.
_DAYS: Final = _DAY_WORDS
_WEEKDAYS: Final = {
    "月曜日": 0, "月曜": 0, "月": 0, "monday": 0, "mon": 0,
    "火曜日": 1, "火曜": 1, "火": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "水曜日": 2, "水曜": 2, "水": 2, "wednesday": 2, "wed": 2,
    "木曜日": 3, "木曜": 3, "木": 3, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "金曜日": 4, "金曜": 4, "金": 4, "friday": 4, "fri": 4,
    "土曜日": 5, "土曜": 5, "土": 5, "saturday": 5, "sat": 5,
    "日曜日": 6, "日曜": 6, "sunday": 6, "sun": 6,
}  # fmt: skip
_PARTS: Final = {
    "午前中": (9, 12), "午前": (9, 12), "朝": (9, 12), "morning": (9, 12),
    "午後": (13, 17), "昼から": (13, 17), "afternoon": (13, 17),
    "夕方": (17, 20), "evening": (17, 20),
    "終日": None, "一日中": None, "all day": None, "whole day": None,
}  # fmt: skip
_OFF = re.compile(r"(?i)(?:休み|やすみ|休みます|お休み|不可|行けません|無理|\boff\b|\bunavailable\b|"
                  r"\bnot available\b|\bbusy\b|\bcan'?t\b)")


def _alt(words: object) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


_CLOCK = (r"(?P<{p}pm>午前|午後)?\s*(?P<{p}h>[0-9]{{1,2}})"
          r"(?:\s*[:時]\s*(?P<{p}m>[0-9]{{2}}|半)?分?)?\s*(?P<{p}ap>am|pm)?")
_RANGE = re.compile(
    "(?i)" + _CLOCK.format(p="a") + r"\s*(?:から|より|〜|~|-|–|—|to|until|till)\s*"
    + _CLOCK.format(p="b") + r"\s*(?:まで)?"
)
_DAY = re.compile(rf"(?i)(?<![a-z])(?P<d>{_alt(_DAYS)})(?![a-z])")
# A Japanese weekday glued to 曜 or alone before は/の/:, or an English name as a word.
_WEEKDAY = re.compile(rf"(?i)(?<![a-z一-龥])(?P<w>{_alt(_WEEKDAYS)})(?![a-z])(?:は|の)?")
_PART = re.compile(rf"(?i)(?P<p>{_alt(_PARTS)})")
# Words a volunteer adds that carry nothing: 手伝えます, available, please …
_FILLER = re.compile(
    r"(?i)(?:手伝えます|手伝います|お手伝いできます|お手伝い可能|手伝い可能|可能です|可能|空いています|"
    r"空いてます|空き|大丈夫です|大丈夫|行けます|いけます|出られます|配達|できます|です|ます|"
    r"よろしく(?:お願いします)?|お願いします|は|に|で|の|も|ok|okay|available|avail|free|i'?m|i am|"
    r"i can help|can help|help|please|on|from|at|the|is|am|for|thanks|\bi\b)"
)
_JA_SINGLE_WEEKDAY = frozenset("月火水木金土")


def _hour(h: str, m: str | None, ja_pm: str | None, ap: str | None) -> tuple[int, int, bool]:
    """(hour, minute, whether a pm marker was given)."""
    hour, minute = int(h), 30 if m == "半" else int(m or 0)
    pm = (ja_pm == "午後") or (ap or "").lower() == "pm"
    if pm and hour < 12:
        hour += 12
    if (ja_pm == "午前" or (ap or "").lower() == "am") and hour == 12:
        hour = 0
    return hour, minute, pm


def _time(hour: int, minute: int) -> dt.time | None:
    if hour == 24 and minute == 0:
        return dt.time(23, 59)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return dt.time(hour, minute)


def _range(m: re.Match[str]) -> tuple[dt.time, dt.time] | None:
    ah, am_, a_pm = _hour(m["ah"], m["am"], m["apm"], m["aap"])
    b_ja = m["bpm"] or (m["apm"] if m["apm"] == "午後" else None)  # 午後1時から5時: both afternoon
    bh, bm, b_pm = _hour(m["bh"], m["bm"], b_ja, m["bap"])
    if b_pm and not a_pm and m["aap"] is None and ah + 12 < bh:
        ah += 12  # 1-5pm
    start, end = _time(ah, am_), _time(bh, bm)
    if start is None or end is None or end <= start:
        return None
    return start, end


def parse(text: str) -> VolunteerCommand:
    """Read one volunteer's text; never raises."""
    body = normalize(text).replace(ITEM_SEPARATOR, " ").strip()
    if not body:
        return NotAvailability("empty")
    if _YES.match(body):
        return Answer(accept=True)
    if _NO.match(body):
        return Answer(accept=False)
    rest = body
    offset: int | None = None
    weekday: int | None = None
    if (d := _DAY.search(rest)) is not None:
        offset = _DAYS[d["d"].lower()]
        rest = rest[: d.start()] + " " + rest[d.end() :]
    elif (w := _WEEKDAY.search(rest)) is not None and _weekday_ok(rest, w):
        weekday = _WEEKDAYS[w["w"].lower()]
        rest = rest[: w.start()] + " " + rest[w.end() :]
    off = bool(_OFF.search(rest))
    rest = _OFF.sub(" ", rest)
    span: tuple[dt.time, dt.time] | None = None
    if (r := _RANGE.search(rest)) is not None:
        span = _range(r)
        if span is None:
            return NotAvailability("range_unclear")
        rest = rest[: r.start()] + " " + rest[r.end() :]
    elif (p := _PART.search(rest)) is not None:
        hours = _PARTS[p["p"].lower()]
        span = (dt.time(hours[0]), dt.time(hours[1])) if hours else None
        rest = rest[: p.start()] + " " + rest[p.end() :]
    said_when = offset is not None or weekday is not None or span is not None
    leftover = _FILLER.sub(" ", rest).strip(" !.。,、~-:")
    if leftover or not (said_when or off):
        return NotAvailability("not_availability")
    if weekday is None and offset is None:
        offset = 0  # a range without a day is for today
    if off:
        return Available(offset, weekday, off=True)
    start, end = span if span else (None, None)
    return Available(offset, weekday, start, end)


def _weekday_ok(text: str, m: re.Match[str]) -> bool:
    """A one-kanji weekday (``土``) counts only before 曜, は, の, a space or a digit: 月 alone in
    ``来月`` is not Monday."""
    word = m["w"]
    if word not in _JA_SINGLE_WEEKDAY:
        return True
    after = text[m.end(): m.end() + 1]
    before = text[m.start() - 1: m.start()] if m.start() else ""
    return (before in ("", " ")) and (after in ("", " ") or after.isdigit() or m.group(0) != word)
