"""Weather go/no-go per drone (issue 14, item 2) on the tiny region with a forecast in
Open-Meteo's format: a windy afternoon keeps the drone to the morning; afternoon orders go by
road, with reason ``weather`` when nobody can take them, and the plan says so; the take-off in
the wind is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.db import Database
from dispatch.errors import DomainError
from dispatch.models import Batch, Drone, Volunteer
from dispatch.phrases import english
from dispatch.planning import build_problem, plan_batch
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services.batching import close_batch
from dispatch.services.ordering import place_order
from dispatch.weather import readings as weather
from dispatch.weather.limits import DEFAULT_LIMITS
from tests.dispatch.test_planning import CUTOFF, FAST, hub_id, latest_plan, resident_id

pytestmark = pytest.mark.db

FORECAST = Path(__file__).resolve().parent.parent / "data" / "open_meteo_tiny_2026-03-02.json"
WINDY_FROM = CUTOFF.replace(hour=12)  # the afternoon (from 12:00) is over the limit


def test_the_open_meteo_answer_is_read_in_metres_per_second_and_local_hours() -> None:
    hours = weather.parse_open_meteo(FORECAST.name, FORECAST.read_text(encoding="utf-8"))
    assert len(hours) == 24 and hours[12].start == WINDY_FROM
    assert hours[12].weather.wind_ms == pytest.approx(38.5 / 3.6) and hours[11].weather.wind_ms < 5
    assert hours[12].weather.wind_ms > DEFAULT_LIMITS["max_wind_ms"] > hours[11].weather.wind_ms
    with pytest.raises(weather.WeatherFileError) as caught:
        weather.parse_open_meteo(
            "x.json",
            '{"hourly": {"time": ["2026-03-02T00:00"], "wind_speed_10m": [1]},'
            ' "hourly_units": {"wind_speed_10m": "beaufort"}}',
        )
    assert str(caught.value.problems[0]) == (
        "x.json:0: hourly_units.wind_speed_10m: unit 'beaufort' is not one of m/s, km/h, kn, mp/h"
    )


def test_a_weather_file_names_file_row_and_field() -> None:
    with pytest.raises(weather.WeatherFileError) as caught:
        weather.parse_csv(
            "obs.csv",
            "starts_at,ends_at,wind_ms\n"
            "2026-03-02T09:00+09:00,2026-03-02T10:00+09:00,calm\n"
            "2026-03-02T10:00,2026-03-02T09:00+09:00,3\n",
        )
    assert [str(p) for p in caught.value.problems] == [
        "obs.csv:2: wind_ms: must be a number, got 'calm'",
        "obs.csv:3: starts_at: must be an ISO time with offset, got '2026-03-02T10:00'",
    ]


def windy_day(db: Database, couriers: bool) -> tuple[str, dict[str, str]]:
    """R4 wants the morning, R5 the afternoon (both have drop points); the forecast recorded for
    the hub; the 10:00 batch closed. Returns the batch id and {code: order id}."""
    hours = weather.parse_open_meteo(FORECAST.name, FORECAST.read_text(encoding="utf-8"))
    weather.record(db, hub_id(db), hours, "open-meteo", "test", now=CUTOFF - dt.timedelta(hours=3))
    if not couriers:
        with db.write() as s:
            for volunteer in s.scalars(select(Volunteer)):
                volunteer.active = False
    placed = CUTOFF - dt.timedelta(hours=1)
    ids = {
        code: place_order(
            db,
            resident_id(db, code),
            [ItemRequest("パン", 1)],
            channel="web",
            now=placed,
            time_wish=TimeWish(0, part),
        ).id
        for code, part in (("R4", "morning"), ("R5", "afternoon"))
    }
    return close_batch(db, hub_id(db), CUTOFF, now=CUTOFF).batch_id, ids


def test_the_drone_is_planned_only_until_the_wind_and_the_afternoon_order_by_road(
    db: Database, tiny_region: str
) -> None:
    batch_id, ids = windy_day(db, couriers=True)
    with db.read() as s:
        built = build_problem(s, s.get_one(Batch, batch_id))
    (drone,) = built.problem.drones
    assert built.problem.at(drone.available_until) == WINDY_FROM
    modes = {o.id: o.modes for o in built.problem.orders}
    assert "drone" in modes[ids["R4"]] and "drone" not in modes[ids["R5"]]
    plan = latest_plan(db, plan_batch_and_wait(db, batch_id))
    assert plan.validation["ok"], plan.validation["violations"]
    r5_on = [r for r in plan.routes for st in r.stops if st.order_id == ids["R5"]]
    assert r5_on and all(r.drone_id is None for r in r5_on)  # by road
    notes = [english(n) for n in plan.flight_notes]
    assert any(
        n.startswith("drone D1 stays on the ground 12:00–") and "beyond its limit 10" in n for n in notes
    ), notes
    assert any(n.startswith("order #") and "goes by road: the weather" in n for n in notes)


def plan_batch_and_wait(db: Database, batch_id: str) -> str:
    plan_batch(db, batch_id, **FAST)
    return batch_id


def test_with_nobody_on_the_road_the_morning_sortie_flies_and_the_afternoon_order_waits_for_weather(
    db: Database, tiny_region: str
) -> None:
    batch_id, ids = windy_day(db, couriers=False)
    plan = latest_plan(db, plan_batch_and_wait(db, batch_id))
    assert plan.validation["ok"], plan.validation["violations"]
    sorties = [r for r in plan.routes if r.drone_id is not None]
    assert [st.order_id for r in sorties for st in r.stops if st.kind == "delivery"] == [ids["R4"]]
    assert all(r.return_at <= WINDY_FROM for r in sorties)
    assert [(u["order_id"], u["reason"]) for u in plan.unserved] == [(ids["R5"], "weather")]


def test_the_take_off_in_the_wind_is_refused_and_a_newer_manual_entry_wins(
    db: Database, tiny_region: str
) -> None:
    from dispatch.services import sorties
    from tests.dispatch.test_sorties import OK, STAFF, drone_day

    day = drone_day(db)
    hours = weather.parse_open_meteo(FORECAST.name, FORECAST.read_text(encoding="utf-8"))
    windy = [h for h in hours if h.start <= day.depart_at < h.end]
    assert windy
    gale = [weather.Reading(windy[0].start, windy[0].end, weather.Weather(wind_ms=14.0))]
    weather.record(
        db, hub_id(db), gale, "manual", "user:staff1", now=day.depart_at - dt.timedelta(minutes=30)
    )
    with pytest.raises(
        DomainError, match=r"the weather is beyond drone D1's limits now: wind_ms 14, limit 10"
    ):
        sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    calm = [weather.Reading(windy[0].start, windy[0].end, weather.Weather(wind_ms=3.0))]
    weather.record(db, hub_id(db), calm, "manual", "user:staff1", now=day.depart_at - dt.timedelta(minutes=5))
    sorties.take_off(db, day.sortie, STAFF, day.depart_at, OK)
    with db.read() as s:
        assert s.get_one(Drone, day.drone).status == "available"


def test_hakobu_weather_load_stores_a_forecast_or_names_each_bad_row(
    db: Database, tiny_region: str, database_url: str, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from dispatch.models import WeatherReading
    from web.cli import main

    runner = CliRunner()
    ok = runner.invoke(
        main,
        [
            "weather",
            "load",
            str(FORECAST),
            "--hub",
            "H1",
            "--format",
            "open-meteo",
            "--database",
            database_url,
        ],
    )
    assert ok.exit_code == 0 and "24 reading(s) stored for H1 (open-meteo)" in ok.output
    bad = tmp_path / "obs.csv"
    bad.write_text("starts_at,ends_at,wind_ms\n2026-03-02T09:00+09:00,2026-03-02T10:00+09:00,calm\n")
    refused = runner.invoke(main, ["weather", "load", str(bad), "--hub", "H1", "--database", database_url])
    assert refused.exit_code == 2 and "obs.csv:2: wind_ms: must be a number, got 'calm'" in refused.output
    with db.read() as s:
        assert {r.source for r in s.scalars(select(WeatherReading))} == {"open-meteo"}
