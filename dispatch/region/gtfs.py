"""The region's community-bus timetable: a GTFS / GTFS-JP feed in ``gtfs/`` (issue 20, item 3).

Read with gtfs-kit (``gtfs_kit.read_feed``), which handles what published feeds bring (a
byte-order mark, CRLF, GTFS-JP's extra files such as ``agency_jp.txt`` that it ignores).
Only what parcels need is kept: per trip its route, its service (the calendar rule with its
exceptions, applied to the day being planned: ``compute_trip_activity`` would list the dates
but takes seconds for a two-year feed), and its calls (stop, place, times as ``HH:MM:SS`` of the service day,
which GTFS allows past 24:00).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path


class GtfsError(ValueError):
    """The feed cannot be read; the message says which file or field."""


@dataclass(frozen=True)
class FeedCall:
    stop_id: str
    name: str
    lon: float
    lat: float
    arrival: str  # HH:MM:SS of the service day (may exceed 24:00:00)
    departure: str


@dataclass(frozen=True)
class Service:
    """When a GTFS ``service_id`` runs: ``calendar.txt``'s weekdays between two dates, and
    ``calendar_dates.txt``'s exceptions (dates added, dates removed)."""

    weekdays: tuple[int, ...] = ()  # 0 = Monday
    start: dt.date | None = None
    end: dt.date | None = None
    added: tuple[dt.date, ...] = ()
    removed: tuple[dt.date, ...] = ()

    def runs_on(self, day: dt.date) -> bool:
        if day in self.removed:
            return False
        if day in self.added:
            return True
        return (
            self.start is not None
            and self.end is not None
            and self.start <= day <= self.end
            and day.weekday() in self.weekdays
        )

    def to_json(self) -> dict[str, object]:
        return {
            "weekdays": list(self.weekdays),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "added": [d.isoformat() for d in self.added],
            "removed": [d.isoformat() for d in self.removed],
        }

    @classmethod
    def from_json(cls, value: dict[str, object]) -> Service:
        def day(v: object) -> dt.date | None:
            return dt.date.fromisoformat(str(v)) if v else None

        return cls(
            tuple(value.get("weekdays") or ()),
            day(value.get("start")),
            day(value.get("end")),  # type: ignore[arg-type]
            tuple(dt.date.fromisoformat(str(d)) for d in value.get("added") or ()),  # type: ignore[attr-defined]
            tuple(dt.date.fromisoformat(str(d)) for d in value.get("removed") or ()),
        )  # type: ignore[attr-defined]


_WEEKDAY_COLUMNS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _date(text: object) -> dt.date:
    value = str(text)
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _services(feed: object) -> dict[str, Service]:
    """Each ``service_id``'s calendar and exceptions (GTFS: exception_type 1 added, 2 removed)."""
    rules: dict[str, dict[str, object]] = {}
    calendar = getattr(feed, "calendar", None)
    if calendar is not None:
        for r in calendar.to_dict("records"):
            rules[r["service_id"]] = {
                "weekdays": tuple(i for i, c in enumerate(_WEEKDAY_COLUMNS) if int(r[c]) == 1),
                "start": _date(r["start_date"]),
                "end": _date(r["end_date"]),
            }
    exceptions = getattr(feed, "calendar_dates", None)
    if exceptions is not None:
        for r in exceptions.to_dict("records"):
            rule = rules.setdefault(r["service_id"], {})
            key = "added" if int(r["exception_type"]) == 1 else "removed"
            rule[key] = (*rule.get(key, ()), _date(r["date"]))  # type: ignore[misc]
    return {sid: Service(**rule) for sid, rule in rules.items()}  # type: ignore[arg-type]


@dataclass(frozen=True)
class FeedTrip:
    trip_id: str
    route_id: str
    route_name: str
    service: Service
    calls: tuple[FeedCall, ...]


def read_trips(folder: Path) -> dict[str, FeedTrip]:
    """Every trip of the feed in ``folder`` by ``trip_id``."""
    import gtfs_kit

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' and gtfs-kit's deprecation notes are not ours
            feed = gtfs_kit.read_feed(folder, dist_units="km")
    except (ValueError, KeyError, OSError) as error:
        raise GtfsError(f"not a readable GTFS feed ({error})") from error
    if feed.stops is None or feed.trips is None or feed.stop_times is None or feed.routes is None:
        raise GtfsError("a GTFS feed needs stops.txt, routes.txt, trips.txt and stop_times.txt")
    stops = {
        r.stop_id: (str(r.stop_name), float(r.stop_lon), float(r.stop_lat))
        for r in feed.stops.itertuples(index=False)
    }
    routes = {
        r.route_id: str(r.route_long_name if isinstance(r.route_long_name, str) else r.route_short_name)
        for r in feed.routes.itertuples(index=False)
    }
    services = _services(feed)
    calls: dict[str, list[FeedCall]] = {}
    times = feed.stop_times.sort_values(["trip_id", "stop_sequence"])
    for r in times.itertuples(index=False):
        if r.stop_id not in stops:
            raise GtfsError(
                f"stop_times.txt: trip {r.trip_id!r} calls at stop {r.stop_id!r}, not in stops.txt"
            )
        name, lon, lat = stops[r.stop_id]
        calls.setdefault(r.trip_id, []).append(
            FeedCall(str(r.stop_id), name, lon, lat, str(r.arrival_time), str(r.departure_time))
        )
    return {
        t.trip_id: FeedTrip(
            str(t.trip_id),
            str(t.route_id),
            routes.get(t.route_id, ""),
            services.get(t.service_id, Service()),
            tuple(calls.get(t.trip_id, ())),
        )
        for t in feed.trips.itertuples(index=False)
    }
