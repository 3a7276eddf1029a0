"""The hub operators' console: region map and hub overview."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_login import current_user

from dispatch.queries import RegionOverview, region_overview
from web.context import db, settings
from web.maps import HubPoint, MapAssets, MapData, PointFeature, ZoneShape, build_map, render_parts
from web.security import access

bp = Blueprint("console", __name__)


def region_map_data(overview: RegionOverview, visible_hubs: set[str] | None) -> MapData:
    """What an operator sees: their hubs' residents, every hub, road and zone of the region."""
    return MapData(
        center=overview.center,
        hubs=[HubPoint(h.code, h.name, h.kind, h.drone_port, h.lon, h.lat) for h in overview.hubs],
        points=[
            PointFeature(r.lon, r.lat, r.code, "confirmed" if r.has_drop_point else "received")
            for r in overview.residents
            if visible_hubs is None or r.hub_id in visible_hubs
        ],
        roads=overview.roads,
        zones=[ZoneShape(z.identifier, z.name, z.type, z.geometry, z.validity, z.active)
               for z in overview.zones],
        zoom=11,
    )


@bp.route("/")
@access("operator", "planner", "admin")
def dashboard() -> Any:
    overview = region_overview(db())
    if overview is None:
        return render_template("console/empty.html")
    visible = None if current_user.role in ("admin", "planner") else set(current_user.hub_ids)
    hubs = [h for h in overview.hubs if visible is None or h.id in visible]
    folium_map = build_map(region_map_data(overview, visible),
                           MapAssets.under(url_for("static", filename="vendor").rstrip("/")),
                           tiles=settings().tiles)
    return render_template("console/dashboard.html", overview=overview, hubs=hubs,
                           map=render_parts(folium_map))
