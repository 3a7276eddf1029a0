"""A tiny hand-checkable region (1 hub, 5 residents, a few roads, one zone) built in metres.

Everything is laid out in JGD2011 / Japan Plane Rectangular CS V (EPSG:6673) around a point near
Toyooka, then converted to WGS84, so lengths along the roads are exact round numbers:

        r3 (1000, 1200)
         |
         |  zone Z: square 1150..1350 x 210..410 (+50 m buffer)
  r4 (-1000, 800)          r2 drop (2500, 600)
   | path (no cars)
 r5 ---+----- hub(0,0) ---- r1 (800, 0) --+-------- r2 (2500, 0) ---- (3000, 0)
 (-1800, 0)                               (1000, 0) branch north to (1000, 1500)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from routing.geo import to_wgs84
from routing.problem import Drone, Order, Place, Problem, Road, Vehicle, Weights, Zone

CRS = "EPSG:6673"
ORIGIN = np.array([44000.0, -51000.0])
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
HOUR = 3600


def ll(x: float, y: float) -> tuple[float, float]:
    """WGS84 (lon, lat) of a point given in metres relative to the tiny region's origin."""
    lon, lat = to_wgs84(CRS, ORIGIN + np.array([[x, y]]))[0]
    return (float(lon), float(lat))


def square(cx: float, cy: float, half: float) -> shapely.Polygon:
    """WGS84 square of side 2*half metres centred at (cx, cy) metres."""
    return shapely.Polygon(
        [ll(cx - half, cy - half), ll(cx + half, cy - half), ll(cx + half, cy + half),
         ll(cx - half, cy + half)]
    )


ROADS = (
    Road("main-w", "local", (ll(-1800, 0), ll(-1000, 0), ll(0, 0))),
    Road("main-e", "local", (ll(0, 0), ll(800, 0), ll(1000, 0), ll(2500, 0), ll(3000, 0))),
    Road("branch", "local", (ll(1000, 0), ll(1000, 1500))),
    Road("path", "path", (ll(-1000, 0), ll(-1000, 800)), car=False),
)

HOMES = {
    "r1": (800, 0),
    "r2": (2500, 0),
    "r3": (1000, 1200),
    "r4": (-1000, 800),
    "r5": (-1800, 0),
}


def tiny_problem(**overrides: object) -> Problem:
    """The tiny problem: a car and a bicycle courier, one drone, five orders at the hub."""
    orders = tuple(
        Order(
            id=rid,
            weight_kg=2.0,
            home=ll(*xy),
            window=(0, 4 * HOUR),
            origin="hub",
            service_s=60,
            drop=ll(2500, 600) if rid == "r2" else None,
            modes=frozenset({"walk", "bicycle", "car"}),
        )
        for rid, xy in HOMES.items()
    )
    fields: dict[str, object] = dict(
        name="tiny",
        crs=CRS,
        timezone="Asia/Tokyo",
        t0=T0,
        hub=Place("hub", *ll(0, 0)),
        vehicles=(
            Vehicle("car1", "car", 30.0, 10, 0, 4 * HOUR, "hub", "hub"),
            Vehicle("bike1", "bicycle", 8.0, 4, 0, 4 * HOUR, "hub", "hub"),
        ),
        drones=(),
        orders=orders,
        zones=(Zone("Z", square(1250, 310, 100), buffer_m=50.0),),
        roads=ROADS,
        weights=Weights(time_per_s=1, distance_per_m=0, volunteer_fixed=1800),
    )
    fields.update(overrides)
    return Problem(**fields)  # type: ignore[arg-type]


def tiny_drone() -> Drone:
    """A drone at the hub: 4.5 kg payload, 20 km range, 10 m/s."""
    return Drone("d1", "hub", payload_kg=4.5, range_m=20000, cruise_mps=10.0, turnaround_s=300,
                 max_sorties=3)
