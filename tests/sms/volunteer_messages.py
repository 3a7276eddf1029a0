"""The volunteers' SMS corpus (issue 15, item 3): what a volunteer texts, how it is read, and the
exact answer, in Japanese and English.

Each case: the text, the reading (``Available(...)``, ``Answer(...)`` or the refusal code), and
the exact reply when the day is relative (今日/明日, today/tomorrow); for a weekday the reply's
date depends on the day the test runs, so only the stored day is checked (``reply`` None).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sms.volunteer_parser import Answer, Available, NotAvailability, VolunteerCommand

T = dt.time


@dataclass(frozen=True)
class Case:
    text: str
    reading: VolunteerCommand
    reply: str | None


_JA_HELP = "読み取れませんでした。例: 明日 9時から12時 / 土曜 休み / 依頼には はい か いいえ"
_EN_HELP = ("Sorry, we did not understand. Examples: tomorrow 9-12 / Saturday off / YES or NO to a "
            "call-out.")

JA: tuple[Case, ...] = (
    Case("明日 9時から12時 手伝えます", Available(1, None, T(9), T(12)),
         "明日09:00〜12:00に手伝えると受け付けました。ありがとうございます。"),
    Case("今日 13時-17時", Available(0, None, T(13), T(17)),
         "今日13:00〜17:00に手伝えると受け付けました。ありがとうございます。"),
    Case("明日は10:30〜15:00 大丈夫です", Available(1, None, T(10, 30), T(15)),
         "明日10:30〜15:00に手伝えると受け付けました。ありがとうございます。"),
    Case("あした 9時半から11時", Available(1, None, T(9, 30), T(11)),
         "明日09:30〜11:00に手伝えると受け付けました。ありがとうございます。"),
    Case("明日 午後", Available(1, None, T(13), T(17)),
         "明日13:00〜17:00に手伝えると受け付けました。ありがとうございます。"),
    Case("今日 午前中 行けます", Available(0, None, T(9), T(12)),
         "今日09:00〜12:00に手伝えると受け付けました。ありがとうございます。"),
    Case("午後1時から5時", Available(0, None, T(13), T(17)),
         "今日13:00〜17:00に手伝えると受け付けました。ありがとうございます。"),
    Case("明日 終日 手伝えます", Available(1, None, None, None),
         "明日は終日手伝えると受け付けました。ありがとうございます。"),
    Case("明日 OK", Available(1, None, None, None),
         "明日は終日手伝えると受け付けました。ありがとうございます。"),
    Case("明日 休み", Available(1, None, off=True), "明日はお休みと受け付けました。"),
    Case("今日は休みます", Available(0, None, off=True), "今日はお休みと受け付けました。"),
    Case("明日は無理です", Available(1, None, off=True), "明日はお休みと受け付けました。"),
    Case("土曜 10:00〜15:00", Available(None, 5, T(10), T(15)), None),
    Case("月曜日は 9時から12時まで", Available(None, 0, T(9), T(12)), None),
    Case("日曜 休み", Available(None, 6, off=True), None),
    Case("はい", Answer(True), "お答えいただく依頼は今ありません。ありがとうございます。"),
    Case("いいえ", Answer(False), "お答えいただく依頼は今ありません。ありがとうございます。"),
    Case("明日 25時から26時", NotAvailability("range_unclear"), _JA_HELP),
    Case("明日 12時から9時", NotAvailability("range_unclear"), _JA_HELP),
    Case("来月 休み", NotAvailability("not_availability"), _JA_HELP),
    Case("こんにちは", NotAvailability("not_availability"), _JA_HELP),
)

EN: tuple[Case, ...] = (
    Case("available tomorrow 9am-12pm", Available(1, None, T(9), T(12)),
         "Thank you: you are available tomorrow 09:00-12:00."),
    Case("tomorrow 9-12", Available(1, None, T(9), T(12)),
         "Thank you: you are available tomorrow 09:00-12:00."),
    Case("Today 1pm to 5pm", Available(0, None, T(13), T(17)),
         "Thank you: you are available today 13:00-17:00."),
    Case("tomorrow 1-5pm", Available(1, None, T(13), T(17)),
         "Thank you: you are available tomorrow 13:00-17:00."),
    Case("I can help tomorrow 10:00-15:30", Available(1, None, T(10), T(15, 30)),
         "Thank you: you are available tomorrow 10:00-15:30."),
    Case("today afternoon", Available(0, None, T(13), T(17)),
         "Thank you: you are available today 13:00-17:00."),
    Case("free tomorrow morning", Available(1, None, T(9), T(12)),
         "Thank you: you are available tomorrow 09:00-12:00."),
    Case("available tomorrow", Available(1, None, None, None),
         "Thank you: you are available all day tomorrow."),
    Case("off tomorrow", Available(1, None, off=True), "Noted: you are off tomorrow."),
    Case("Today off", Available(0, None, off=True), "Noted: you are off today."),
    Case("Saturday 10:00-15:00", Available(None, 5, T(10), T(15)), None),
    Case("sat 10-3pm", Available(None, 5, T(10), T(15)), None),
    Case("unavailable friday", Available(None, 4, off=True), None),
    Case("YES", Answer(True), "There is no request to answer at the moment. Thank you."),
    Case("no", Answer(False), "There is no request to answer at the moment. Thank you."),
    Case("tomorrow 5-2", NotAvailability("range_unclear"), _EN_HELP),
    Case("hello there", NotAvailability("not_availability"), _EN_HELP),
)
