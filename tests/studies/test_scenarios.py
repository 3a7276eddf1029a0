"""Scenario files: strict checks (key and line named, nothing runs) and real re-planning on a copy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from dispatch.db import Database
from dispatch.models import Batch, Drone, Plan
from dispatch.studies.scenario_spec import ScenarioError, parse
from dispatch.studies.scenarios import check_against_database, run_scenario, run_sweep
from tests.studies.day import DAY, record_day, two_more_drones
from tests.studies.offline import external_references

REPO = Path(__file__).resolve().parents[2]
GOOD = two_more_drones("Two more drones", time_limit_s=5, solution_limit=20)


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse(text, "s.toml")
    return caught.value.problems


def test_a_good_scenario_parses() -> None:
    sc = parse(GOOD)
    assert sc.date == DAY and sc.hub == "H1" and sc.data["drones"]["add"][0]["count"] == 2


def test_unknown_key_is_named_with_its_line() -> None:
    text = GOOD + "[[volunteers.add]]\nhub = \"H1\"\ncount = 1\nspeed = 3\n"
    found = problems(text)
    assert found == ["s.toml: line 15: volunteers.add[0].speed: unknown key (allowed here: hub, count, mode, "
                     "capacity_kg, max_parcels, shift_start, shift_end, days)"]


def test_impossible_values_are_each_named_with_key_and_line() -> None:
    text = GOOD.replace("count = 2", "count = 0\nrange_km = -5") + "[hubs.cutoffs]\nH1 = [\"25:00\"]\n"
    found = problems(text)
    assert any(p.startswith("s.toml: line 11: drones.add[0].count: must be an integer from 1 to 50, got 0")
               for p in found), found
    assert any("line 12: drones.add[0].range_km: must be a number > 0" in p for p in found), found
    assert any("line 14: hubs.cutoffs.H1: has times that are not \"HH:MM\"" in p for p in found), found


def test_missing_base_and_bad_toml_are_refused() -> None:
    assert any("base: missing" in p for p in problems('name = "x"\n'))
    assert any("not valid TOML" in p for p in problems("[base\n"))
    found = problems("[base]\nhub = \"H1\"\n")
    assert found == ["s.toml: line 1: base: missing required key 'date'"]


def test_shift_ending_before_it_starts_is_refused() -> None:
    text = GOOD + '[[volunteers.add]]\nhub = "H1"\ncount = 1\nshift_start = "15:00"\nshift_end = "09:00"\n'
    assert any("line 16: volunteers.add[0].shift_end: the shift ends (09:00) before it starts" in p
               for p in problems(text))


@pytest.mark.db
def test_database_checks_name_the_key_and_nothing_runs(db: Database, tiny_region: str,
                                                        tmp_path: Path) -> None:
    record_day(db)
    text = GOOD.replace(f"date = {DAY.isoformat()}", "date = 2030-01-01")
    text = text.replace('hub = "H1"\ncount', 'hub = "X9"\ncount')
    sc = parse(text, "s.toml")
    with pytest.raises(ScenarioError) as caught:
        check_against_database(db, sc)
    assert caught.value.problems == [
        "s.toml: line 10: drones.add[0].hub: no hub 'X9' in region tiny (hubs: H1)"]
    sc = parse(text.replace('"X9"', '"H1"'), "s.toml")
    with pytest.raises(ScenarioError) as caught:
        check_against_database(db, sc)
    assert caught.value.problems[0].startswith("s.toml: line 4: base.date: no orders on 2030-01-01")
    assert DAY.isoformat() in caught.value.problems[0]  # it suggests the recorded day
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(Batch))
    args = ["scenario", "run", str(_write(text, tmp_path)), "--database", db.url]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 2 and "no hub 'X9'" in result.output
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Batch)) == before  # nothing ran


def _cli():  # type: ignore[no-untyped-def]
    from web.cli import main

    return main


def _write(text: str, folder: Path) -> Path:
    path = folder / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _ground_the_drone(db: Database) -> None:
    with db.write() as s:
        s.execute(update(Drone).values(status="maintenance"))


@pytest.mark.db
def test_two_more_drones_change_the_drone_sorties(db: Database, tiny_region: str) -> None:
    """On a day the only drone was in maintenance, two added drones fly sorties; the operational
    database is only read (no new batch or plan appears in it)."""
    _ground_the_drone(db)
    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    with db.read() as s:
        plans_before = s.scalar(select(func.count()).select_from(Plan))
    result = run_scenario(db, parse(GOOD))
    assert result.base.kpis.drone_sorties == 0
    assert result.changed.kpis.drone_sorties > 0
    assert result.changed.kpis.km_by_mode.get("drone", 0) > 0
    diff = {label: d for label, _, _, d in result.comparison()}
    assert diff["drone sorties"] == result.changed.kpis.drone_sorties
    assert result.base.kpis.orders == result.changed.kpis.orders == 5
    assert any(f["properties"].get("mode") == "drone" for f in result.changed.plan_geojson["features"])
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Plan)) == plans_before
    again = run_scenario(db, parse(GOOD))  # fixed seed and solution limit: comparable runs
    assert again.changed.kpis.row() == result.changed.kpis.row()


@pytest.mark.db
def test_cli_runs_a_scenario_and_writes_the_comparison(db: Database, tiny_region: str,
                                                       tmp_path: Path) -> None:
    _ground_the_drone(db)
    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    out = tmp_path / "out"
    result = CliRunner().invoke(_cli(), ["scenario", "run", str(_write(GOOD, tmp_path)), "--out", str(out),
                                         "--database", db.url])
    assert result.exit_code == 0, result.output
    assert "drone sorties" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["base_kpis.csv", "base_plan.geojson", "comparison.csv", "report.html",
                     "scenario_kpis.csv", "scenario_plan.geojson"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert external_references(html) == []
    assert "<svg" in html and "drone sorties" in html and 'id="map-scenario"' in html


@pytest.mark.db
@pytest.mark.slow
def test_sweep_runs_each_point_in_worker_processes(db: Database, tiny_region: str) -> None:
    _ground_the_drone(db)
    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    text = GOOD + '[sweep]\nhub = "H1"\ndrones = [0, 1]\nvolunteers = [0]\n'
    seen: list[tuple[int, int]] = []
    rows = run_sweep(db, parse(text), workers=2, progress=lambda done, total, row: seen.append((done, total)))
    assert [(r["drones_added"], r["volunteers_added"]) for r in rows] == [(0, 0), (1, 0)]
    assert sorted(seen) == [(1, 2), (2, 2)]
    # the scenario's own two drones are always there; the sweep adds more on top
    assert all(int(r["drone_sorties"]) > 0 for r in rows)  # type: ignore[call-overload]


def test_sample_scenario_file_parses() -> None:
    sc = parse((REPO / "sample_regions/tajima/scenarios/two_more_drones.toml").read_text(encoding="utf-8"))
    assert sc.data["drones"]["add"][0]["count"] == 2
    assert isinstance(sc.date, dt.date)


@pytest.mark.db
def test_the_example_scenario_changes_the_figures_of_the_demos_simulated_day(db: Database) -> None:
    """Issue 7's "two more drones" on Tajima: the example file, run on the day ``make demo`` simulates
    (same seed and orders, on a Tuesday), shows a difference. Kannabe has no drone port, so its
    drone-eligible orders (light enough, a drop point, due that day) went by car; two drones there
    take some of them."""
    from dispatch.config import Settings
    from dispatch.demo import SIMULATED_ORDERS, SIMULATED_SEED, SIMULATED_SOLUTION_LIMIT
    from dispatch.models import Hub, Order, Resident
    from dispatch.simulate import SimConfig, simulate
    from tests.conftest import TAJIMA
    from tests.studies.day import TOKYO
    from web.simulate_cli import RealSms

    day = dt.date(2026, 12, 1)
    config = SimConfig(region=TAJIMA, orders=SIMULATED_ORDERS, seed=SIMULATED_SEED, time_limit_s=2,
                       solution_limit=SIMULATED_SOLUTION_LIMIT, day=day)
    settings = Settings(secret_key="sim-pepper", public_url="https://hakobu.example")
    simulate(db, config, RealSms(db, settings), settings)
    with db.read() as s:
        kannabe = s.scalars(select(Hub).where(Hub.code == "KANNABE")).one()
        eligible = [o.number for o, r in s.execute(select(Order, Resident).join(
            Resident, Resident.id == Order.resident_id).where(Order.hub_id == kannabe.id))
            if r.drop_lon is not None and o.weight_kg <= 4.5
            and (o.window_start is None or o.window_start.astimezone(TOKYO).date() <= day)]
    assert not kannabe.drone_port and eligible, "the day must give Kannabe orders a drone could carry"

    sc = parse((REPO / "sample_regions/tajima/scenarios/two_more_drones.toml").read_text(encoding="utf-8"))
    sc.data["base"]["date"] = day  # what --date does
    result = run_scenario(db, sc)
    base, changed = result.base.kpis, result.changed.kpis
    assert base.drone_sorties == 0 and 0 < changed.drone_sorties <= len(eligible)
    assert changed.km_by_mode.get("drone", 0) > 0
    assert changed.km_by_mode.get("car", 0) < base.km_by_mode.get("car", 0)  # orders the car no longer takes
    assert base.orders == changed.orders
    diff = {label: d for label, _, _, d in result.comparison()}
    assert diff["drone sorties"] == changed.drone_sorties
