"""The study pack: the PII scan over every exported file, suppression, and an offline HTML."""

from __future__ import annotations

import itertools
import re
import struct
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dispatch.db import Database
from dispatch.models import Proxy, Resident, User, Volunteer
from dispatch.services.users import upsert_user
from dispatch.studies.studypack import PackOptions
from tests.studies.day import DAY, record_day
from tests.studies.offline import external_references
from web.studies.pack_page import write_pack

pytestmark = pytest.mark.db


NUMBER = re.compile(r"-?\d+\.\d+")


def secrets_of(db: Database) -> tuple[list[str], list[bytes], list[tuple[float, float]]]:
    """Every name, phone and resident id in the database (text), and every resident coordinate
    (home and drop point): as the pair of little-endian doubles a GeoPackage stores, and as a point.

    A coordinate is a (lon, lat) pair: one axis alone is no home (a hub or a road vertex may share a
    resident's longitude to the last digit, as it happens in the Tajima sample)."""
    texts: list[str] = []
    doubles: list[bytes] = []
    points: list[tuple[float, float]] = []
    with db.read() as s:
        for r in s.scalars(select(Resident)):
            texts += [r.name, r.phone, r.phone.lstrip("+"), "0" + r.phone[3:], r.id]
            for lon, lat in ((r.lon, r.lat), (r.drop_lon, r.drop_lat)):
                if lon is None or lat is None:
                    continue
                points.append((lon, lat))
                doubles.append(struct.pack("<dd", lon, lat))
                texts += [f"{lon:.5f},{lat:.5f}", f"{lon:.5f} {lat:.5f}", f"{lon}, {lat}"]
        for v in s.scalars(select(Volunteer)):
            texts += [v.name, v.phone, v.phone.lstrip("+")]
        for p in s.scalars(select(Proxy)):
            texts += [p.name, p.phone]
        texts += [u.name for u in s.scalars(select(User))]
    return [t for t in texts if t], doubles, points


def coordinate_pairs(text: str, points: list[tuple[float, float]]) -> list[str]:
    """Consecutive numbers in ``text`` that are a resident's (lon, lat) to 1e-6° (about 10 cm)."""
    homes = {(round(lon, 6), round(lat, 6)) for lon, lat in points}
    numbers = [float(n) for n in NUMBER.findall(text)]
    return [f"{a}, {b}" for a, b in itertools.pairwise(numbers) if (round(a, 6), round(b, 6)) in homes]


def scan(out: Path, db: Database) -> list[str]:
    """Hits of any secret in any file (bytes, UTF-8 text) and in any GeoPackage layer's values."""
    texts, doubles, points = secrets_of(db)
    hits = []
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert files, "nothing was exported"
    for path in files:
        raw = path.read_bytes()
        hits += [f"{path.name}: {t!r}" for t in texts if t.encode("utf-8") in raw]
        hits += [f"{path.name}: a resident coordinate as doubles" for d in doubles if d in raw]
        hits += [f"{path.name}: resident coordinate {c}" for c in
                 coordinate_pairs(raw.decode("utf-8", errors="replace"), points)]
        if path.suffix == ".gpkg":
            for layer, _ in pyogrio.list_layers(path):
                frame = gpd.read_file(path, layer=layer)
                dumped = frame.drop(columns="geometry").to_csv() + " ".join(frame.geometry.to_wkt())
                hits += [f"{path.name}:{layer}: {t!r}" for t in texts if t in dumped]
                hits += [f"{path.name}:{layer}: resident coordinate {c}"
                         for c in coordinate_pairs(dumped, points)]
    return hits


def test_the_pii_scan_finds_a_planted_name(db: Database, tiny_region: str, tmp_path: Path) -> None:
    """The scan itself works: a file with a resident's name and one with a home as a double fail it."""
    tmp_path = tmp_path / "planted"
    tmp_path.mkdir()
    with db.read() as s:
        resident = s.scalars(select(Resident)).first()
        assert resident is not None
    (tmp_path / "leak.txt").write_text(f"hello {resident.name}", encoding="utf-8")
    (tmp_path / "leak.bin").write_bytes(b"\x00" + struct.pack("<dd", resident.lon, resident.lat))
    (tmp_path / "leak.csv").write_text(f"x,{resident.lon:.6f},{resident.lat:.6f}\n", encoding="utf-8")
    hits = scan(tmp_path, db)
    assert {h.split(":")[0] for h in hits} == {"leak.txt", "leak.bin", "leak.csv"}


def test_study_pack_passes_the_pii_scan_and_keeps_only_big_cells(db: Database, tiny_region: str,
                                                                  tmp_path: Path) -> None:
    upsert_user(db, "planner@example.jp", "Planner Hanako", "planner", "correct horse battery")
    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    out = tmp_path / "pack"
    written = write_pack(db, PackOptions(DAY, DAY, grid_m=1000, k=2), out, lang="en")
    assert {p.name for p in written} == {"study-pack.html", "study-pack.gpkg", "cells.csv", "routes.csv",
                                         "hubs.csv", "kpis.csv", "orders_by_hour.csv"}
    assert scan(out, db) == []
    cells = gpd.read_file(out / "study-pack.gpkg", layer="cells")
    assert len(cells) >= 1 and (cells["households"] >= 2).all()
    assert cells["households"].sum() <= 5
    html = (out / "study-pack.html").read_text(encoding="utf-8")
    assert external_references(html) == [] and "<svg" in html and "cells" in html


def test_route_lines_stay_a_cell_away_from_every_home(db: Database, tiny_region: str,
                                                       tmp_path: Path) -> None:
    """With 50 m cells, lines survive between the homes but keep at least 50 m from each of them."""
    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    out = tmp_path / "pack"
    write_pack(db, PackOptions(DAY, DAY, grid_m=50, k=2), out)
    routes = gpd.read_file(out / "study-pack.gpkg", layer="routes")
    assert len(routes) > 0 and routes.to_crs("EPSG:6673").geometry.length.sum() > 0
    assert set(routes.columns) == {"route", "mode", "day", "depart_hour", "km_total", "km_shown", "geometry"}
    assert (routes["km_shown"] <= routes["km_total"]).all()
    assert all(h.endswith(":00") for h in routes["depart_hour"])
    with db.read() as s:
        homes = gpd.GeoSeries(gpd.points_from_xy(*zip(*[(r.lon, r.lat) for r in s.scalars(select(Resident))],
                                                      strict=True)), crs="EPSG:4326").to_crs("EPSG:6673")
    lines = routes.to_crs("EPSG:6673").geometry
    nearest = min(line.distance(home) for line in lines for home in homes)
    assert nearest >= 50 - 15  # one cell, less the 0.0001° rounding of the exported vertices
    assert scan(out, db) == []


def test_default_k_suppresses_every_cell_of_a_five_household_valley(db: Database, tiny_region: str,
                                                                     tmp_path: Path) -> None:
    record_day(db)
    out = tmp_path / "pack"
    write_pack(db, PackOptions(DAY, DAY), out)  # 250 m, k = 5: no cell has five households
    assert len(gpd.read_file(out / "study-pack.gpkg", layer="cells")) == 0
    assert scan(out, db) == []


def test_an_empty_map_says_how_many_cells_were_suppressed_and_suggests_a_coarser_grid(
        db: Database, tiny_region: str, tmp_path: Path) -> None:
    """Every cell suppressed is not "nobody lives here": the pack and the command say what happened
    and which grid would keep cells, and that grid does keep them."""
    from web.cli import main

    record_day(db)
    day = DAY.isoformat()
    result = CliRunner().invoke(main, ["export", "study-pack", "--from", day, "--to", day, "--lang", "en",
                                       "--out", str(tmp_path / "pack"), "--database", db.url])
    assert result.exit_code == 0, result.output
    with db.read() as s:
        homes = len(s.scalars(select(Resident)).all())
    inhabited = re.search(r"cells: 0 of (\d+) inhabited 250 m cells kept \(0 households\); (\d+) suppressed "
                          r"because they have fewer than k = 5 households \((\d+) households", result.output)
    assert inhabited, result.output
    assert inhabited.group(1) == inhabited.group(2) and int(inhabited.group(1)) >= 1
    assert int(inhabited.group(3)) == homes
    assert "no cell has enough households at this grid" in result.output
    html = (tmp_path / "pack" / "study-pack.html").read_text(encoding="utf-8")
    assert "no cell has enough households at this grid" in html and f"{inhabited.group(1)} inhabited" in html
    hint = re.search(r"--grid (\d+) would keep (\d+) cell\(s\) with (\d+) households", result.output)
    assert hint, result.output
    grid, kept, shown = int(hint.group(1)), int(hint.group(2)), int(hint.group(3))
    assert grid > 250 and kept >= 1
    write_pack(db, PackOptions(DAY, DAY, grid_m=grid), tmp_path / "coarse")  # k stays 5
    cells = gpd.read_file(tmp_path / "coarse" / "study-pack.gpkg", layer="cells")
    assert len(cells) == kept and (cells["households"] >= 5).all() and cells["households"].sum() == shown
    assert scan(tmp_path / "pack", db) == [] and scan(tmp_path / "coarse", db) == []


def test_fresh_ids_in_every_export(db: Database, tiny_region: str, tmp_path: Path) -> None:
    record_day(db)
    a = write_pack(db, PackOptions(DAY, DAY, grid_m=2000, k=2), tmp_path / "a")
    b = write_pack(db, PackOptions(DAY, DAY, grid_m=2000, k=2), tmp_path / "b")
    del a, b
    for layer, column in (("cells", "cell"), ("routes", "route")):
        ids_a = set(gpd.read_file(tmp_path / "a/study-pack.gpkg", layer=layer)[column])
        ids_b = set(gpd.read_file(tmp_path / "b/study-pack.gpkg", layer=layer)[column])
        assert not ids_a & ids_b
    assert len(gpd.read_file(tmp_path / "a/study-pack.gpkg", layer="cells")) >= 1


def test_cli_refuses_a_backwards_range(db: Database, tiny_region: str, tmp_path: Path) -> None:
    from web.cli import main

    result = CliRunner().invoke(main, ["export", "study-pack", "--from", "2026-03-05", "--to", "2026-03-01",
                                       "--out", str(tmp_path / "x"), "--database", db.url])
    assert result.exit_code == 2 and "ends (2026-03-01) before it starts" in result.output
    assert not (tmp_path / "x").exists()


def test_a_simulated_tajima_day_passes_the_pii_scan_at_the_default_and_a_coarser_grid(
        db: Database, tmp_path: Path) -> None:
    """The demo's kind of day (300 residents, drop points, drones, failures) through the real
    simulator: the defaults keep no cell and say so; --grid 1000 keeps some; neither leaks."""
    from dispatch.config import Settings
    from dispatch.demo import SIMULATED_SEED, SIMULATED_SOLUTION_LIMIT
    from dispatch.simulate import SimConfig, simulate
    from tests.conftest import TAJIMA
    from web.simulate_cli import RealSms

    day = DAY
    config = SimConfig(region=TAJIMA, orders=20, seed=SIMULATED_SEED, time_limit_s=1,
                       solution_limit=SIMULATED_SOLUTION_LIMIT, day=day)
    settings = Settings(secret_key="pack-pepper", public_url="https://x.example")
    summary = simulate(db, config, RealSms(db, settings), settings)
    assert summary["orders"]["delivered"] > 0
    written = write_pack(db, PackOptions(day, day), tmp_path / "default")
    assert len(gpd.read_file(tmp_path / "default" / "study-pack.gpkg", layer="cells")) == 0
    html = next(p for p in written if p.suffix == ".html").read_text(encoding="utf-8")  # Tajima: ja
    assert "この格子では世帯数が足りるセルがありません" in html and "--grid 1000 なら" in html
    write_pack(db, PackOptions(day, day, grid_m=1000), tmp_path / "coarse")
    cells = gpd.read_file(tmp_path / "coarse" / "study-pack.gpkg", layer="cells")
    assert len(cells) >= 1 and (cells["households"] >= 5).all()
    assert scan(tmp_path / "default", db) == [] and scan(tmp_path / "coarse", db) == []


def test_the_pack_speaks_the_regions_language_and_english_on_request(db: Database, tiny_region: str,
                                                                      tmp_path: Path) -> None:
    """The tiny region's locale is ja_JP: by default every heading, KPI label, chart title and the
    privacy and suppression notes are Japanese, and none of their English is left; ``--lang en``
    gives the English pack. Both pass the PII scan; the CSV keeps its English column names."""
    from dispatch.studies.kpis import HEADLINE
    from web.cli import main

    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    day = DAY.isoformat()
    for lang in ("", "en"):
        args = ["export", "study-pack", "--from", day, "--to", day, "--database", db.url,
                "--out", str(tmp_path / (lang or "default")), *(["--lang", lang] if lang else [])]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    ja = (tmp_path / "default" / "study-pack.html").read_text(encoding="utf-8")
    en = (tmp_path / "en" / "study-pack.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in ja and '<html lang="en">' in en
    japanese = ["勉強会資料", "<h2>指標</h2>", "<h2>時間帯別の注文</h2>", "<h2>プライバシー</h2>",
                "時間内配達率", "注文数と配達数", "手段別の走行距離", "CO2 排出係数と出典",
                "匿名化・集計済みのデータです",
                "この格子では世帯数が足りるセルがありません", "セル: 人が住む 250 m セル", "全ハブ"]
    assert [w for w in japanese if w not in ja] == []
    english = ["Study pack:", "<h2>KPIs</h2>", "<h2>Orders by hour</h2>", "<h2>Privacy</h2>",
               "Orders and delivered", "Kilometres by mode", "CO2 factors and sources",
               "Anonymous, aggregated",
               "no cell has enough households", "inhabited 250 m cells kept", "all hubs"]
    assert [w for w in english if w not in en] == []
    assert [w for w in english if w in ja] == []
    labels = [label for label, _key in HEADLINE]
    shown = re.findall(r"<tr><td>([^<]+)</td>", ja)
    assert "時間内配達率" in shown and not set(labels) & set(shown), set(labels) & set(shown)
    assert (tmp_path / "default" / "kpis.csv").read_text(encoding="utf-8").startswith("hub,day,")
    assert scan(tmp_path / "default", db) == [] and scan(tmp_path / "en", db) == []
    bad = CliRunner().invoke(main, ["export", "study-pack", "--from", day, "--to", day, "--lang", "fr",
                                    "--out", str(tmp_path / "fr"), "--database", db.url])
    assert bad.exit_code == 2 and "--lang" in bad.output and not (tmp_path / "fr").exists()


def test_drone_sorties_are_never_drawn(db: Database, tiny_region: str, tmp_path: Path) -> None:
    """Red-team finding: a drone's line, cut near homes, stayed straight, so extending what was left
    passed within metres of the drop point. Sorties are counted, never drawn."""
    from dispatch.models import Route

    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    with db.read() as s:
        sorties = s.scalars(select(Route).where(Route.mode == "drone")).all()
    assert sorties, "the recorded day has no drone sortie to hide"
    out = tmp_path / "pack"
    write_pack(db, PackOptions(DAY, DAY, grid_m=50, k=2), out)
    routes = gpd.read_file(out / "study-pack.gpkg", layer="routes")
    assert len(routes) > 0 and "drone" not in set(routes["mode"])
    assert "drone" not in (out / "routes.csv").read_text()


def test_the_cli_warns_of_a_grid_or_k_that_weakens_the_protection(db: Database, tiny_region: str,
                                                                    tmp_path: Path) -> None:
    from web.cli import main

    record_day(db, codes=("R1", "R2", "R3", "R4", "R5"))
    args = ["export", "study-pack", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--database", db.url]
    weak = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "w"), "--grid", "50", "--k", "2"])
    assert weak.exit_code == 0, weak.output
    assert "warning: --grid 50: route lines may pass 50 m from a home" in weak.output
    assert "warning: --k 2:" in weak.output
    fine = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "d")])
    assert fine.exit_code == 0 and "warning" not in fine.output
