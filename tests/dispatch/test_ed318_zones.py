"""ED-318 zone files as published: localised texts, authorities, schedules, layers (issue 20, item 1).

The standard's own examples and schema come from ``../shared/ed318/official_examples`` (EUROCAE
ED-318 / EUROCONTROL UASGeoZones, commit e98b292c, MIT): each example is first validated against
the published JSON Schema, then read by Hakobu. A Japanese zone with a weekday schedule, written
here and validated against the same schema, decides which batches of the tiny region avoid it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Batch, Zone
from dispatch.planning import build_problem
from dispatch.region import Authority, DailyPeriod, Layer, LocalText, RegionError, read_region
from dispatch.region.importer import load_region
from dispatch.requests import ItemRequest
from dispatch.zones import stored_applicability, zone_active_at, zone_validity_text
from tests.dispatch.test_planning import order_batch

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "sample_regions" / "tiny"
OFFICIAL = REPO.parent / "shared" / "ed318" / "official_examples"
needs_official = pytest.mark.skipif(
    not OFFICIAL.is_dir(), reason=f"the published ED-318 examples and schema are not at {OFFICIAL}"
)
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = dt.date(2026, 3, 2)


def schema_validator() -> Draft7Validator:
    """The published ``Schema_GeoZones.json`` with its sibling files resolvable by relative $ref."""
    folder = OFFICIAL / "schema"
    registry = Registry().with_resources(
        (p.resolve().as_uri(), DRAFT7.create_resource(json.loads(p.read_text(encoding="utf-8"))))
        for p in folder.glob("*.json")
    )
    root = json.loads((folder / "Schema_GeoZones.json").read_text(encoding="utf-8"))
    root["$id"] = (folder / "Schema_GeoZones.json").resolve().as_uri()
    return Draft7Validator(root, registry=registry)


def empty_region(folder: Path, crs: str, timezone: str, locale: str, zones: dict[str, Any]) -> Path:
    """A region with only zones (an empty region part is a file with no features / a header)."""
    folder.mkdir()
    (folder / "region.toml").write_text(
        f'name = "zones only"\ncrs = "{crs}"\ntimezone = "{timezone}"\nlocale = "{locale}"\n',
        encoding="utf-8",
    )
    for name in ("hubs", "residents", "roads"):
        (folder / f"{name}.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    (folder / "volunteers.csv").write_text(
        "id,name,phone,hub_id,mode,capacity_kg,max_parcels,shift_start,shift_end,days\n"
    )
    (folder / "drones.csv").write_text("id,hub_id,model,payload_kg,range_km,cruise_kmh,turnaround_min\n")
    (folder / "zones.geojson").write_text(json.dumps(zones), encoding="utf-8")
    return folder


# ------------------------------------------------------------------------ the official examples
@needs_official
@pytest.mark.parametrize(
    "name", ["Example_Collection.json", "Example_GeoZone_2_Layers.json", "Example_GeoZone_Circle.json"]
)
def test_official_examples_validate_against_the_schema_and_read(tmp_path: Path, name: str) -> None:
    document = json.loads((OFFICIAL / name).read_text(encoding="utf-8"))
    assert list(schema_validator().iter_errors(document)) == []
    # France: Lambert-93 covers the examples' coordinates
    data = read_region(empty_region(tmp_path / "fr", "EPSG:2154", "Europe/Paris", "fr_FR", document))
    assert len(data.zones) == len(document["features"])
    for zone in data.zones:
        assert zone.names and zone.name == zone.names[0].text
        assert zone.authorities and zone.authorities[0].purpose in ("AUTHORIZATION", "INFORMATION")


@needs_official
def test_two_layers_keep_both_bands_and_localised_reason_info(tmp_path: Path) -> None:
    document = json.loads((OFFICIAL / "Example_GeoZone_2_Layers.json").read_text(encoding="utf-8"))
    zone = read_region(empty_region(tmp_path / "fr", "EPSG:2154", "Europe/Paris", "fr_FR", document)).zones[0]
    assert zone.layers == (Layer(50.0, 150.0, "AGL", "AGL"), Layer(0.0, 50.0, "AGL", "AGL"))
    assert (zone.lower_m, zone.upper_m) == (0.0, 150.0)
    assert zone.reason == "AIR_TRAFFIC, OTHER"
    assert zone.reason_info == (
        LocalText("Flying Whales - part 2", "en-GB"),
        LocalText("Baleines Volantes 2-ème partie", "fr-BE"),
    )
    assert zone.authorities == (
        Authority(
            "AUTHORIZATION", name=(LocalText("LFPG-UASZoneManager", "en-US"),), email="UASZoneManager@lfpg.fr"
        ),
    )
    # the zone is the union of the two layers' polygons
    assert zone.geometry.geom_type == "Polygon" and zone.geometry.area > 0


@needs_official
def test_official_schedule_applies_daily_16_17_utc_and_sunday_mornings(tmp_path: Path) -> None:
    document = json.loads((OFFICIAL / "Example_GeoZone_2_Layers.json").read_text(encoding="utf-8"))
    zone = read_region(empty_region(tmp_path / "fr", "EPSG:2154", "Europe/Paris", "fr_FR", document)).zones[0]
    (window,) = zone.applicability
    assert window.schedule == (
        DailyPeriod(
            ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
            dt.time(16, tzinfo=dt.UTC),
            None,
            dt.time(17, tzinfo=dt.UTC),
            None,
        ),
        DailyPeriod(("sun",), dt.time(10, tzinfo=dt.UTC), None, dt.time(12, tzinfo=dt.UTC), None),
    )
    stored = json.loads(json.dumps(stored_applicability(zone.applicability, "Europe/Paris", (2.6, 49.0))))

    def active(text: str) -> bool:
        return zone_active_at(stored, None, dt.datetime.fromisoformat(text))

    assert active("2019-06-05T16:30:00Z")  # a Wednesday, inside 16:00-17:00 UTC
    assert not active("2019-06-05T15:30:00Z")
    assert active("2019-06-09T11:00:00Z")  # a Sunday morning
    assert not active("2019-06-10T11:00:00Z")  # the Monday after
    assert not active("2020-06-03T16:30:00Z")  # after endDateTime
    assert zone_active_at(stored, True, dt.datetime(2020, 6, 3, tzinfo=dt.UTC))  # the operator's switch


# ------------------------------------------------------------ a Japanese zone on a weekday timetable
def school_zone(tiny: Path) -> dict[str, Any]:
    """The tiny region's school zone written in ED-318 as published: names in two languages, an
    authority to ask a day before, a school-hours schedule (weekdays 08:00-12:00 Japan time)."""
    document = json.loads((tiny / "zones.geojson").read_text(encoding="utf-8"))
    feature = document["features"][0]
    feature["properties"] = {
        "identifier": "JPZ0001",
        "country": "JPN",
        "type": "PROHIBITED",
        "variant": "COMMON",
        "name": [{"text": "山里小学校", "lang": "ja-JP"}, {"text": "Yamazato school", "lang": "en-GB"}],
        "reason": ["SENSITIVE"],
        "otherReasonInfo": [{"text": "登校時間", "lang": "ja-JP"}],
        "message": [
            {"text": "授業中は飛行しないでください", "lang": "ja-JP"},
            {"text": "No flights during lessons", "lang": "en-GB"},
        ],
        "zoneAuthority": [
            {
                "name": [{"text": "山里町教育委員会", "lang": "ja-JP"}],
                "service": [{"text": "学校教育課", "lang": "ja-JP"}],
                "phone": "+81790000000",
                "purpose": "AUTHORIZATION",
                "intervalBefore": "P1D",
            }
        ],
        "limitedApplicability": [
            {
                "schedule": [
                    {
                        "day": ["MON", "TUE", "WED", "THU", "FRI"],
                        "startTime": "08:00:00+09:00",
                        "endTime": "12:00:00+09:00",
                    }
                ]
            }
        ],
        "extendedProperties": {"jp:category": "COMMUNITY", "planning.bufferM": 30},
    }
    return document


@pytest.fixture
def tiny_school(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "zones.geojson").write_text(
        json.dumps(school_zone(folder), ensure_ascii=False), encoding="utf-8"
    )
    return folder


@needs_official
def test_the_japanese_fixture_is_valid_ed318(tiny_school: Path) -> None:
    document = json.loads((tiny_school / "zones.geojson").read_text(encoding="utf-8"))
    assert list(schema_validator().iter_errors(document)) == []


def test_localised_name_in_the_region_language_and_the_rest_kept(tiny_school: Path) -> None:
    zone = read_region(tiny_school).zones[0]
    assert zone.name == "山里小学校"  # region.toml's locale is ja_JP
    assert zone.names[1] == LocalText("Yamazato school", "en-GB")
    assert zone.message[1].text == "No flights during lessons"
    (authority,) = zone.authorities
    assert (authority.name[0].text, authority.service[0].text, authority.interval_before) == (
        "山里町教育委員会",
        "学校教育課",
        "P1D",
    )
    assert zone.applicability[0].start is None and zone.applicability[0].end is None
    assert zone.applicability[0].schedule[0].days == ("mon", "tue", "wed", "thu", "fri")


@pytest.mark.db
def test_the_schedule_decides_which_batches_avoid_the_zone(db: Database, tiny_school: Path) -> None:
    """The 10:00 batch plans 10:00-18:00 and meets school hours; the 14:00 batch does not, nor
    Saturday's."""
    load_region(db, read_region(tiny_school))
    zones_of: dict[str, int] = {}
    for label, day, hour in (
        ("mon 10", MONDAY, 10),
        ("mon 14", MONDAY, 14),
        ("sat 10", MONDAY + dt.timedelta(days=5), 10),
    ):
        cutoff = dt.datetime.combine(day, dt.time(hour), TOKYO)
        batch_id, _ = order_batch(db, {"R5": [ItemRequest("パン", 1)]}, cutoff=cutoff)
        with db.read() as s:
            built = build_problem(s, s.get_one(Batch, batch_id))
        zones_of[label] = len(built.problem.zones)
    assert zones_of == {"mon 10": 1, "mon 14": 0, "sat 10": 0}
    with db.read() as s:
        row = s.scalars(select(Zone)).one()
        assert row.name == "山里小学校"
        assert zone_validity_text(row.applicability, TOKYO) == "mon tue wed thu fri 08:00–12:00"
        assert zone_active_at(row.applicability, None, dt.datetime.combine(MONDAY, dt.time(11, 59), TOKYO))
        assert not zone_active_at(row.applicability, None, dt.datetime.combine(MONDAY, dt.time(12, 1), TOKYO))


def test_sun_events_follow_the_season_at_the_zone(tiny_school: Path) -> None:
    """Sunrise to sunset at Yamazato (35.57 N): about 07:00-16:50 in December, 04:45-19:15 in June."""
    document = school_zone(tiny_school)
    document["features"][0]["properties"]["limitedApplicability"] = [
        {"schedule": [{"day": ["ANY"], "startEvent": "SR", "endEvent": "SS"}]}
    ]
    (tiny_school / "zones.geojson").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    zone = read_region(tiny_school).zones[0]
    stored = stored_applicability(zone.applicability, "Asia/Tokyo", (134.864, 35.572))

    def active(month: int, hour: int, minute: int) -> bool:
        return zone_active_at(stored, None, dt.datetime(2026, month, 15, hour, minute, tzinfo=TOKYO))

    assert not active(12, 6, 40) and active(12, 7, 20) and active(12, 16, 30) and not active(12, 17, 10)
    assert active(6, 5, 0) and active(6, 19, 0) and not active(6, 19, 40)
    assert zone_validity_text(stored, TOKYO) == "daily SR–SS"


def test_a_period_across_midnight_runs_into_the_next_morning() -> None:
    stored = [
        {
            "start": None,
            "end": None,
            "sun": None,
            "schedule": [
                {
                    "days": ["fri"],
                    "start": "22:00:00",
                    "start_event": None,
                    "end": "06:00:00",
                    "end_event": None,
                    "tz": "Asia/Tokyo",
                }
            ],
        }
    ]
    friday = dt.date(2026, 3, 6)
    assert zone_active_at(stored, None, dt.datetime.combine(friday, dt.time(23), TOKYO))
    assert zone_active_at(stored, None, dt.datetime.combine(friday + dt.timedelta(days=1), dt.time(5), TOKYO))
    assert not zone_active_at(stored, None, dt.datetime.combine(friday, dt.time(5), TOKYO))


def test_rows_written_before_schedules_still_read() -> None:
    pairs = [["2026-12-12T15:00:00+09:00", "2026-12-12T22:00:00+09:00"]]
    assert zone_active_at(pairs, None, dt.datetime(2026, 12, 12, 16, tzinfo=TOKYO))
    assert not zone_active_at(pairs, None, dt.datetime(2026, 12, 12, 23, tzinfo=TOKYO))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"name": [{"text": "x", "lang": "japanese"}]},
            "zones.geojson:1: name: lang must be a language tag of at most 5 characters such as ja-JP, "
            "got 'japanese'",
        ),
        (
            {"limitedApplicability": [{"schedule": [{"day": ["MONDAY"], "startTime": "08:00:00Z"}]}]},
            "zones.geojson:1: limitedApplicability: unknown day 'MONDAY' "
            "(expected MON, TUE, WED, THU, FRI, SAT, SUN, ANY)",
        ),
        (
            {"limitedApplicability": [{"schedule": [{"day": ["ANY"], "startEvent": "NOON"}]}]},
            "zones.geojson:1: limitedApplicability: startEvent must be one of BMCT, SR, SS, EECT, got 'NOON'",
        ),
        (
            {
                "limitedApplicability": [
                    {"schedule": [{"day": ["ANY"], "startTime": "08:00:00Z", "startEvent": "SR"}]}
                ]
            },
            "zones.geojson:1: limitedApplicability: give startTime or startEvent, not both",
        ),
        (
            {"limitedApplicability": [{"schedule": [{"day": ["ANY"], "endTime": "8 o'clock"}]}]},
            "zones.geojson:1: limitedApplicability: endTime must be a time such as "
            '"16:00:00Z", got "8 o\'clock"',
        ),
        (
            {"zoneAuthority": [{"name": [{"text": "役場", "lang": "ja"}]}]},
            "zones.geojson:1: zoneAuthority: purpose must be one of AUTHORIZATION, NOTIFICATION, "
            "INFORMATION, got None",
        ),
    ],
)
def test_bad_ed318_fields_are_named(tiny_school: Path, change: dict[str, Any], expected: str) -> None:
    document = school_zone(tiny_school)
    document["features"][0]["properties"].update(change)
    (tiny_school / "zones.geojson").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RegionError) as caught:
        read_region(tiny_school)
    assert [str(p) for p in caught.value.problems] == [expected]


def test_a_bad_layer_reference_is_named(tiny_school: Path) -> None:
    document = school_zone(tiny_school)
    document["features"][0]["geometry"]["layer"]["upperReference"] = "GROUND"
    (tiny_school / "zones.geojson").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(
        RegionError,
        match=r"zones.geojson:1: layer: upperReference must be one of AGL, AMSL, "
        r"WGS84, got 'GROUND'",
    ):
        read_region(tiny_school)
