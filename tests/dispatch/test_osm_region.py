"""A region from public data (issue 20, item 2): roads from a real OpenStreetMap extract, zones
from a DID-style shapefile, and a batch planned on the result.

The extract is ``tests/data/osm/kotka_karhula.osm.pbf``: Karhula, Kotka (Finland), the test
extract the pyrosm package ships, © OpenStreetMap contributors, ODbL 1.0 (see
``tests/data/osm/README.md``). No Japanese extract is small enough to keep in the repository; the
importer does not care where the town is, the region's CRS (here ETRS-TM35FIN) does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, box
from sqlalchemy import select

from dispatch.cli import region_group
from dispatch.db import Database
from dispatch.models import Hub, Plan, Resident
from dispatch.planning import plan_batch
from dispatch.region import read_region
from dispatch.region.importer import load_region
from dispatch.region.osm import maxspeed_kmh
from dispatch.requests import ItemRequest
from dispatch.services.batching import close_batch
from dispatch.services.ordering import place_order

EXTRACT = Path(__file__).resolve().parents[1] / "data" / "osm" / "kotka_karhula.osm.pbf"
AREA = "26.93,60.52,26.97,60.54"
HELSINKI = ZoneInfo("Europe/Helsinki")
MONDAY = dt.date(2026, 3, 2)


def import_osm(folder: Path, area: str = AREA) -> dict:
    result = CliRunner().invoke(region_group, ["import-osm", str(EXTRACT), str(folder), "--area", area])
    assert result.exit_code == 0, result.output
    return json.loads((folder / "roads.geojson").read_text(encoding="utf-8"))


def test_roads_take_kinds_speeds_oneway_and_car_access_from_the_tags(tmp_path: Path) -> None:
    roads = import_osm(tmp_path / "karhula")
    props = [f["properties"] for f in roads["features"]]
    kinds = Counter(p["kind"] for p in props)
    assert set(kinds) == {"primary", "secondary", "local", "track", "path"}
    assert kinds["local"] > 200 and kinds["path"] > 100  # residential streets; footways and cycleways
    assert all(p.get("car") is False for p in props if p["kind"] == "path")
    assert any(p.get("oneway") for p in props if p["kind"] == "primary")  # the motorway and its links
    assert "OpenStreetMap contributors" in roads["attribution"]
    ids = [p["id"] for p in props]
    assert len(ids) == len(set(ids)) and all(i.startswith("OSM") for i in ids)


def test_segments_end_at_junctions_so_the_network_is_routable(tmp_path: Path) -> None:
    roads = import_osm(tmp_path / "karhula")
    ends = Counter()
    inner = set()
    for feature in roads["features"]:
        coords = [tuple(c) for c in feature["geometry"]["coordinates"]]
        ends.update([coords[0], coords[-1]])
        inner.update(coords[1:-1])
    assert not inner & {p for p, n in ends.items() if n >= 2}  # a shared point is never mid-segment


def test_only_roads_inside_the_area_are_kept(tmp_path: Path) -> None:
    roads = import_osm(tmp_path / "small", "26.94,60.525,26.95,60.53")
    inside = box(26.94, 60.525, 26.95, 60.53)
    assert 0 < len(roads["features"]) < 200
    assert all(inside.covers(LineString(f["geometry"]["coordinates"])) for f in roads["features"])


def test_a_bad_area_or_file_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(region_group, ["import-osm", str(EXTRACT), str(tmp_path), "--area", "26,60"])
    assert result.exit_code == 2 and "expected WEST,SOUTH,EAST,NORTH" in result.output
    result = CliRunner().invoke(
        region_group, ["import-osm", str(EXTRACT), str(tmp_path), "--area", "134,35,135,36"]
    )
    assert result.exit_code == 2 and "no road of the kinds" in result.output
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not a pbf")
    result = CliRunner().invoke(region_group, ["import-osm", str(junk), str(tmp_path), "--area", AREA])
    assert result.exit_code == 2 and "not a readable OSM file" in result.output
    assert not (tmp_path / "roads.geojson").exists()


@pytest.mark.parametrize(("tag", "kmh"), [("50", 50.0), ("30 mph", 48.3), ("JP:urban", None), ("walk", None)])
def test_maxspeed_is_read_in_kmh(tag: str, kmh: float | None) -> None:
    assert maxspeed_kmh(tag) == kmh


def did_shapefile(folder: Path) -> Path:
    """A shapefile in e-Stat's DID layout (KEY_CODE, PREFNAME, CITYNAME, JINKO, AREA; Shift_JIS
    text, a projected CRS as in the published files' JGD2000 / JGD2011 variants): one district over
    Karhula's centre and one far away."""
    frame = geopandas.GeoDataFrame(
        {
            "KEY_CODE": ["2820501", "2820502"],
            "PREFNAME": ["兵庫県", "兵庫県"],
            "CITYNAME": ["カルフラ", "遠方"],
            "JINKO": [5210, 4100],
            "AREA": [1.2e6, 0.9e6],
        },
        geometry=[box(26.944, 60.526, 26.952, 60.532), box(27.5, 60.9, 27.51, 60.91)],
        crs="EPSG:4326",
    ).to_crs("EPSG:3067")
    path = folder / "h27_did_test.shp"
    frame.to_file(path, encoding="cp932")
    return path


def test_did_shapefile_becomes_req_authorization_zones(tmp_path: Path) -> None:
    folder = tmp_path / "region"
    folder.mkdir()
    shp = did_shapefile(tmp_path)
    args = ["import-zones", str(shp), str(folder), "--encoding", "cp932", "--area", AREA]
    result = CliRunner().invoke(region_group, args)
    assert result.exit_code == 0, result.output
    (zone,) = json.loads((folder / "zones.geojson").read_text(encoding="utf-8"))["features"]
    props = zone["properties"]
    assert props["identifier"] == "DID-2820501" and props["type"] == "REQ_AUTHORIZATION"
    assert props["name"] == [{"text": "カルフラ 人口集中地区", "lang": "ja-JP"}]
    assert props["extendedProperties"]["jp:category"] == "DID" and props["reason"] == ["POPULATION"]
    lon, lat = zone["geometry"]["coordinates"][0][0]
    assert 26.94 <= lon <= 26.96 and 60.52 <= lat <= 60.54  # reprojected back to WGS84
    # run again: the same identifiers are replaced, not doubled
    assert CliRunner().invoke(region_group, args).exit_code == 0
    assert len(json.loads((folder / "zones.geojson").read_text(encoding="utf-8"))["features"]) == 1


def test_a_polygon_file_without_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    result = CliRunner().invoke(region_group, ["import-zones", str(path), str(tmp_path)])
    assert result.exit_code == 2 and str(path) in result.output


def _components(roads: dict) -> list[set[tuple[float, float]]]:
    """Groups of road ends joined by car roads (union-find), largest first."""
    parent: dict[tuple[float, float], tuple[float, float]] = {}

    def find(p: tuple[float, float]) -> tuple[float, float]:
        while parent.setdefault(p, p) != p:
            p = parent[p]
        return p

    for f in roads["features"]:
        if f["properties"].get("car", True):
            a, b = (tuple(f["geometry"]["coordinates"][i]) for i in (0, -1))
            parent[find(a)] = find(b)
    groups: dict[tuple[float, float], set[tuple[float, float]]] = {}
    for p in list(parent):
        groups.setdefault(find(p), set()).add(p)
    return sorted(groups.values(), key=len, reverse=True)


def build_region(folder: Path, tmp_path: Path) -> None:
    """Roads from OSM, zones from the DID shapefile, a hub and six residents on the main network."""
    roads = import_osm(folder)
    assert (
        CliRunner()
        .invoke(
            region_group,
            [
                "import-zones",
                str(did_shapefile(tmp_path)),
                str(folder),
                "--encoding",
                "cp932",
                "--area",
                AREA,
            ],
        )
        .exit_code
        == 0
    )
    points = sorted(_components(roads)[0])
    chosen = [points[i * (len(points) - 1) // 6] for i in range(7)]
    (folder / "region.toml").write_text(
        'name = "Karhula (OpenStreetMap)"\ncrs = "EPSG:3067"\n'
        'timezone = "Europe/Helsinki"\nlocale = "en_GB"\n'
    )

    def point(props: dict, at: tuple[float, float]) -> dict:
        return {
            "type": "Feature",
            "properties": props,
            "geometry": {"type": "Point", "coordinates": list(at)},
        }

    hub = point(
        {
            "id": "KARHULA",
            "name": "Karhula hub",
            "kind": "hub",
            "opens": "08:00",
            "closes": "18:00",
            "cutoffs": ["10:00"],
        },
        chosen[0],
    )
    residents = [
        point(
            {
                "id": f"R{i}",
                "name": f"Resident {i}",
                "phone": f"+35840000000{i}",
                "language": "en",
                "hub_id": "KARHULA",
            },
            at,
        )
        for i, at in enumerate(chosen[1:], start=1)
    ]
    for name, features in (("hubs", [hub]), ("residents", residents)):
        (folder / f"{name}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features})
        )
    (folder / "volunteers.csv").write_text(
        "id,name,phone,hub_id,mode,capacity_kg,max_parcels,shift_start,shift_end,days\n"
        "V1,Aino,+358400000101,KARHULA,car,150,30,09:00,17:00,Mon-Sun\n"
    )
    (folder / "drones.csv").write_text("id,hub_id,model,payload_kg,range_km,cruise_kmh,turnaround_min\n")


@pytest.mark.db
def test_a_region_built_from_openstreetmap_plans_a_batch(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "karhula"
    build_region(folder, tmp_path)
    data = read_region(folder)
    assert len(data.roads) > 500 and len(data.zones) == 1 and data.zones[0].category == "DID"
    load_region(db, data)
    cutoff = dt.datetime.combine(MONDAY, dt.time(10), HELSINKI)
    with db.read() as s:
        residents = s.scalars(select(Resident.id).order_by(Resident.code)).all()
        hub_id = s.scalars(select(Hub.id)).one()
    for resident in residents:
        place_order(
            db, resident, [ItemRequest("bread", 1)], channel="web", now=cutoff - dt.timedelta(hours=1)
        )
    batch = close_batch(db, hub_id, cutoff, now=cutoff)
    plan_id = plan_batch(db, batch.batch_id, time_limit_s=2.0, solution_limit=20)
    with db.read() as s:
        plan = s.get_one(Plan, plan_id)
        assert plan.validation == {"ok": True, "violations": []}
        delivered = [st for r in plan.routes for st in r.stops if st.kind == "delivery"]
        assert len(delivered) == 6 and plan.unserved == []
        (route,) = plan.routes
        # the courier drives Karhula's streets: several kilometres, not straight lines of metres
        assert 2_000 < route.distance_m < 60_000
