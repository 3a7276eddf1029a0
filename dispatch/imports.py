"""Bulk order import (e.g. a post-office parcel manifest): every row checked, all or nothing.

CSV columns (header required; UTF-8 with or without BOM, or Shift_JIS as Japanese Excel saves it):

``resident``  resident code (required)
``items``     ``name:quantity[:unit]`` separated by ``;`` (required), e.g. ``米5kg:1;牛乳:2:本``
``priority``  1 urgent .. 3 low (default 2)
``origin``    code of the supply point where the parcel starts (default: already at the hub)
``day``       0 today, 1 tomorrow (default 0)
``part``      any | morning | afternoon | evening (default any)

Problems are reported like the region loader's: ``file:row: field: what is wrong``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Hub, Resident
from dispatch.region.reader import RegionProblem
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services import ordering

COLUMNS = ("resident", "items", "priority", "origin", "day", "part")
REQUIRED = ("resident", "items")


#: The same ``file:row: field: message`` problem the region loader reports.
ImportProblem = RegionProblem


class ImportError_(DomainError):
    """The file has problems; nothing was imported."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing imported")
        self.problems = problems


@dataclass(frozen=True)
class _Row:
    line: int
    resident: str
    items: tuple[ItemRequest, ...]
    priority: int
    origin: str | None
    wish: TimeWish


def _parse_items(text: str) -> tuple[ItemRequest, ...]:
    items = []
    for part in (p.strip() for p in text.split(";") if p.strip()):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) not in (2, 3) or not bits[0]:
            raise ValueError(f"{part!r} is not name:quantity[:unit]")
        if not bits[1].isdigit():
            raise ValueError(f"quantity {bits[1]!r} of {bits[0]!r} is not a whole number")
        items.append(ItemRequest(bits[0], int(bits[1]), bits[2] if len(bits) == 3 else None))
    if not items:
        raise ValueError("no items")
    return tuple(items)


def _decode(raw: bytes) -> str | None:
    """The file's text: UTF-8 (with or without BOM), else Shift_JIS (cp932), which is what a
    Japanese Excel saves as "CSV" and what many manifests arrive in; None when it is neither
    (NUL bytes: a binary or UTF-16 file, which cp932 would otherwise read as nonsense)."""
    if b"\x00" in raw:
        return None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read(name: str, raw: bytes) -> tuple[list[_Row], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    rows: list[_Row] = []
    text = _decode(raw)
    if text is None:
        return [], [ImportProblem(name, 0, "(file)", "not UTF-8 or Shift_JIS text; save it as CSV UTF-8")]
    with io.StringIO(text, newline="") as handle:
        try:
            # strict: an unclosed quote is an error instead of swallowing the rest of the file
            reader = csv.DictReader(handle, strict=True)
            header = reader.fieldnames or []
            unknown = [c for c in header if c not in COLUMNS]
            missing = [c for c in REQUIRED if c not in header]
            for column in unknown:
                problems.append(ImportProblem(name, 1, column, "unknown column"))
            for column in missing:
                problems.append(ImportProblem(name, 1, column, "required column is missing"))
            if missing:
                return [], problems
            for record in reader:
                line = reader.line_num
                row_problems = len(problems)

                def bad(field: str, message: str, line: int = line) -> None:
                    problems.append(ImportProblem(name, line, field, message))

                extra = record.pop(None, None)  # type: ignore[call-overload]
                if extra:  # e.g. items separated by "," instead of ";": never drop them silently
                    bad("(row)", f"{len(extra)} more value(s) than columns: "
                                 f"{', '.join(map(repr, extra))} (separate items with ';')")
                resident = (record.get("resident") or "").strip()
                if not resident:
                    bad("resident", "required")
                items: tuple[ItemRequest, ...] = ()
                try:
                    items = _parse_items(record.get("items") or "")
                except ValueError as error:
                    bad("items", str(error))
                priority = (record.get("priority") or "2").strip()
                if priority not in ("1", "2", "3"):
                    bad("priority", f"{priority!r} is not 1, 2 or 3")
                day = (record.get("day") or "0").strip()
                if day not in ("0", "1"):
                    bad("day", f"{day!r} is not 0 or 1")
                part = (record.get("part") or "any").strip()
                if part not in ordering.PARTS:
                    bad("part", f"{part!r} is not one of {', '.join(ordering.PARTS)}")
                if len(problems) == row_problems:
                    rows.append(_Row(line, resident, items, int(priority),
                                     (record.get("origin") or "").strip() or None,
                                     TimeWish(int(day), part)))
        except csv.Error as error:
            # the row that failed starts after the last one read completely
            problems.append(ImportProblem(name, reader.line_num + 1, "(syntax)",
                                          f"{error} (check the quotes)"))
    return rows, problems


def import_orders(db: Database, path: Path, now: dt.datetime | None = None) -> list[int]:
    """Import every order of ``path`` in one transaction; returns their short numbers.

    Raises :class:`ImportError_` listing every problem (nothing is imported then).
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ImportError_([ImportProblem(path.name, 0, "(file)", error.strerror or str(error))]) from None
    return import_manifest(db, path.name, raw, now)


def import_manifest(db: Database, name: str, raw: bytes, now: dt.datetime | None = None) -> list[int]:
    """:func:`import_orders` of a manifest's bytes (``name`` is the file name problems cite)."""
    now = now or dt.datetime.now(dt.UTC)
    rows, problems = _read(name, raw)
    if problems:
        raise ImportError_(problems)
    numbers: list[int] = []
    with db.write() as session:
        residents = {r.code: r for r in session.scalars(select(Resident).where(Resident.active))}
        supplies = {h.code: h for h in session.scalars(select(Hub).where(Hub.kind == "supply"))}
        for row in rows:
            resident = residents.get(row.resident)
            if resident is None:
                problems.append(ImportProblem(name, row.line, "resident",
                                              f"no active resident with code {row.resident!r}"))
                continue
            if row.origin is not None and row.origin not in supplies:
                problems.append(ImportProblem(name, row.line, "origin",
                                              f"{row.origin!r} is not a supply point"))
                continue
            try:
                order = ordering.create_order(
                    session, resident, row.items, channel="import", now=now, time_wish=row.wish,
                    priority=row.priority,
                    origin_hub_id=supplies[row.origin].id if row.origin else None)
            except DomainError as error:
                problems.append(ImportProblem(name, row.line, "items", str(error)))
                continue
            numbers.append(order.number)
        if problems:
            raise ImportError_(problems)  # rolls the whole transaction back
    return numbers
