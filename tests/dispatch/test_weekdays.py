"""Days as volunteer coordinators write them (issue 20, item 1): ranges, lists, Japanese words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dispatch.region import RegionError, read_region
from dispatch.weekdays import parse_days

TINY = Path(__file__).resolve().parents[2] / "sample_regions" / "tiny"


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon wed fri", ("mon", "wed", "fri")),
        ("Mon-Fri", ("mon", "tue", "wed", "thu", "fri")),
        ("Mon-Sun", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        ("mon,wed", ("mon", "wed")),
        ("Tuesday, Thursday", ("tue", "thu")),
        ("fri - mon", ("mon", "fri", "sat", "sun")),
        ("平日", ("mon", "tue", "wed", "thu", "fri")),
        ("毎日", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        ("土日", ("sat", "sun")),
        ("月・水・金", ("mon", "wed", "fri")),
        ("月曜日〜木曜日", ("mon", "tue", "wed", "thu")),
        ("every day", ("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
    ],
)
def test_days_are_read_in_week_order(text: str, days: tuple[str, ...]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon tues", "unknown day 'tues'"),
        ("Mon-Fri, wed", "wed is listed twice in 'Mon-Fri, wed'"),
        ("mon-xyz", "unknown day 'mon-xyz'"),
    ],
)
def test_a_day_that_is_not_one_is_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_days(text)


def test_volunteers_csv_takes_ranges_lists_and_japanese(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    path = folder / "volunteers.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("mon tue wed thu fri\n", "平日\n").replace("mon tue wed thu fri sat\n", '"mon,wed"\n'),
        encoding="utf-8",
    )
    assert [v.days for v in read_region(folder).volunteers] == [
        ("mon", "tue", "wed", "thu", "fri"),
        ("mon", "wed"),
    ]
    path.write_text(text.replace("mon tue wed thu fri\n", "Mon-Sun\n"), encoding="utf-8")
    assert len(read_region(folder).volunteers[0].days) == 7
    path.write_text(text.replace("mon tue wed thu fri\n", "毎週\n"), encoding="utf-8")
    with pytest.raises(RegionError, match=r"volunteers.csv:2: days: unknown day '毎週'"):
        read_region(folder)
