"""Days of the week as people write them in a CSV: ``mon wed fri``, ``Mon-Fri``, ``mon,wed``, ``平日``.

One parser for every file that lists days (``volunteers.csv``, scenario files), so a volunteer
coordinator can write what their spreadsheet already says. The result is always a tuple of the
three-letter codes in week order (:data:`WEEKDAYS`), each at most once.

Accepted, case-insensitive, separated by spaces, commas, ``、``, ``・`` or ``/``:

- English names, short or long: ``mon``, ``Tue``, ``wednesday``;
- Japanese: ``月`` ``火`` ``水`` ``木`` ``金`` ``土`` ``日`` (also ``月曜``, ``月曜日``);
- ranges ``A-B`` (also ``A~B``, ``A〜B``, ``A～B``, ``A–B``), wrapping over Sunday (``fri-mon``);
- words for sets: ``平日``/``weekdays`` (Mon-Fri), ``土日``/``週末``/``weekends`` (Sat, Sun),
  ``毎日``/``daily``/``every day``/``all`` (all seven), and ED-318's ``ANY`` (all seven).
"""

from __future__ import annotations

import re

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_NAMES: dict[str, int] = {}
for _i, (_en, _long, _ja) in enumerate(
    zip(
        WEEKDAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        "月火水木金土日",
        strict=True,
    )
):
    for _name in (_en, _long, _ja, f"{_ja}曜", f"{_ja}曜日"):
        _NAMES[_name] = _i

_SETS: dict[str, tuple[int, ...]] = {
    "平日": (0, 1, 2, 3, 4),
    "weekdays": (0, 1, 2, 3, 4),
    "土日": (5, 6),
    "週末": (5, 6),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "毎日": tuple(range(7)),
    "daily": tuple(range(7)),
    "everyday": tuple(range(7)),
    "all": tuple(range(7)),
    "any": tuple(range(7)),
}
_SEPARATORS = re.compile(r"[\s,、・/]+")
_RANGE = re.compile(r"(.+?)\s*[-~〜～–]\s*(.+)")
EXPECTED = "mon tue wed thu fri sat sun, a range such as Mon-Fri, 平日 or 毎日"


def parse_days(text: str) -> tuple[str, ...]:
    """The days ``text`` names, in week order.

    Raises
    ------
    ValueError
        Naming the part that is not a day, or the day that is given twice.
    """
    normalized = re.sub(r"every\s+day", "everyday", text.strip().lower())
    normalized = re.sub(r"\s*([-~〜～–])\s*", r"\1", normalized)
    found: list[int] = []
    for part in (p for p in _SEPARATORS.split(normalized) if p):
        found.extend(_part(part))
    repeated = sorted({WEEKDAYS[d] for d in found if found.count(d) > 1}, key=WEEKDAYS.index)
    if repeated:
        raise ValueError(f"{repeated[0]} is listed twice in {text!r}")
    return tuple(WEEKDAYS[d] for d in sorted(found))


def _part(part: str) -> tuple[int, ...]:
    if part in _SETS:
        return _SETS[part]
    if part in _NAMES:
        return (_NAMES[part],)
    span = _RANGE.fullmatch(part)
    if span and span[1] in _NAMES and span[2] in _NAMES:
        first, last = _NAMES[span[1]], _NAMES[span[2]]
        return tuple((first + k) % 7 for k in range((last - first) % 7 + 1))
    raise ValueError(f"unknown day {part!r} (expected {EXPECTED})")
