"""Bulk import of orders: row-level errors like the region loader, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dispatch.db import Database
from dispatch.models import Order
from web.cli import main

pytestmark = pytest.mark.db


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _run(database_url: str, *args: str) -> object:
    return CliRunner().invoke(main, [*args, "--database", database_url])


def test_a_valid_manifest_imports_every_row(db: Database, database_url: str, tiny_region: str,
                                            tmp_path: Path) -> None:
    path = _write(tmp_path, "resident,items,priority,day,part\n"
                            "R1,米5kg:1;牛乳:2:本,1,1,morning\nR3,bread:2,,,\n")
    result = _run(database_url, "import", "orders", str(path))
    assert result.exit_code == 0, result.output
    with db.read() as s:
        orders = s.scalars(select(Order).order_by(Order.number)).all()
    assert [o.channel for o in orders] == ["import", "import"]
    assert orders[0].priority == 1 and orders[0].weight_kg == pytest.approx(5 + 2 * 1.05)
    exported = json.loads(_run(database_url, "export", "orders", "--format", "json").output)
    assert [row["number"] for row in exported] == [o.number for o in orders]
    assert {row["channel"] for row in exported} == {"import"}


def test_every_problem_is_reported_with_row_and_field_and_nothing_is_imported(
        db: Database, database_url: str, tiny_region: str, tmp_path: Path) -> None:
    path = _write(tmp_path, "resident,items,priority,colour\n"
                            "R1,米:1,2,red\n"
                            ",米:1,5,\n"
                            "R2,milk:lots,2,\n"
                            "R99,米:1,2,\n")
    result = _run(database_url, "import", "orders", str(path))
    assert result.exit_code == 2
    assert "manifest.csv:1: colour: unknown column" in result.output
    assert "manifest.csv:3: priority: '5' is not 1, 2 or 3" in result.output
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0


def test_rows_that_fail_against_the_database_roll_everything_back(
        db: Database, database_url: str, tiny_region: str, tmp_path: Path) -> None:
    path = _write(tmp_path, "resident,items\nR1,米:1\nR99,米:1\nR2,米:1\n")
    result = _run(database_url, "import", "orders", str(path))
    assert result.exit_code == 2
    assert "manifest.csv:3: resident: no active resident with code 'R99'" in result.output
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0


def test_row_level_parse_errors_name_each_row(database_url: str, tiny_region: str,
                                              tmp_path: Path) -> None:
    path = _write(tmp_path, "resident,items,priority\n,米:1,5\nR2,milk:lots,2\n")
    result = _run(database_url, "import", "orders", str(path))
    assert result.exit_code == 2
    assert "manifest.csv:2: resident: required" in result.output
    assert "manifest.csv:2: priority: '5' is not 1, 2 or 3" in result.output
    assert "manifest.csv:3: items: quantity 'lots' of 'milk' is not a whole number" in result.output
