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


def _orders(db: Database) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Order)) or 0


def test_a_shift_jis_manifest_from_japanese_excel_imports(db: Database, database_url: str,
                                                          tiny_region: str, tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes("resident,items\r\nR1,米5kg:1;牛乳:2:本\r\n".encode("cp932"))
    result = _run(database_url, "import", "orders", str(path))
    assert result.exit_code == 0, result.output
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        assert [(i.name, i.quantity, i.unit) for i in order.items] == [("米5kg", 1, None), ("牛乳", 2, "本")]


def test_a_utf8_manifest_with_a_bom_imports(db: Database, database_url: str, tiny_region: str,
                                            tmp_path: Path) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes("\ufeffresident,items\nR2,豆腐:1:丁\n".encode())
    assert _run(database_url, "import", "orders", str(path)).exit_code == 0
    assert _orders(db) == 1


@pytest.mark.parametrize(("content", "expected"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff", "manifest.csv:0: (file): not UTF-8 or Shift_JIS text"),
    ("resident,items\nR1,米:1\n".encode("utf-16"), "manifest.csv:0: (file): not UTF-8 or Shift_JIS text"),
    (b"", "manifest.csv:1: resident: required column is missing"),
    ("resident,items\nR1,米:1,牛乳:2\n".encode(),
     "manifest.csv:2: (row): 1 more value(s) than columns: '牛乳:2' (separate items with ';')"),
    ("resident,items\nR1,米:25\n".encode(), "manifest.csv:2: items: quantity of '米' must be 1-20, got 25"),
    ("resident,items\nR1,米:0\n".encode(), "manifest.csv:2: items: quantity of '米' must be 1-20, got 0"),
    ("resident,items\nR1,米\n".encode(), "manifest.csv:2: items: '米' is not name:quantity[:unit]"),
    ("resident,items,origin\nR1,米:1,H1\n".encode(), "manifest.csv:2: origin: 'H1' is not a supply point"),
    ("resident,items,day,part\nR1,米:1,2,noon\n".encode(), "manifest.csv:2: day: '2' is not 0 or 1"),
    ('resident,items\nR1,"米:1\nR2,パン:1\n'.encode(), "manifest.csv:2: (syntax): unexpected end of data"),
], ids=["binary", "utf-16", "empty", "comma-separated items", "quantity 25", "quantity 0", "no quantity",
        "origin not a supply point", "day 2", "unclosed quote"])
def test_bad_manifests_are_refused_with_a_clear_line_and_nothing_is_imported(
        db: Database, database_url: str, tiny_region: str, tmp_path: Path, content: bytes,
        expected: str) -> None:
    path = tmp_path / "manifest.csv"
    path.write_bytes(content)
    result = _run(database_url, "import", "orders", str(path))
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert _orders(db) == 0


def test_a_missing_file_is_a_clear_error(database_url: str, tiny_region: str, tmp_path: Path) -> None:
    result = _run(database_url, "import", "orders", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "nope.csv:0: (file): No such file or directory" in result.output


def test_export_lists_each_order_once_with_its_channel_and_no_personal_data(
        db: Database, database_url: str, tiny_region: str, tmp_path: Path) -> None:
    import datetime as dt

    from dispatch.config import Settings
    from dispatch.models import Resident
    from dispatch.requests import ItemRequest
    from dispatch.services.ordering import place_order
    from sms.service import receive_sms

    now = dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.UTC)
    receive_sms(db, "twilio", "SMexport", "+817000000001", "注文 米 2", now, settings=Settings())
    receive_sms(db, "twilio", "SMexport", "+817000000001", "注文 米 2", now,  # Twilio's retry
                settings=Settings())
    with db.read() as s:
        r2 = s.scalars(select(Resident.id).where(Resident.code == "R2")).one()
    place_order(db, r2, [ItemRequest("パン", 1)], channel="web", now=now)
    place_order(db, r2, [ItemRequest("薬", 1)], channel="phone", now=now)
    _run(database_url, "import", "orders", str(_write(tmp_path, "resident,items\nR3,bread:1\n")))
    result = _run(database_url, "export", "orders", "--format", "json")
    assert result.exit_code == 0, result.output
    exported = json.loads(result.output)
    assert sorted(row["channel"] for row in exported) == ["import", "phone", "sms", "web"]
    assert len({row["id"] for row in exported}) == len({row["number"] for row in exported}) == 4
    text = result.output
    for private in ("田中", "佐藤", "Emily", "+81", "7000000001"):
        assert private not in text
