"""Standing-order and proxy texts, Japanese and English, each with the command it must parse to
and the exact answer the sender gets, in the order of one conversation (the answers depend on
what the earlier texts set). ``{tue}``, ``{fri}`` … stand for the first such weekday after today
as the reply writes it (明日 / 12月8日, tomorrow / on Dec 08)."""

from __future__ import annotations

from dataclasses import dataclass

from sms.parser import Command, Item, Proxy, Standing, StandingChange, StandingStatus, Unparseable


@dataclass(frozen=True)
class Case:
    sender: str  # "resident", "proxy" (registered for the resident) or "stranger"
    text: str
    reading: Command
    reply: str
    review: bool = False  # kept for an operator


JA: tuple[Case, ...] = (
    Case("resident", "定期", StandingStatus(), "定期便の登録はありません。例: 定期 米2 毎週火曜"),
    Case(
        "resident",
        "定期 米2 毎週火曜",
        Standing((Item("米", 2),), 1),
        "定期便を登録しました: 毎週火曜 米×2。初回は{tue}です。",
    ),
    Case("resident", "定期 確認", StandingStatus(), "定期便: 毎週火曜 米×2。次回は{tue}です。"),
    Case(
        "resident",
        "定期 休み",
        StandingChange("paused"),
        "定期便(1件)を休止しました。再開は「定期 再開」と送ってください。",
    ),
    Case(
        "resident",
        "定期",
        StandingStatus(),
        "定期便は休止中です: 毎週火曜 米×2。再開は「定期 再開」と送ってください。",
    ),
    Case("resident", "定期 再開", StandingChange("active"), "定期便(1件)を再開しました。"),
    Case(
        "resident",
        "定期 米2",
        Unparseable("standing_without_weekday", "ja"),
        "定期便の例: 定期 米2 毎週火曜 / 定期 休み / 定期 再開 / 定期 終了 と送ってください。",
        review=True,
    ),
    Case(
        "resident",
        "定期 米2 明日 火曜",
        Unparseable("standing_day_word: 明日", "ja"),
        "定期便の例: 定期 米2 毎週火曜 / 定期 休み / 定期 再開 / 定期 終了 と送ってください。",
        review=True,
    ),
    Case("resident", "定期 終了", StandingChange("stopped"), "定期便(1件)を終了しました。"),
    Case(
        "resident", "定期 終了", StandingChange("stopped"), "定期便の登録はありません。例: 定期 米2 毎週火曜"
    ),
    Case(
        "proxy",
        "代理 R2 定期 牛乳1本 隔週金曜 午前",
        Proxy("R2", Standing((Item("牛乳", 1, "本"),), 4, 2, "morning")),
        "定期便を登録しました: 2週ごとの金曜 牛乳×1本。初回は{fri}です。",
    ),
    Case(
        "proxy",
        "代理 R2 定期 休止",
        Proxy("R2", StandingChange("paused")),
        "定期便(1件)を休止しました。再開は「定期 再開」と送ってください。",
    ),
    Case(
        "proxy",
        "代理 R9 定期 米2 毎週火曜",
        Proxy("R9", Standing((Item("米", 2),), 1)),
        "利用者番号R9が見つかりません。番号をご確認ください。",
        review=True,
    ),
    Case(
        "stranger",
        "代理 R2 定期 米2 毎週火曜",
        Proxy("R2", Standing((Item("米", 2),), 1)),
        "この番号からR2さんの代理注文はできません。ハブにご相談ください。",
        review=True,
    ),
)

EN: tuple[Case, ...] = (
    Case(
        "resident",
        "REGULAR",
        StandingStatus(),
        "You have no regular order. Example: REGULAR rice 2 every Tuesday",
    ),
    Case(
        "resident",
        "REGULAR rice 2 every other friday morning",
        Standing((Item("rice", 2),), 4, 2, "morning"),
        "Regular order: rice x2, every 2 weeks on Friday, first {fri}.",
    ),
    Case(
        "resident",
        "REGULAR STATUS",
        StandingStatus(),
        "Regular order: rice x2, every 2 weeks on Friday, next {fri}.",
    ),
    Case(
        "resident",
        "REGULAR PAUSE",
        StandingChange("paused"),
        "Your regular order(s) (1) are paused. Text REGULAR RESUME to resume.",
    ),
    Case(
        "resident",
        "regular",
        StandingStatus(),
        "Paused: rice x2, every 2 weeks on Friday. REGULAR RESUME resumes it.",
    ),
    Case("resident", "Regular resume", StandingChange("active"), "Your regular order(s) (1) are on again."),
    Case(
        "resident",
        "WEEKLY rice 2 monday wednesday",
        Unparseable("standing_two_weekdays", "en"),
        "Regular orders: REGULAR rice 2 every Tuesday / REGULAR PAUSE / RESUME / STOP",
        review=True,
    ),
    Case("resident", "REGULAR STOP", StandingChange("stopped"), "Your regular order(s) (1) are stopped."),
    Case(
        "proxy",
        "FOR R3 WEEKLY milk 1 every 3 weeks on monday",
        Proxy("R3", Standing((Item("milk", 1),), 0, 3)),
        "Regular order: milk x1, every 3 weeks on Monday, first {mon}.",
    ),
    Case(
        "proxy",
        "FOR R3 REGULAR",
        Proxy("R3", StandingStatus()),
        "Regular order: milk x1, every 3 weeks on Monday, next {mon}.",
    ),
    Case(
        "stranger",
        "FOR R3 REGULAR STOP",
        Proxy("R3", StandingChange("stopped")),
        "This number may not order for R3. Please contact the hub.",
        review=True,
    ),
)
