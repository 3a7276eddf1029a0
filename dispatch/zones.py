"""When a no-fly zone applies: its ``limitedApplicability`` periods and the operator's switch.

A zone's ``applicability`` column holds its ED-318 time periods as JSON (written by
:mod:`dispatch.region.importer`, see :func:`stored_applicability`): each period is
``{"start": ISO | null, "end": ISO | null, "schedule": [daily period, ...], "sun": [lon, lat]}``,
a daily period ``{"days": ["mon", ...], "start": "16:00:00+00:00" | null, "start_event": "SR" |
null, "end": ..., "end_event": ..., "tz": "Asia/Tokyo"}``. A clock time written with an offset
(ED-318's ``16:00:00Z``) is read in that offset, and the day of the week is that offset's day
too; a time without an offset, and a sun event, are in ``tz`` (the region's time zone). Sun
events (sunrise SR, sunset SS, begin of morning / end of evening civil twilight BMCT / EECT) are
computed with ``astral`` at ``sun``, the zone's representative point. Rows written before
schedules existed hold ``[start, end]`` pairs; they are read as periods without a schedule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import astral
import astral.sun

from dispatch.weekdays import WEEKDAYS

Interval = tuple[dt.datetime, dt.datetime]
_EVENTS = {"BMCT": "dawn", "SR": "sunrise", "SS": "sunset", "EECT": "dusk"}
_DAY = dt.timedelta(days=1)


def stored_applicability(
    windows: Sequence[Any], timezone: str, sun: tuple[float, float]
) -> list[dict[str, Any]]:
    """The JSON form of :class:`dispatch.region.ZoneWindow` records (``sun`` = lon, lat)."""
    out = []
    for w in windows:
        out.append(
            {
                "start": w.start.isoformat() if w.start else None,
                "end": w.end.isoformat() if w.end else None,
                "schedule": [
                    {
                        "days": list(p.days),
                        "start": p.start.isoformat() if p.start else None,
                        "start_event": p.start_event,
                        "end": p.end.isoformat() if p.end else None,
                        "end_event": p.end_event,
                        "tz": timezone,
                    }
                    for p in w.schedule
                ],
                "sun": [round(sun[0], 6), round(sun[1], 6)],
            }
        )
    return out


def zone_active_at(applicability: Sequence[Any], override: bool | None, at: dt.datetime) -> bool:
    """True when the zone applies at ``at``: the operator's override wins; no periods = permanent."""
    return zone_active_during(applicability, override, at, at)


def zone_active_during(
    applicability: Sequence[Any], override: bool | None, start: dt.datetime, end: dt.datetime
) -> bool:
    """True when the zone applies at any moment of [start, end] (a plan must avoid it then)."""
    if override is not None:
        return override
    if not applicability:
        return True
    return any(True for _ in active_intervals(applicability, start, end))


def active_intervals(
    applicability: Sequence[Any], start: dt.datetime, end: dt.datetime
) -> Iterator[Interval]:
    """The intervals during which the periods apply that meet [start, end] (closed)."""
    for raw in applicability:
        period = _period(raw)
        begin, finish = _instant(period.get("start")), _instant(period.get("end"))
        lo = start if begin is None else max(start, begin)
        hi = end if finish is None else min(end, finish)
        if lo > hi:
            continue
        schedule = period.get("schedule") or []
        if not schedule:
            yield lo, hi
            continue
        for daily in schedule:
            for a, b in _daily_intervals(daily, period.get("sun"), lo, hi):
                if a <= hi and b >= lo:
                    yield max(a, lo), min(b, hi)


def _period(raw: Any) -> Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return raw
    return {"start": raw[0], "end": raw[1]}  # a [start, end] pair written before schedules


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _daily_intervals(
    daily: Mapping[str, Any], sun: Sequence[float] | None, lo: dt.datetime, hi: dt.datetime
) -> Iterator[Interval]:
    """The daily period's intervals on each day from the day before ``lo`` to the day of ``hi``."""
    start = dt.time.fromisoformat(daily["start"]) if daily.get("start") else None
    end = dt.time.fromisoformat(daily["end"]) if daily.get("end") else None
    region = ZoneInfo(daily["tz"])
    reference = next((t.tzinfo for t in (start, end) if t is not None and t.tzinfo), region)
    day = lo.astimezone(reference).date() - _DAY
    last = hi.astimezone(reference).date()
    while day <= last:
        if WEEKDAYS[day.weekday()] in daily["days"]:
            begin = _bound(day, start, daily.get("start_event"), region, sun, dt.time(0))
            finish = _bound(day, end, daily.get("end_event"), region, sun, None)
            if begin is not None and finish is not None:
                if finish <= begin:
                    finish += _DAY  # e.g. 22:00-06:00, or SS-SR: runs into the next morning
                yield begin, finish
        day += _DAY


def _bound(
    day: dt.date,
    clock: dt.time | None,
    event: str | None,
    region: ZoneInfo,
    sun: Sequence[float] | None,
    default: dt.time | None,
) -> dt.datetime | None:
    """One end of a daily period on ``day``: its clock time, its sun event, or the day's edge
    (``default`` midnight at the start, the next midnight at the end when ``None``)."""
    if clock is not None:
        return dt.datetime.combine(day, clock.replace(tzinfo=None), clock.tzinfo or region)
    if event is not None:
        if sun is None:
            raise ValueError(f"sun event {event} needs the zone's position")
        observer = astral.Observer(latitude=sun[1], longitude=sun[0])
        try:
            return astral.sun.sun(observer, date=day, tzinfo=region)[_EVENTS[event]]
        except ValueError:  # no such event that day (polar day or night): the period does not occur
            return None
    if default is not None:
        return dt.datetime.combine(day, default, region)
    return dt.datetime.combine(day + _DAY, dt.time(0), region)


def zone_validity_text(applicability: Sequence[Any], tz: ZoneInfo) -> str:
    """Text for the periods in the region's timezone: "permanent", "2026-12-05 09:00–17:00", or
    with a schedule "… mon tue 16:00–17:00" (day codes and ED-318 sun event codes, which the web
    translates word by word)."""
    if not applicability:
        return "permanent"
    parts = []
    for raw in applicability:
        period = _period(raw)
        begin, finish = _instant(period.get("start")), _instant(period.get("end"))
        text = ""
        if begin or finish:
            left = begin.astimezone(tz).strftime("%Y-%m-%d %H:%M") if begin else "…"
            right = finish.astimezone(tz).strftime("%Y-%m-%d %H:%M") if finish else "…"
            text = f"{left}–{right}"
        for daily in period.get("schedule") or []:
            text = f"{text} {_daily_text(daily, tz)}".strip()
        parts.append(text)
    return ", ".join(parts)


def _daily_text(daily: Mapping[str, Any], tz: ZoneInfo) -> str:
    days = "daily" if len(daily["days"]) == 7 else " ".join(daily["days"])
    ends = []
    for side in ("start", "end"):
        if daily.get(side):
            clock = dt.time.fromisoformat(daily[side])
            if clock.tzinfo is not None:  # shown in the region's time (on a winter day: no DST in Japan)
                clock = dt.datetime.combine(dt.date(2026, 1, 5), clock).astimezone(tz).time()
            ends.append(clock.strftime("%H:%M"))
        else:
            ends.append(daily.get(f"{side}_event") or ("00:00" if side == "start" else "24:00"))
    return f"{days} {ends[0]}–{ends[1]}"
