"""What a resident or proxy asks for, independent of how it arrived (SMS, web form, phone call).

The SMS parser (``sms/``) and the web forms (``web/``) translate their input into these; the
services in :mod:`dispatch.services` act on them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ItemRequest:
    name: str
    quantity: int
    unit: str | None = None


@dataclass(frozen=True)
class TimeWish:
    day_offset: int = 0  # 0 today, 1 tomorrow
    part: str = "any"  # morning | afternoon | evening | any


@dataclass(frozen=True)
class PlaceOrder:
    items: tuple[ItemRequest, ...]
    time_wish: TimeWish | None = None


@dataclass(frozen=True)
class AskStatus:
    pass


@dataclass(frozen=True)
class CancelOrder:
    number: int | None = None  # None: the latest open order


@dataclass(frozen=True)
class AskHelp:
    pass


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class OptIn:
    pass


@dataclass(frozen=True)
class NotUnderstood:
    reason: str
    language_hint: str = "ja"


@dataclass(frozen=True)
class OnBehalf:
    """A registered proxy acting for the resident with ``resident_code``."""

    resident_code: str
    request: Request


@dataclass(frozen=True)
class SetStanding:
    """A standing order: ``items`` every ``every_weeks`` weeks on ``weekday`` (0 = Monday)."""

    items: tuple[ItemRequest, ...]
    weekday: int
    every_weeks: int = 1
    part: str = "any"


@dataclass(frozen=True)
class ChangeStanding:
    """Pause (``paused``), resume (``active``) or stop (``stopped``) the standing orders."""

    state: str


@dataclass(frozen=True)
class AskStanding:
    pass


Request = (PlaceOrder | AskStatus | CancelOrder | AskHelp | OptOut | OptIn | NotUnderstood | OnBehalf
           | SetStanding | ChangeStanding | AskStanding)


# --------------------------------------------------------------------------- volunteers' texts


@dataclass(frozen=True)
class DeclareAvailability:
    """A volunteer's availability for one day: ``day_offset`` from today or the next ``weekday``
    (0 = Monday); ``start``/``end`` local clock times (None: the whole day); ``off``: not at all."""

    day_offset: int | None = 0
    weekday: int | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    off: bool = False

    def day(self, today: dt.date) -> dt.date:
        """The local day meant, seen from ``today``."""
        if self.weekday is not None:
            return today + dt.timedelta(days=(self.weekday - today.weekday()) % 7)
        return today + dt.timedelta(days=self.day_offset or 0)


@dataclass(frozen=True)
class AnswerCallOut:
    """Yes or no to the latest open call-out."""

    accept: bool


@dataclass(frozen=True)
class VolunteerNotUnderstood:
    reason: str


VolunteerRequest = DeclareAvailability | AnswerCallOut | VolunteerNotUnderstood
