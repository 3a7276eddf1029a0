"""Residents given by address (issue 20, item 2): ``hakobu region geocode``, off unless asked for.

A municipality's list of residents often has addresses and no coordinates. A resident feature of
``residents.geojson`` may then carry ``"address": "..."`` and ``"geometry": null``; the region
reader refuses such a feature (it needs a Point) until this step has filled the geometry in. It
runs only when someone runs it, with a geocoder they chose; nothing is looked up online:

- :class:`JageocoderGeocoder`: jageocoder (an optional dependency, ``pip install jageocoder``) with
  its address dictionary installed locally (``jageocoder install-dictionary``, a download of
  several GB done once by the operator; the directory is given as ``--jageocoder-dir``). A result
  is accepted only at a house-number level or finer (``level`` >= 7, 番/号), so a town-level match
  never puts a house at a town hall;
- :class:`TableGeocoder`: a CSV ``address,lon,lat`` the municipality already has (a 住居表示 or
  水道 list), matched on the address with spaces and the width of digits normalised.

Every address is geocoded before anything is written; one that fails is reported with its row and
the file is left as it was.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

#: jageocoder's level of a 番 (block number) match; 号 is 8.
HOUSE_LEVEL = 7


class GeocodeError(ValueError):
    """Addresses could not be geocoded; ``problems`` are ``residents.geojson:row: address: ...``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class Geocoder(Protocol):
    def locate(self, address: str) -> tuple[float, float] | None:
        """WGS84 (lon, lat) of ``address``, or None when it is not found precisely enough."""


def normalise(address: str) -> str:
    """NFKC (full-width digits, letters and hyphens to ASCII), no spaces, the minus sign as a hyphen:
    ``豊岡市 出石町１－２`` → ``豊岡市出石町1-2``."""
    text = unicodedata.normalize("NFKC", address)
    return "".join(text.split()).replace("\u2212", "-")


class TableGeocoder:
    """Addresses from a CSV with the columns ``address,lon,lat``."""

    def __init__(self, path: Path) -> None:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if rows and not {"address", "lon", "lat"} <= set(rows[0]):
            raise GeocodeError([f"{path.name}:1: (header): expected the columns address,lon,lat"])
        self.table = {normalise(r["address"]): (float(r["lon"]), float(r["lat"])) for r in rows}

    def locate(self, address: str) -> tuple[float, float] | None:
        return self.table.get(normalise(address))


class JageocoderGeocoder:
    """jageocoder on a local dictionary directory (never its online server)."""

    def __init__(self, db_dir: Path) -> None:
        try:
            import jageocoder  # type: ignore[import-not-found]
        except ImportError as error:
            raise GeocodeError(["jageocoder is not installed (pip install jageocoder)"]) from error
        if not db_dir.is_dir():
            raise GeocodeError([f"{db_dir}: no jageocoder dictionary there (jageocoder install-dictionary)"])
        jageocoder.init(db_dir=str(db_dir))
        self._search = jageocoder.search

    def locate(self, address: str) -> tuple[float, float] | None:
        found: dict[str, Any] = self._search(address)
        best = next((c for c in found.get("candidates", []) if c.get("level", 0) >= HOUSE_LEVEL), None)
        return (float(best["x"]), float(best["y"])) if best else None


def geocode_residents(path: Path, geocoder: Geocoder) -> int:
    """Fill in the geometry of every resident in ``path`` that has an address and none; return how
    many. Raises :class:`GeocodeError` listing every address not found (the file unchanged)."""
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    problems, filled = [], 0
    for row, feature in _wanting(document.get("features", [])):
        address = feature["properties"]["address"]
        where = geocoder.locate(address)
        if where is None:
            problems.append(f"{path.name}:{row}: address: {address!r} was not found at house level")
            continue
        feature["geometry"] = {"type": "Point", "coordinates": [round(where[0], 7), round(where[1], 7)]}
        filled += 1
    if problems:
        raise GeocodeError(problems)
    if filled:
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return filled


def _wanting(features: Iterable[Any]) -> Iterable[tuple[int, dict[str, Any]]]:
    for row, feature in enumerate(features, start=1):
        props = feature.get("properties") or {} if isinstance(feature, dict) else {}
        if (
            feature.get("geometry") is None
            and isinstance(props.get("address"), str)
            and props["address"].strip()
        ):
            yield row, feature
