"""When a no-fly zone applies: its ``limitedApplicability`` windows and the operator's switch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def zone_active_at(applicability: Sequence[Sequence[Any]], override: bool | None,
                   at: dt.datetime) -> bool:
    """True when the zone applies at ``at``: the operator's override wins; no windows = permanent."""
    if override is not None:
        return override
    if not applicability:
        return True
    return any(_window_contains(window, at) for window in applicability)


def zone_active_during(applicability: Sequence[Sequence[Any]], override: bool | None,
                       start: dt.datetime, end: dt.datetime) -> bool:
    """True when the zone applies at any moment of [start, end] (a plan must avoid it then)."""
    if override is not None:
        return override
    if not applicability:
        return True
    for begin_s, end_s in applicability:
        begin, finish = _parse(begin_s), _parse(end_s)
        if (begin is None or begin <= end) and (finish is None or finish >= start):
            return True
    return False


def _window_contains(window: Sequence[Any], at: dt.datetime) -> bool:
    begin, finish = _parse(window[0]), _parse(window[1])
    return (begin is None or begin <= at) and (finish is None or at <= finish)


def zone_validity_text(applicability: Sequence[Sequence[Any]], tz: ZoneInfo) -> str:
    """Human text for the windows in the region's timezone: "permanent" or "12-05 09:00–17:00"."""
    if not applicability:
        return "permanent"
    parts = []
    for begin_s, end_s in applicability:
        begin, finish = _parse(begin_s), _parse(end_s)
        left = begin.astimezone(tz).strftime("%Y-%m-%d %H:%M") if begin else "…"
        right = finish.astimezone(tz).strftime("%Y-%m-%d %H:%M") if finish else "…"
        parts.append(f"{left}–{right}")
    return ", ".join(parts)
