"""Scenario files: TOML read with :mod:`tomllib`, checked strictly before anything runs.

Every problem is collected (not just the first) and named by its key path and line, e.g.
``line 7: drones.add[0].count: must be an integer from 1 to 50, got 0``. Checks against the
database (unknown hub, volunteer or zone codes, a base day without orders) come from
:func:`dispatch.studies.scenarios.check_against_database`, with the same key/line naming.
The format is documented in docs/planners.md.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dispatch.errors import DomainError

Path_ = tuple[str | int, ...]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MODES = ("walk", "bicycle", "car")
ZONE_TYPES = ("PROHIBITED", "REQ_AUTHORIZATION", "CONDITIONAL")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ScenarioError(DomainError):
    """The scenario file is wrong; ``problems`` lists every problem, each naming key and line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Scenario:
    """A checked scenario: the parsed document plus where each key is, for later messages."""

    data: dict[str, Any]
    lines: dict[Path_, int] = field(default_factory=dict)
    source: str = "<scenario>"

    @property
    def name(self) -> str:
        return str(self.data.get("name") or "scenario")

    @property
    def date(self) -> dt.date:
        value = self.data["base"]["date"]
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)

    @property
    def hub(self) -> str | None:
        value = self.data["base"].get("hub")
        return str(value) if value else None

    def where(self, path: Path_) -> str:
        """``line N: a.b[0].c`` (the nearest known line of the path or its parents)."""
        for k in range(len(path), 0, -1):
            if path[:k] in self.lines:
                return f"line {self.lines[path[:k]]}: {dotted(path)}"
        return dotted(path)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# --- where keys are --------------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"]+(?:\s*\.\s*[A-Za-z0-9_\-\"]+)*)\s*=")


def key_lines(text: str) -> dict[Path_, int]:
    """Map each key path to the line where it is set (tables: their header line).

    A line scanner, not a parser (tomllib has already accepted the text): it knows table headers,
    arrays of tables (counted, so ``drones.add[1]`` is the second ``[[drones.add]]``), dotted keys and
    skips the inside of multi-line strings and arrays well enough for error messages.
    """
    lines: dict[Path_, int] = {}
    counts: dict[Path_, int] = {}
    table: Path_ = ()
    depth = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0] if '"' not in raw and "'" not in raw else raw
        if depth > 0:
            depth += line.count("[") - line.count("]")
            continue
        header = _HEADER.match(raw)
        if header and not _KEY.match(raw):
            parts: Path_ = tuple(p.strip().strip('"') for p in header.group(2).split("."))
            if header.group(1) == "[[":
                index = counts.get(parts, 0)
                counts[parts] = index + 1
                table = (*parts, index)
            else:
                table = parts
            lines.setdefault(table, number)
            lines.setdefault(parts, number)
            continue
        key = _KEY.match(line)
        if key:
            parts = tuple(p.strip().strip('"') for p in key.group(1).split("."))
            lines.setdefault((*table, *parts), number)
            value = line[key.end():]
            depth = value.count("[") - value.count("]")
            depth = max(depth, 0)
    return lines


# --- checks ------------------------------------------------------------------------------------------

Check = Callable[[Any], str | None]  # None when fine, else what is wrong


def integer(lo: int, hi: int) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            return f"must be an integer from {lo} to {hi}, got {v!r}"
        return None
    return check


def number(lo: float, hi: float, *, open_lo: bool = False) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or v > hi or v < lo or (open_lo and v == lo):
            return f"must be a number {'>' if open_lo else '>='} {lo:g} and <= {hi:g}, got {v!r}"
        return None
    return check


def text(max_len: int = 200) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, str) or not v.strip() or len(v) > max_len:
            return f"must be a non-empty text of at most {max_len} characters, got {v!r}"
        return None
    return check


def choice(options: tuple[str, ...]) -> Check:
    def check(v: Any) -> str | None:
        return None if v in options else f"must be one of {', '.join(options)}, got {v!r}"
    return check


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {v!r}"


def clock(v: Any) -> str | None:
    return None if isinstance(v, str) and _HHMM.match(v) else f"must be a local time \"HH:MM\", got {v!r}"


def clocks(v: Any) -> str | None:
    if not isinstance(v, list) or not v or len(v) > 12:
        return f"must be a list of 1 to 12 local times \"HH:MM\", got {v!r}"
    bad = [c for c in v if clock(c)]
    if bad:
        return f"has times that are not \"HH:MM\": {bad!r}"
    return None


def texts(v: Any) -> str | None:
    if not isinstance(v, list) or any(not isinstance(x, str) or not x for x in v):
        return f"must be a list of codes (texts), got {v!r}"
    return None


def weekdays(v: Any) -> str | None:
    if not isinstance(v, list) or not v or any(d not in WEEKDAYS for d in v):
        return f"must be a non-empty list of {', '.join(WEEKDAYS)}, got {v!r}"
    return None


def a_date(v: Any) -> str | None:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return None
    if isinstance(v, str):
        try:
            dt.date.fromisoformat(v)
            return None
        except ValueError:
            pass
    return f"must be a date like 2026-03-03, got {v!r}"


def lon(v: Any) -> str | None:
    return number(-180, 180)(v)


def lat(v: Any) -> str | None:
    return number(-90, 90)(v)


def polygon(v: Any) -> str | None:
    ok = (isinstance(v, list) and len(v) >= 3 and all(
        isinstance(p, list) and len(p) == 2 and not lon(p[0]) and not lat(p[1]) for p in v))
    return None if ok else f"must be a list of at least 3 [lon, lat] points, got {v!r}"


def int_list(lo: int, hi: int) -> Check:
    def check(v: Any) -> str | None:
        if (not isinstance(v, list) or not v or len(v) > 20
                or any(isinstance(x, bool) or not isinstance(x, int) or not lo <= x <= hi for x in v)):
            return f"must be a list of 1 to 20 integers from {lo} to {hi}, got {v!r}"
        return None
    return check


DRONE_FIELDS: dict[str, Check] = {
    "model": text(100), "payload_kg": number(0, 50, open_lo=True), "range_km": number(0, 200, open_lo=True),
    "cruise_kmh": number(0, 200, open_lo=True), "turnaround_min": number(0, 240),
}
VOLUNTEER_FIELDS: dict[str, Check] = {
    "mode": choice(MODES), "capacity_kg": number(0, 2000, open_lo=True), "max_parcels": integer(1, 500),
    "shift_start": clock, "shift_end": clock, "days": weekdays,
}

#: The schema: table -> key -> check, or a nested schema; "[]" marks an array of tables.
SCHEMA: dict[str, Any] = {
    "name": text(), "description": text(2000),
    "base": {"date": a_date, "hub": text(64), "region": text(64)},
    "solve": {"time_limit_s": number(0, 600, open_lo=True), "solution_limit": integer(1, 100_000)},
    "drones": {
        "add[]": {"hub": text(64), "count": integer(1, 50), **DRONE_FIELDS},
        "set": {"hub": text(64), **{k: v for k, v in DRONE_FIELDS.items() if k != "model"}},
        "remove": texts,
    },
    "volunteers": {
        "add[]": {"hub": text(64), "count": integer(1, 200), **VOLUNTEER_FIELDS},
        "remove": texts,
    },
    "zones": {
        "add[]": {"identifier": text(64), "name": text(), "type": choice(ZONE_TYPES), "polygon": polygon,
                  "buffer_m": number(0, 5000)},
        "remove": texts, "activate": texts, "deactivate": texts,
    },
    "hubs": {
        "move[]": {"hub": text(64), "lon": lon, "lat": lat},
        "add[]": {"code": text(64), "name": text(), "lon": lon, "lat": lat, "drone_port": boolean,
                  "opens": clock, "closes": clock, "cutoffs": clocks},
        "cutoffs": "*clocks",  # any hub code -> list of HH:MM
    },
    "sweep": {"hub": text(64), "drones": int_list(0, 20), "volunteers": int_list(0, 200)},
}
REQUIRED: dict[Path_, tuple[str, ...]] = {
    ("base",): ("date",),
    ("drones", "add"): ("hub", "count"),
    ("volunteers", "add"): ("hub", "count"),
    ("zones", "add"): ("identifier", "type", "polygon"),
    ("hubs", "move"): ("hub", "lon", "lat"),
    ("hubs", "add"): ("code", "lon", "lat"),
    ("sweep",): ("hub",),
}


def parse(content: str, source: str = "<scenario>") -> Scenario:
    """Parse and check a scenario text; raise :class:`ScenarioError` listing every problem."""
    try:
        data = tomllib.loads(content)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError([f"{source}: not valid TOML: {error}"]) from None
    scenario = Scenario(data, key_lines(content), source)
    problems: list[str] = []
    _check_table(scenario, data, SCHEMA, (), problems)
    if "base" not in data:
        problems.append("base: missing: a scenario starts from a recorded day ([base] date = 2026-03-03)")
    _check_consistency(scenario, problems)
    if problems:
        raise ScenarioError([f"{source}: {p}" for p in problems])
    return scenario


def _check_table(sc: Scenario, data: Any, schema: dict[str, Any], path: Path_, problems: list[str]) -> None:
    if not isinstance(data, dict):
        problems.append(f"{sc.where(path)}: must be a table, got {data!r}")
        return
    for key, value in data.items():
        here = (*path, key)
        rule = schema.get(key)
        many = schema.get(f"{key}[]")
        if rule is None and many is None:
            allowed = ", ".join(k.removesuffix("[]") for k in schema)
            problems.append(f"{sc.where(here)}: unknown key (allowed here: {allowed})")
        elif many is not None:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                problems.append(f"{sc.where(here)}: must be an array of tables ([[{dotted(here)}]])")
                continue
            for i, item in enumerate(value):
                _check_table(sc, item, many, (*here, i), problems)
                _required(sc, item, (*here, i), REQUIRED.get(here, ()), problems)
        elif isinstance(rule, dict):
            _check_table(sc, value, rule, here, problems)
            _required(sc, value, here, REQUIRED.get(here, ()), problems)
        elif rule == "*clocks":
            if not isinstance(value, dict):
                problems.append(f"{sc.where(here)}: must be a table of hub code = [\"HH:MM\", ...]")
                continue
            for hub, times in value.items():
                message = clocks(times)
                if message:
                    problems.append(f"{sc.where((*here, hub))}: {message}")
        else:
            message = rule(value)
            if message:
                problems.append(f"{sc.where(here)}: {message}")


def _required(sc: Scenario, data: Any, path: Path_, keys: tuple[str, ...], problems: list[str]) -> None:
    if not isinstance(data, dict):
        return
    for key in keys:
        if key not in data:
            problems.append(f"{sc.where(path)}: missing required key {key!r}")


def _check_consistency(sc: Scenario, problems: list[str]) -> None:
    """Checks across keys: a shift that ends before it starts, a hub that closes before it opens."""
    for i, v in enumerate(_items(sc.data, "volunteers")):
        start, end = v.get("shift_start", "09:00"), v.get("shift_end", "17:00")
        if not clock(start) and not clock(end) and start >= end:
            problems.append(f"{sc.where(('volunteers', 'add', i, 'shift_end'))}: the shift ends "
                            f"({end}) before it starts ({start})")
    for i, h in enumerate(_items(sc.data, "hubs")):
        opens, closes = h.get("opens", "08:00"), h.get("closes", "18:00")
        if not clock(opens) and not clock(closes) and opens >= closes:
            problems.append(f"{sc.where(('hubs', 'add', i, 'closes'))}: the hub closes before it opens")


def _items(data: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The well-formed ``[[table.add]]`` entries (malformed ones are reported elsewhere)."""
    section = data.get(table)
    items = section.get("add") if isinstance(section, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
