"""The hub operators' console: region map and hub overview, with the plans waiting for review, the
batch timeline, today's routes and the couriers' last positions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, url_for
from flask_login import current_user

from dispatch.models import utcnow
from dispatch.queries import OrderRow, RegionOverview, order_queue, region_overview
from web.context import db, settings
from web.maps import HubPoint, MapAssets, MapData, PointFeature, RouteLine, ZoneShape, build_map, render_parts
from web.plan_queries import (
    batch_timeline,
    courier_positions,
    current_plan_ids,
    route_lines,
    waiting_for_review,
)
from web.security import access

bp = Blueprint("console", __name__)


#: How far back the dashboard map looks for plans (routes) and courier positions.
PLANS_SINCE = dt.timedelta(hours=18)
POSITIONS_SINCE = dt.timedelta(hours=2)


def region_map_data(overview: RegionOverview, visible_hubs: set[str] | None,
                    orders: list[OrderRow], routes: tuple[RouteLine, ...] = (),
                    couriers: tuple[PointFeature, ...] = ()) -> MapData:
    """What an operator sees: open orders of their hubs coloured by state (or, with no orders,
    their residents), and every hub, road and zone of the region."""
    points = [PointFeature(o.lon, o.lat, f"#{o.number} {o.resident_code} · {o.items}", o.state)
              for o in orders]
    if not points:
        points = [PointFeature(r.lon, r.lat, r.code, "received") for r in overview.residents
                  if visible_hubs is None or r.hub_id in visible_hubs]
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
    overview = region_overview(db())
    if overview is None:
        return render_template("console/empty.html")
    visible = current_user.hub_scope
    hubs = [h for h in overview.hubs if visible is None or h.id in visible]
    orders = order_queue(db(), visible)
    now = utcnow()
    routes = tuple(line for plan_id in current_plan_ids(db(), visible, now - PLANS_SINCE)
                   for line in route_lines(db(), plan_id))
    couriers = tuple(courier_positions(db(), visible, now - POSITIONS_SINCE))
    folium_map = build_map(region_map_data(overview, visible, orders, routes, couriers),
                           MapAssets.under(url_for("static", filename="vendor").rstrip("/")),
                           tiles=settings().tiles)
    hub_names = {h.id: h.name for h in overview.hubs}
    return render_template("console/dashboard.html", overview=overview, hubs=hubs, orders=orders,
                           hub_names=hub_names, map=render_parts(folium_map),
                           waiting=waiting_for_review(db(), visible),
                           timeline=batch_timeline(db(), visible, now))
