"""The hub operators' console: region map and hub overview, with the plans waiting for review, the
batch timeline, today's routes and the couriers' last positions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, render_template, url_for
from flask_login import current_user

from dispatch.models import utcnow
from dispatch.read.dashboard import OrderRow
from dispatch.read.dashboard import dashboard as read_dashboard
from dispatch.read.region import RegionOverview, ResidentPoint
from web.context import read, settings
from web.maps import (
    HubPoint,
    MapAssets,
    MapData,
    PointFeature,
    RouteLine,
    ZoneShape,
    build_map,
    render_parts,
    route_lines,
)
from web.security import access

bp = Blueprint("console", __name__)


def region_map_data(overview: RegionOverview, residents: Iterable[ResidentPoint], orders: list[OrderRow],
                    routes: tuple[RouteLine, ...] = (), couriers: tuple[PointFeature, ...] = ()) -> MapData:
    """What an operator sees: open orders of their hubs coloured by state (or, with no orders,
    ``residents``: those of their hubs), and every hub, road and zone of the region."""
    points = [PointFeature(o.lon, o.lat, f"#{o.number} {o.resident_code} · {o.items}", o.state)
              for o in orders]
    if not points:
        points = [PointFeature(r.lon, r.lat, r.code, "received") for r in residents]
    return MapData(
        center=overview.center,
        hubs=[HubPoint(h.code, h.name, h.kind, h.drone_port, h.lon, h.lat) for h in overview.hubs],
        points=points,
        points_layer_name="Orders" if orders else "Residents",
        roads=overview.roads,
        zones=[ZoneShape(z.identifier, z.name, z.type, z.geometry, z.validity, z.active)
               for z in overview.zones],
        routes=routes,
        couriers=couriers,
        zoom=11,
    )


@bp.route("/")
@access("operator", "planner", "admin")
def dashboard() -> Any:
    view = read(read_dashboard, current_user.hub_scope, utcnow())
    if view is None:
        return render_template("console/empty.html")
    couriers = tuple(PointFeature(c.lon, c.lat, c.code, "in_transit") for c in view.couriers)
    data = region_map_data(view.overview, view.residents, view.orders, route_lines(view.lines), couriers)
    folium_map = build_map(data, MapAssets.under(url_for("static", filename="vendor").rstrip("/")),
                           tiles=settings().tiles)
    return render_template("console/dashboard.html", overview=view.overview, hubs=view.hubs,
                           orders=view.orders, hub_names={h.id: h.name for h in view.overview.hubs},
                           map=render_parts(folium_map), waiting=view.waiting, timeline=view.timeline)
