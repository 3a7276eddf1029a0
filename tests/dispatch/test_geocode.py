"""Residents given by address (issue 20, item 2): off by default, filled in by ``hakobu region
geocode`` from the municipality's address table; jageocoder only with a local dictionary."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dispatch.cli import region_group
from dispatch.region import RegionError, read_region
from dispatch.region.geocode import GeocodeError, JageocoderGeocoder

TINY = Path(__file__).resolve().parents[2] / "sample_regions" / "tiny"


@pytest.fixture
def by_address(tmp_path: Path) -> Path:
    """The tiny region with R1 given by its address only."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    path = folder / "residents.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["features"][0]["properties"]["address"] = "兵庫県豊岡市山里 1-2"
    document["features"][0]["geometry"] = None
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return folder


def test_an_address_without_coordinates_is_not_guessed(by_address: Path) -> None:
    with pytest.raises(RegionError) as caught:
        read_region(by_address)
    assert [str(p) for p in caught.value.problems] == [
        "residents.geojson:1: geometry: no coordinates for the address '兵庫県豊岡市山里 1-2': run "
        "`hakobu region geocode` (docs/region-format.md, Geocoding) or give a Point"
    ]


def test_the_address_table_fills_in_the_home(by_address: Path, tmp_path: Path) -> None:
    table = tmp_path / "addresses.csv"
    table.write_text("address,lon,lat\n兵庫県豊岡市山里１－２,134.86883,35.570135\n", encoding="utf-8")
    result = CliRunner().invoke(region_group, ["geocode", str(by_address), "--table", str(table)])
    assert result.exit_code == 0, result.output
    assert "1 resident(s) geocoded" in result.output
    r1 = read_region(by_address).residents[0]
    assert (r1.code, r1.lon, r1.lat) == ("R1", 134.86883, 35.570135)


def test_an_address_not_found_leaves_the_file_as_it_was(by_address: Path, tmp_path: Path) -> None:
    table = tmp_path / "addresses.csv"
    table.write_text("address,lon,lat\n兵庫県豊岡市山里3-4,134.87,35.57\n", encoding="utf-8")
    before = (by_address / "residents.geojson").read_bytes()
    result = CliRunner().invoke(region_group, ["geocode", str(by_address), "--table", str(table)])
    assert result.exit_code == 2
    assert (
        "residents.geojson:1: address: '兵庫県豊岡市山里 1-2' was not found at house level" in result.output
    )
    assert (by_address / "residents.geojson").read_bytes() == before


def test_a_geocoder_must_be_chosen(by_address: Path) -> None:
    result = CliRunner().invoke(region_group, ["geocode", str(by_address)])
    assert result.exit_code == 2 and "exactly one of --table" in result.output


@pytest.mark.skipif(
    importlib.util.find_spec("jageocoder") is not None,
    reason="jageocoder is installed here: this test is about a machine without it",
)
def test_jageocoder_is_optional_and_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(GeocodeError, match=r"pip install jageocoder"):
        JageocoderGeocoder(tmp_path)
