"""The ED-318 parts of a zone's properties: localised texts, authorities, time periods, layers.

Field types follow the standard's published JSON Schema (EUROCAE ED-318 / EUROCONTROL
"UASGeoZones", ``schema/`` at commit e98b292c; ``../shared/ed318/official_examples/schema``):

- ``name``, ``otherReasonInfo``, ``message`` and an authority's ``name``, ``service`` and
  ``contactName`` are arrays of ``textShortType`` ``{"text": ..., "lang": ...}`` (``lang``
  required, at most 5 characters; ``text`` at most 200) — ``Schema_GeoZoneProperties.json``,
  ``Schema_GeoZoneAuthority.json``, ``Schema_GeoZoneDataTypes.json#/definitions/textShortType``;
- ``zoneAuthority`` is an array of authorities whose ``purpose`` is AUTHORIZATION, NOTIFICATION or
  INFORMATION (``authorityRole``), with optional ``siteURL``, ``email``, ``phone``,
  ``intervalBefore`` (an ISO 8601 duration);
- ``limitedApplicability`` is an array of ``timePeriod`` ``{startDateTime, endDateTime,
  schedule}`` (``Schema_GeoZoneTimePeriod.json``); each ``dailyPeriod`` of ``schedule`` has
  ``day``, an array of MON..SUN or ANY (``weekDayType``), and a start and an end given either as
  ``startTime``/``endTime`` (JSON Schema ``format: time``, i.e. RFC 3339 ``16:00:00Z``) or as
  ``startEvent``/``endEvent``, a ``daylightEventType``: BMCT (begin of morning civil twilight),
  SR (sunrise), SS (sunset), EECT (end of evening civil twilight);
- a geometry's ``layer`` is ``{upper, upperReference, lower, lowerReference, uom}`` with references
  AGL, AMSL or WGS84 and ``uom`` m (the default) or ft (``Schema_LayeredGeoJSON.json``).

Real publications deviate (a plain string for a name, one period as an object, ``day`` as a
string), so where the meaning is clear the reader accepts it; where it is not, it names the
field. Hakobu's own profile (a plain ``name`` string, windows without a schedule) stays valid. A
time of day written without an offset (``"09:00"``) is taken as the region's local time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Reports a problem: (field, message).
Bad = Callable[[str, str], None]

WEEK_DAY_CODES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
DAY_CODES = (*WEEK_DAY_CODES, "ANY")
SUN_EVENTS = ("BMCT", "SR", "SS", "EECT")
AUTHORITY_PURPOSES = ("AUTHORIZATION", "NOTIFICATION", "INFORMATION")
VERTICAL_REFERENCES = ("AGL", "AMSL", "WGS84")
REASONS = (
    "AIR_TRAFFIC",
    "SENSITIVE",
    "PRIVACY",
    "POPULATION",
    "NATURE",
    "NOISE",
    "EMERGENCY",
    "DAR",
    "OTHER",
)
_FEET = 0.3048
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?", re.IGNORECASE)


@dataclass(frozen=True)
class LocalText:
    """A ``textShortType``: a text and its language tag (``ja-JP``, ``en``)."""

    text: str
    lang: str


@dataclass(frozen=True)
class Authority:
    """One ``zoneAuthority`` entry: who to ask or tell about flying in the zone."""

    purpose: str  # AUTHORIZATION | NOTIFICATION | INFORMATION
    name: tuple[LocalText, ...] = ()
    service: tuple[LocalText, ...] = ()
    contact_name: tuple[LocalText, ...] = ()
    email: str = ""
    phone: str = ""
    site_url: str = ""
    interval_before: str = ""  # ISO 8601 duration, e.g. P2D: ask this long before the flight


@dataclass(frozen=True)
class DailyPeriod:
    """One ``dailyPeriod``: on ``days`` (``mon``..``sun``), from a start to an end.

    A start or end is a clock time (``dt.time``; its ``tzinfo`` is the offset written, ``None`` for
    the region's local time) or a sun event (BMCT, SR, SS, EECT). An end before the start runs
    past midnight into the next day. Neither given = the whole day.
    """

    days: tuple[str, ...]
    start: dt.time | None = None
    start_event: str | None = None
    end: dt.time | None = None
    end_event: str | None = None


@dataclass(frozen=True)
class ZoneWindow:
    """One ``timePeriod``: from ``start`` to ``end`` (``None`` = open-ended, aware datetimes) and,
    within it, only during the ``schedule``'s daily periods (none = all the time)."""

    start: dt.datetime | None
    end: dt.datetime | None
    schedule: tuple[DailyPeriod, ...] = ()


@dataclass(frozen=True)
class Layer:
    """A vertical ``layer`` in metres (feet converted); ``None`` = unbounded on that side."""

    lower_m: float | None
    upper_m: float | None
    lower_reference: str | None = None  # AGL | AMSL | WGS84
    upper_reference: str | None = None


def pick(texts: Sequence[LocalText], language: str) -> str:
    """The text in ``language`` (``ja`` matches ``ja-JP``), else the first one, else ``""``."""
    for text in texts:
        if text.lang.lower().split("-")[0].split("_")[0] == language.lower():
            return text.text
    return texts[0].text if texts else ""


def local_texts(bad: Bad, name: str, raw: Any, limit: int = 200) -> tuple[LocalText, ...]:
    """A list of ``{text, lang}`` (a single object, or a plain string in ``und``, is accepted)."""
    if raw is None or raw == "" or raw == []:
        return ()
    if isinstance(raw, str):
        return (LocalText(raw.strip(), "und"),)
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        bad(name, f'must be a list of {{"text", "lang"}} objects, got {raw!r}')
        return ()
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("text", ""), str):
            bad(name, f'each entry must be {{"text": string, "lang": string}}, got {item!r}')
            continue
        lang = item.get("lang")
        if not isinstance(lang, str) or not 0 < len(lang) <= 5:
            bad(name, f"lang must be a language tag of at most 5 characters such as ja-JP, got {lang!r}")
            continue
        text = item.get("text", "").strip()
        if len(text) > limit:
            bad(name, f"text is longer than {limit} characters ({len(text)})")
            continue
        if text:
            out.append(LocalText(text, lang))
    return tuple(out)


def reasons(bad: Bad, raw: Any) -> tuple[str, ...]:
    """``reason``: a list of ``zoneReason`` codes (:data:`REASONS`). A single string and free text
    are accepted, as Hakobu's profile always allowed; the codes are shown, not acted upon."""
    if raw is None or raw == "":
        return ()
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        bad("reason", f"must be a string or a list of strings such as {REASONS[0]}, got {raw!r}")
        return ()
    return tuple(values)


def authorities(bad: Bad, raw: Any) -> tuple[Authority, ...]:
    """``zoneAuthority``: a list of authorities (one object is accepted), each with a ``purpose``."""
    if raw is None:
        return ()
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        bad("zoneAuthority", f"must be a list of authorities, got {raw!r}")
        return ()
    out = []
    for item in raw:
        if not isinstance(item, dict):
            bad("zoneAuthority", f"an authority must be an object, got {item!r}")
            continue
        purpose = item.get("purpose")
        if purpose not in AUTHORITY_PURPOSES:
            bad("zoneAuthority", f"purpose must be one of {', '.join(AUTHORITY_PURPOSES)}, got {purpose!r}")
            continue
        strings = {}
        for key in ("email", "phone", "siteURL", "intervalBefore"):
            value = item.get(key, "")
            if not isinstance(value, str):
                bad("zoneAuthority", f"{key} must be a string, got {value!r}")
                value = ""
            strings[key] = value.strip()
        out.append(
            Authority(
                purpose=purpose,
                name=local_texts(bad, "zoneAuthority", item.get("name")),
                service=local_texts(bad, "zoneAuthority", item.get("service")),
                contact_name=local_texts(bad, "zoneAuthority", item.get("contactName")),
                email=strings["email"],
                phone=strings["phone"],
                site_url=strings["siteURL"],
                interval_before=strings["intervalBefore"],
            )
        )
    return tuple(out)


# ------------------------------------------------------------------------------ time periods
def applicability(bad: Bad, raw: Any) -> tuple[ZoneWindow, ...]:
    """``limitedApplicability``: a list of time periods (one object is accepted)."""
    if raw is None:
        return ()
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        bad("limitedApplicability", f"must be a list of time periods, got {raw!r}")
        return ()
    windows = []
    for period in raw:
        if not isinstance(period, dict):
            bad("limitedApplicability", f"a time period must be an object, got {period!r}")
            continue
        unknown = sorted(set(period) - {"startDateTime", "endDateTime", "schedule"})
        if unknown:
            bad(
                "limitedApplicability",
                f"unknown member {unknown[0]!r} (expected startDateTime, endDateTime, schedule)",
            )
            continue
        start = _aware(bad, period.get("startDateTime"))
        end = _aware(bad, period.get("endDateTime"))
        schedule = _schedule(bad, period.get("schedule"))
        if (
            period.get("startDateTime") is None
            and period.get("endDateTime") is None
            and not period.get("schedule")
        ):
            bad("limitedApplicability", "a time period needs startDateTime, endDateTime or a schedule")
        elif start and end and end <= start:
            bad(
                "limitedApplicability",
                f"endDateTime {end.isoformat()} is not after startDateTime {start.isoformat()}",
            )
        windows.append(ZoneWindow(start, end, schedule))
    return tuple(windows)


def _aware(bad: Bad, raw: Any) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None:
        bad("limitedApplicability", f"{raw!r} is not an ISO 8601 date-time")
    elif value.tzinfo is None:
        bad("limitedApplicability", f"{raw!r} has no UTC offset (write e.g. 2026-12-05T09:00+09:00)")
        return None
    return value


def _schedule(bad: Bad, raw: Any) -> tuple[DailyPeriod, ...]:
    if raw is None:
        return ()
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        bad("limitedApplicability", f"schedule must be a list of daily periods, got {raw!r}")
        return ()
    periods = []
    for item in raw:
        period = _daily_period(bad, item)
        if period is not None:
            periods.append(period)
    return tuple(periods)


def _daily_period(bad: Bad, raw: Any) -> DailyPeriod | None:
    if not isinstance(raw, dict):
        bad("limitedApplicability", f"a daily period must be an object, got {raw!r}")
        return None
    unknown = sorted(set(raw) - {"day", "startTime", "startEvent", "endTime", "endEvent"})
    if unknown:
        bad(
            "limitedApplicability",
            f"unknown member {unknown[0]!r} in a daily period (expected day, "
            "startTime or startEvent, endTime or endEvent)",
        )
        return None
    reported: list[str] = []

    def note(name: str, message: str) -> None:
        reported.append(message)
        bad(name, message)

    days = _days(note, raw.get("day"))
    ends = []
    for side in ("start", "end"):
        clock, event = raw.get(f"{side}Time"), raw.get(f"{side}Event")
        if clock is not None and event is not None:
            note("limitedApplicability", f"give {side}Time or {side}Event, not both")
        ends.append((_clock(note, f"{side}Time", clock), _event(note, f"{side}Event", event)))
    if reported or days is None:
        return None
    (start, start_event), (end, end_event) = ends
    return DailyPeriod(days, start, start_event, end, end_event)


def _days(bad: Bad, raw: Any) -> tuple[str, ...] | None:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        bad("limitedApplicability", f"day must be a list of {', '.join(DAY_CODES)}, got {raw!r}")
        return None
    codes = [v.strip().upper() for v in values]
    unknown = [c for c in codes if c not in DAY_CODES]
    if unknown:
        bad("limitedApplicability", f"unknown day {unknown[0]!r} (expected {', '.join(DAY_CODES)})")
        return None
    if "ANY" in codes:
        return tuple(c.lower() for c in WEEK_DAY_CODES)
    return tuple(c.lower() for c in WEEK_DAY_CODES if c in codes)


def _clock(bad: Bad, name: str, raw: Any) -> dt.time | None:
    """A time of day, aware when an offset is written (``Z``, ``+09:00``)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not _TIME.fullmatch(raw.strip()):
        bad("limitedApplicability", f'{name} must be a time such as "16:00:00Z", got {raw!r}')
        return None
    return dt.time.fromisoformat(raw.strip().upper())


def _event(bad: Bad, name: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if raw not in SUN_EVENTS:
        bad("limitedApplicability", f"{name} must be one of {', '.join(SUN_EVENTS)}, got {raw!r}")
        return None
    return str(raw)


# ----------------------------------------------------------------------------------- layers
def layer(bad: Bad, raw: Any) -> Layer | None:
    """A geometry's vertical ``layer`` in metres; ``None`` when absent or reported."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        bad("layer", f"must be an object with lower, upper and uom, got {raw!r}")
        return None
    uom = raw.get("uom", "m")
    if uom not in ("m", "ft"):
        bad("layer", f'uom must be "m" or "ft", got {uom!r}')
        return None
    scale = _FEET if uom == "ft" else 1.0
    values: list[float | None] = []
    for key in ("lower", "upper"):
        value = raw.get(key)
        if value is None:
            values.append(None)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            bad("layer", f"{key} must be a number, got {value!r}")
            return None
        else:
            values.append(float(value) * scale)
    references = []
    for key in ("lowerReference", "upperReference"):
        value = raw.get(key)
        if value is not None and value not in VERTICAL_REFERENCES:
            bad("layer", f"{key} must be one of {', '.join(VERTICAL_REFERENCES)}, got {value!r}")
            return None
        references.append(value)
    lower, upper = values
    if lower is not None and upper is not None and upper < lower:
        bad("layer", f"upper {raw['upper']} is below lower {raw['lower']}")
        return None
    return Layer(lower, upper, references[0], references[1])


def envelope(layers: Sequence[Layer]) -> tuple[float | None, float | None]:
    """(lowest lower, highest upper) of the layers, ``None`` where any layer is unbounded."""
    if not layers:
        return None, None
    lowers = [x.lower_m for x in layers if x.lower_m is not None]
    uppers = [x.upper_m for x in layers if x.upper_m is not None]
    return (
        min(lowers) if len(lowers) == len(layers) else None,
        max(uppers) if len(uppers) == len(layers) else None,
    )
