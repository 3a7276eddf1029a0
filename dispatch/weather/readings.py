"""Weather readings from their providers, stored per hub, and what they mean for a drone
(issue 14, item 2).

Providers, each turning its input into :class:`Reading` values (hourly or any period):

* ``manual``: an operator's entry on the operations page (:func:`record`);
* ``file``: a local CSV of observations or forecasts (:func:`parse_csv`), header
  ``starts_at,ends_at,wind_ms,gust_ms,precip_mmh,temp_c,visibility_m`` (ISO times with offset;
  an empty cell is unknown);
* ``open-meteo``: Open-Meteo's hourly forecast JSON (:func:`parse_open_meteo`).

``hakobu weather load`` stores a file's readings for a hub. A newer reading of a period wins over
an older one, so a manual entry corrects a forecast.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Drone, Hub, WeatherReading, utcnow
from dispatch.region.reader import RegionProblem
from dispatch.weather.limits import Weather, beyond_limits, drone_limits

FIELDS = ("wind_ms", "gust_ms", "precip_mmh", "temp_c", "visibility_m")


@dataclass(frozen=True)
class Reading:
    """Weather over ``[start, end)`` (aware instants)."""

    start: dt.datetime
    end: dt.datetime
    weather: Weather


class WeatherFileError(DomainError):
    """A weather file has problems (``problems``: file, row, field, message); nothing stored."""

    def __init__(self, problems: list[RegionProblem]) -> None:
        super().__init__("%(count)s problem(s) in the weather file; nothing stored", count=len(problems))
        self.problems = problems


# --- providers ------------------------------------------------------------------------------------


def parse_csv(name: str, text: str) -> list[Reading]:
    """The ``file`` provider: every row checked, all or nothing (:class:`WeatherFileError`)."""
    problems: list[RegionProblem] = []
    out = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("starts_at", "ends_at") if c not in (reader.fieldnames or [])]
    unknown = [c for c in reader.fieldnames or [] if c not in ("starts_at", "ends_at", *FIELDS)]
    for column in missing:
        problems.append(RegionProblem(name, 1, column, "required column is missing"))
    for column in unknown:
        problems.append(
            RegionProblem(
                name, 1, column, f"unknown column (expected starts_at, ends_at, {', '.join(FIELDS)})"
            )
        )
    if missing:
        raise WeatherFileError(problems)
    for record in reader:
        line = reader.line_num
        bad = len(problems)
        times = []
        for column in ("starts_at", "ends_at"):
            try:
                at = dt.datetime.fromisoformat((record.get(column) or "").strip())
                if at.tzinfo is None:
                    raise ValueError
                times.append(at)
            except ValueError:
                problems.append(
                    RegionProblem(
                        name, line, column, f"must be an ISO time with offset, got {record.get(column)!r}"
                    )
                )
        values: dict[str, float | None] = {}
        for column in FIELDS:
            cell = (record.get(column) or "").strip()
            try:
                values[column] = float(cell) if cell else None
                if values[column] is not None and not math.isfinite(values[column] or 0.0):
                    raise ValueError
            except ValueError:
                problems.append(RegionProblem(name, line, column, f"must be a number, got {cell!r}"))
        if len(times) == 2 and times[1] <= times[0]:
            problems.append(RegionProblem(name, line, "ends_at", "is not after starts_at"))
        if len(problems) == bad:
            out.append(Reading(times[0], times[1], Weather(**values)))
    if problems:
        raise WeatherFileError(problems)
    return out


#: Open-Meteo's hourly variables and the unit conversions to ours (value -> SI).
_OPEN_METEO = {
    "wind_speed_10m": "wind_ms",
    "wind_gusts_10m": "gust_ms",
    "precipitation": "precip_mmh",
    "temperature_2m": "temp_c",
    "visibility": "visibility_m",
}
_SPEED = {"m/s": 1.0, "km/h": 1 / 3.6, "kn": 0.514444, "mp/h": 0.44704}
_UNITS: dict[str, Mapping[str, float]] = {
    "wind_ms": _SPEED,
    "gust_ms": _SPEED,
    "precip_mmh": {"mm": 1.0},
    "temp_c": {"°C": 1.0},
    "visibility_m": {"m": 1.0},
}


def parse_open_meteo(name: str, text: str) -> list[Reading]:
    """The ``open-meteo`` provider: a ``/v1/forecast`` answer with ``hourly`` variables
    (``wind_speed_10m``, ``wind_gusts_10m``, ``precipitation``, ``temperature_2m``,
    ``visibility``; any subset). Local times are placed with ``utc_offset_seconds``; speeds in any
    of Open-Meteo's units become m/s; each hour's value covers that hour (precipitation is the sum
    over the preceding hour in Open-Meteo, which we read as the rate for the hour)."""

    def fail(field: str, message: str) -> WeatherFileError:
        return WeatherFileError([RegionProblem(name, 0, field, message)])

    try:
        data = json.loads(text)
    except ValueError as error:
        raise fail("(syntax)", f"not JSON: {error}") from None
    hourly, units = data.get("hourly"), data.get("hourly_units") or {}
    if not isinstance(hourly, dict) or not isinstance(hourly.get("time"), list):
        raise fail("hourly", "no hourly.time list (ask the API for hourly variables)")
    offset = dt.timezone(dt.timedelta(seconds=int(data.get("utc_offset_seconds", 0))))
    columns: dict[str, list[float | None]] = {}
    for source, ours in _OPEN_METEO.items():
        if source not in hourly:
            continue
        unit = units.get(source, next(iter(_UNITS[ours])))
        factor = _UNITS[ours].get(unit)
        if factor is None:
            raise fail(f"hourly_units.{source}", f"unit {unit!r} is not one of {', '.join(_UNITS[ours])}")
        values = hourly[source]
        if len(values) != len(hourly["time"]):
            raise fail(f"hourly.{source}", "not as long as hourly.time")
        columns[ours] = [None if v is None else float(v) * factor for v in values]
    out = []
    for k, stamp in enumerate(hourly["time"]):
        start = dt.datetime.fromisoformat(stamp).replace(tzinfo=offset)
        out.append(
            Reading(
                start,
                start + dt.timedelta(hours=1),
                Weather(**{ours: values[k] for ours, values in columns.items()}),
            )
        )
    return out


#: Provider name -> parser of a file's text.
PARSERS: dict[str, Callable[[str, str], list[Reading]]] = {"file": parse_csv, "open-meteo": parse_open_meteo}


# --- storing and reading back ---------------------------------------------------------------------


def record(
    db: Database,
    hub_id: str,
    readings: Iterable[Reading],
    source: str,
    actor: str,
    now: dt.datetime | None = None,
) -> int:
    """Store ``readings`` for the hub (one transaction); returns how many."""
    now = now or utcnow()
    count = 0
    with db.write() as session:
        if session.get(Hub, hub_id) is None:
            raise DomainError("hub %(hub)s does not exist", hub=hub_id)
        for r in readings:
            session.add(
                WeatherReading(
                    hub_id=hub_id,
                    source=source,
                    starts_at=r.start,
                    ends_at=r.end,
                    recorded_by=actor,
                    recorded_at=now,
                    **{f: getattr(r.weather, f) for f in FIELDS},
                )
            )
            count += 1
    return count


def readings_between(session: Session, hub_id: str, start: dt.datetime, end: dt.datetime) -> list[Reading]:
    """The hub's readings meeting ``[start, end)``, the newest first where periods overlap."""
    rows = session.scalars(
        select(WeatherReading)
        .where(
            WeatherReading.hub_id == hub_id, WeatherReading.starts_at < end, WeatherReading.ends_at > start
        )
        .order_by(WeatherReading.recorded_at.desc(), WeatherReading.starts_at)
    )
    return [Reading(r.starts_at, r.ends_at, Weather(**{f: getattr(r, f) for f in FIELDS})) for r in rows]


@dataclass(frozen=True)
class NoGo:
    """A period the drone may not fly in, with the first limit the weather breaks."""

    start: dt.datetime
    end: dt.datetime
    quantity: str
    value: float
    limit: float


def no_go(session: Session, drone: Drone, start: dt.datetime, end: dt.datetime) -> list[NoGo]:
    """The periods of ``[start, end)`` forecast or observed beyond the drone's limits, in time
    order (where readings overlap, only the newest counts)."""
    limits = drone_limits(drone)
    covered: list[tuple[dt.datetime, dt.datetime]] = []
    out = []
    for r in readings_between(session, drone.hub_id, start, end):
        if any(a <= r.start and r.end <= b for a, b in covered):
            continue  # a newer reading already speaks for this period
        covered.append((r.start, r.end))
        broken = beyond_limits(r.weather, limits)
        if broken:
            quantity, value, limit = broken[0]
            out.append(NoGo(max(r.start, start), min(r.end, end), quantity, value, limit))
    return sorted(out, key=lambda n: n.start)


def local_hhmm(at: dt.datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%H:%M")
