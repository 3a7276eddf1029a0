"""``proxies.csv`` in a region folder (issue 15): checked field by field with file, row and field
named, nothing imported when anything is wrong; loaded through the console's service, so the
resident and the proxy are texted once when a proxy is added and once when a row revokes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Message, Proxy
from dispatch.region.importer import load_region
from dispatch.region.reader import RegionError, read_region
from tests.conftest import TINY

pytestmark = pytest.mark.db

HEADER = "resident_id,name,phone,relation,consented_by,consent_method,consented_on,covers,note,active\n"
GOOD = "R1,田中 次郎,+819011112222,family,田中 花子,paper,2026-11-30,ordering receiving,同意書 No.3,true\n"


@pytest.fixture
def region(tmp_path: Path) -> Path:
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


def _problems(folder: Path, rows: str) -> list[str]:
    (folder / "proxies.csv").write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(RegionError) as caught:
        read_region(folder)
    return [str(p) for p in caught.value.problems]


def test_a_region_without_proxies_csv_reads_as_before(region: Path) -> None:
    assert read_region(region).proxies == ()


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "R9,a,+819011112222,family,b,paper,2026-11-30,ordering,,\n",
            "proxies.csv:2: resident_id: resident 'R9' does not exist in residents.geojson",
        ),
        (
            "R1,a,+817000000001,family,b,paper,2026-11-30,ordering,,\n",
            "proxies.csv:2: phone: +817000000001 is resident 'R1''s own number: no proxy is needed",
        ),
        (
            "R1,a,090-1111,family,b,paper,2026-11-30,ordering,,\n",
            "proxies.csv:2: phone: '090-1111' is not an E.164 number (+ then 8-15 digits, no spaces)",
        ),
        (
            "R1,a,+819011112222,cousin,b,paper,2026-11-30,ordering,,\n",
            "proxies.csv:2: relation: unknown value 'cousin'"
            " (expected one of family, welfare, hub_staff, neighbour)",
        ),
        (
            "R1,a,+819011112222,family,b,fax,2026-11-30,ordering,,\n",
            "proxies.csv:2: consent_method: unknown value 'fax' (expected one of in_person, paper, phone)",
        ),
        (
            "R1,a,+819011112222,family,b,paper,30/11/2026,ordering,,\n",
            "proxies.csv:2: consented_on: must be a date YYYY-MM-DD, got '30/11/2026'",
        ),
        (
            "R1,a,+819011112222,family,b,paper,2026-11-30,shopping,,\n",
            "proxies.csv:2: covers: expected space-separated ordering receiving, got 'shopping'",
        ),
        (
            "R1,a,+819011112222,family,,paper,2026-11-30,ordering,,\n",
            "proxies.csv:2: consented_by: required field is missing",
        ),
    ],
)
def test_each_bad_field_is_named_by_file_row_and_field(region: Path, row: str, expected: str) -> None:
    assert _problems(region, GOOD.replace("R1,", "R2,", 1) + row.replace(",,\n", ",,true\n"))[
        0
    ] == expected.replace(":2:", ":3:")


def test_the_same_proxy_twice_is_reported_on_the_second_row(region: Path) -> None:
    assert _problems(region, GOOD + GOOD) == [
        "proxies.csv:3: phone: duplicate id 'R1 +819011112222' (first used in row 2)"
    ]


def test_a_bad_file_imports_nothing(region: Path, db: Database) -> None:
    _problems(region, GOOD + "R9,a,+819011112222,family,b,paper,2026-11-30,ordering,,true\n")
    with db.read() as s:
        assert s.scalar(select(Proxy.id)) is None


def test_loading_adds_texts_both_once_and_a_false_row_revokes(region: Path, db: Database) -> None:
    (region / "proxies.csv").write_text(HEADER + GOOD, encoding="utf-8")
    report = load_region(db, read_region(region))
    assert report.counts["proxies"]["created"] == 1
    load_region(db, read_region(region))  # loading again: updated, nobody texted again
    with db.read() as s:
        proxy = s.scalars(select(Proxy)).one()
        texts = sorted((m.phone, m.template) for m in s.scalars(select(Message)))
    assert (proxy.covers_ordering, proxy.covers_receiving, proxy.consent_method) == (True, True, "paper")
    assert proxy.consent_recorded_at.date().isoformat() == "2026-11-29"  # midnight in Tokyo, in UTC
    assert texts == [("+817000000001", "proxy_added"), ("+819011112222", "proxy_registered")]

    (region / "proxies.csv").write_text(HEADER + GOOD.replace(",true\n", ",false\n"), encoding="utf-8")
    assert load_region(db, read_region(region)).counts["proxies"]["revoked"] == 1
    with db.read() as s:
        assert not s.scalars(select(Proxy)).one().active
        assert sorted(m.template for m in s.scalars(select(Message))) == [
            "proxy_added",
            "proxy_registered",
            "proxy_removed",
            "proxy_revoked",
        ]
