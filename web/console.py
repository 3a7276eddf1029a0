"""The hub operators' console: region map and hub overview, with the plans waiting for review, the
batch timeline, today's routes and the couriers' last positions.

The page renders the map once; ``web/static/live_map.js`` then polls :func:`live_data` (JSON)
every ~10 s, as the handoff board does, and moves the couriers, the drones in the air (estimated
positions) and the order markers and queue without a reload. Reading is
:func:`dispatch.read.live_map.live_map`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from dispatch.read.dashboard import OrderRow, region_hub_scope, regions_in_scope
from dispatch.read.dashboard import dashboard as read_dashboard
from dispatch.read.live_map import live_map
from dispatch.read.permits import expiring_rows
from dispatch.read.region import RegionOverview, ResidentPoint
from dispatch.read.search import Search, filter_options, matches
from web.board import call_title
from web.context import now, read, settings
from web.filters import search_args, search_from_request
from web.inputs import parse_aware_time
from web.maps import (
    ORDER_COLOURS,
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
from web.phrases import zone_name
from web.security import access

bp = Blueprint("console", __name__)

#: How often the dashboard polls for positions and orders.
POLL_SECONDS = 10


#: The states an open order can be in (the queue's state filter), in the order of its life.
QUEUE_STATES = ("received", "confirmed", "batched", "planned", "dispatched", "in_transit", "failed",
                "returned", "parked")


def found_orders(orders: list[OrderRow], search: Search) -> list[OrderRow]:
    """The queue's orders the operator's search and filters find (all without a search)."""
    if not search.active:
        return orders
    return [o for o in orders if matches(search, number=o.number, name=o.resident_name, code=o.resident_code,
                                         phone=o.resident_phone, state=o.state, hub_id=o.hub_id,
                                         carrier_id=o.carrier_id)]


def order_label(order: OrderRow) -> str:
    """An order marker's tooltip: number, resident code and items (no name or address)."""
    return f"#{order.number} {order.resident_code} · {order.items}"


def region_map_data(overview: RegionOverview, residents: Iterable[ResidentPoint], orders: list[OrderRow],
                    routes: tuple[RouteLine, ...] = (), couriers: tuple[PointFeature, ...] = (),
                    own_hubs: Iterable[str] | None = None) -> MapData:
    """What an operator sees: open orders of their hubs coloured by state (or, with no orders,
    ``residents``: those of their hubs), and every hub, road and zone of the region; the map
    opens framed on ``own_hubs`` (the operator's; None: the whole region) and their points."""
    points = [PointFeature(o.lon, o.lat, order_label(o), o.state, key=str(o.number)) for o in orders]
    if not points:
        points = [PointFeature(r.lon, r.lat, r.code, "received") for r in residents]
    own = set(own_hubs) if own_hubs is not None else set()
    hubs = [HubPoint(h.code, h.name, h.kind, h.drone_port, h.lon, h.lat, own=h.id in own)
            for h in overview.hubs]
    frame = [(h.lat, h.lon) for h in hubs if h.own]
    return MapData(
        center=overview.center,
        hubs=hubs,
        frame=[*frame, *((p.lat, p.lon) for p in points)] if frame else (),
        points=points,
        points_layer_name=_("Orders") if orders else _("Residents"),
        roads=overview.roads,
        zones=[ZoneShape(z.identifier, zone_name(z.name, z.names), z.type, z.geometry, z.validity, z.active)
               for z in overview.zones],
        routes=routes,
        couriers=couriers,
        zoom=11,
    )


@bp.route("/")
@access("operator", "planner", "admin")
def dashboard() -> Any:
    loaded_at = now()
    regions = read(regions_in_scope, current_user.hub_scope)
    view = read(read_dashboard, current_user.hub_scope, loaded_at, request.args.get("region"))
    if view is None:
        return render_template("console/empty.html")
    couriers = tuple(PointFeature(c.lon, c.lat, c.code, "in_transit") for c in view.couriers)
    search = search_from_request()
    orders = found_orders(view.orders, search)
    data = region_map_data(view.overview, view.residents, orders, route_lines(view.lines), couriers,
                           current_user.hub_scope)
    folium_map = build_map(data, MapAssets.under(url_for("static", filename="vendor").rstrip("/")),
                           tiles=settings().tiles)
    return render_template("console/dashboard.html", overview=view.overview, hubs=view.hubs,
                           orders=orders, all_orders=len(view.orders), search=search,
                           search_args=search_args(search), filter_options=read(filter_options,
                                                                                 current_user.hub_scope),
                           order_states=[(s, _(s)) for s in QUEUE_STATES],
                           hub_names={h.id: h.name for h in view.overview.hubs},
                           map=render_parts(folium_map), waiting=view.waiting, timeline=view.timeline,
                           solve_queue=view.solve_queue, regions=regions,
                           expiring_permits=read(expiring_rows, current_user.hub_scope,
                                                 loaded_at.astimezone(ZoneInfo(view.overview.timezone)).date()),
                           loaded_at=loaded_at.isoformat(), poll_seconds=POLL_SECONDS)


def _since() -> dt.datetime | None:
    """``?since=``: when the page was loaded (an aware ISO time), None when absent or malformed."""
    return parse_aware_time(request.args.get("since"))


@bp.route("/live")
@access("operator", "planner", "admin")
def live_data() -> Any:
    """The dashboard's live layers as JSON for the page's poller: labels translated, times local."""
    scope = read(region_hub_scope, current_user.hub_scope, request.args.get("region"))
    view = read(live_map, scope, now(), _since())
    orders = found_orders(view.orders, search_from_request())

    def when(value: dt.datetime | None) -> str:
        return format_datetime(value, "short") if value else ""

    return jsonify({
        "generated_at": when(view.generated_at),
        "new_orders": view.new_orders,
        "new_label": ngettext("%(num)d new since the page was loaded",
                              "%(num)d new since the page was loaded", view.new_orders),
        "couriers": [{"code": c.code, "lon": c.lon, "lat": c.lat} for c in view.couriers],
        "drones": [{"label": d.label, "lon": d.lon, "lat": d.lat, "estimated": d.estimated,
                    "tooltip": _("%(drone)s · estimated position (took off %(at)s)",
                                 drone=d.label, at=when(d.taken_off_at))} for d in view.drones],
        "orders": [{"number": o.number, "resident_code": o.resident_code, "items": o.items,
                    "resident_name": o.resident_name, "resident_phone": o.resident_phone,
                    "call_title": call_title(o.resident_name or o.resident_code),
                    "channel": f"{o.channel} · {o.integration}" if o.integration else o.channel,
                    "channel_label": f"{_(o.channel)} · {o.integration}" if o.integration else _(o.channel),
                    "state": o.state, "state_label": _(o.state),
                    "window": f"{when(o.window_start)}–{when(o.window_end)}" if o.window_start else "",
                    "lon": o.lon, "lat": o.lat, "label": order_label(o),
                    "colour": ORDER_COLOURS.get(o.state, "#6c757d")} for o in orders],
    })
