"""Folium map builders: plain data in, a ``folium.Map`` out. Presentation only.

No database, request or solver access happens here, so the same builders serve the console, the
courier page, the planners' replay and the study-session export. Large layers are emitted as one
GeoJSON object each (not thousands of separate markers) so a 1,000-order day stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import folium
from flask_babel import gettext as _
from folium.plugins import MarkerCluster

ORDER_COLOURS = {
    "received": "#6c757d",
    "confirmed": "#0d6efd",
    "batched": "#6610f2",
    "planned": "#fd7e14",
    "dispatched": "#d63384",
    "in_transit": "#ffc107",
    "delivered": "#198754",
    "failed": "#dc3545",
    "returned": "#dc3545",
    "cancelled": "#adb5bd",
}
#: The Leaflet ``className`` of courier markers: the dashboard's live script replaces these.
COURIER_CLASS = "hakobu-courier"
ZONE_COLOURS = {
    "PROHIBITED": "#dc3545",
    "REQ_AUTHORIZATION": "#fd7e14",
    "CONDITIONAL": "#ffc107",
    "NO_RESTRICTION": "#20c997",
}
ROUTE_PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
                 "#ff7f0e", "#7f7f7f", "#d62728")


@dataclass(frozen=True)
class MapAssets:
    """Where Leaflet and its plugins are loaded from (our own origin by default: works offline)."""

    leaflet_js: str
    leaflet_css: str
    cluster_js: str
    cluster_css: tuple[str, ...]

    @classmethod
    def under(cls, prefix: str) -> MapAssets:
        """Assets served from ``prefix`` (e.g. ``/static/vendor``), laid out as in web/static/vendor."""
        return cls(
            leaflet_js=f"{prefix}/leaflet/leaflet.js",
            leaflet_css=f"{prefix}/leaflet/leaflet.css",
            cluster_js=f"{prefix}/markercluster/leaflet.markercluster.js",
            cluster_css=(
                f"{prefix}/markercluster/MarkerCluster.css",
                f"{prefix}/markercluster/MarkerCluster.Default.css",
            ),
        )


@dataclass(frozen=True)
class HubPoint:
    code: str
    name: str
    kind: str
    drone_port: bool
    lon: float
    lat: float


@dataclass(frozen=True)
class PointFeature:
    """A resident or an order on the map. ``label`` must already be safe for the viewer's role."""

    lon: float
    lat: float
    label: str
    status: str = "received"
    #: A stable key the page's live script finds the marker by (the order number); "" for none.
    key: str = ""


@dataclass(frozen=True)
class ZoneShape:
    identifier: str
    name: str
    type: str
    geometry: dict[str, Any]  # GeoJSON, WGS84
    validity: str  # human text: "permanent", "2026-12-05 09:00–17:00"
    active: bool


@dataclass(frozen=True)
class RouteLine:
    """One vehicle's legs: ``legs`` are WGS84 (lon, lat) coordinate sequences, put into the GeoJSON
    as they are (lists or tuples); drone legs are drawn dashed."""

    vehicle: str
    mode: str
    legs: Sequence[Sequence[Sequence[float]]]
    label: str = ""


class StoredLine(Protocol):
    """A route's stored display line (``dispatch.read.lines.MapLine``): one joined path."""

    vehicle: str
    mode: str
    path: Sequence[Sequence[float]]


def route_lines(lines: Iterable[StoredLine]) -> tuple[RouteLine, ...]:
    """Stored route lines as the builder draws them (each one leg: stored lines are joined)."""
    return tuple(RouteLine(vehicle=line.vehicle, mode=line.mode, legs=(line.path,)) for line in lines)


@dataclass(frozen=True)
class MapData:
    center: tuple[float, float]  # lat, lon
    hubs: Sequence[HubPoint] = ()
    points: Sequence[PointFeature] = ()
    roads: dict[str, Any] | None = None  # GeoJSON FeatureCollection
    zones: Sequence[ZoneShape] = ()
    routes: Sequence[RouteLine] = ()
    couriers: Sequence[PointFeature] = ()
    points_layer_name: str = "Residents"
    zoom: int = 11
    extra: dict[str, Any] = field(default_factory=dict)


def _set_assets(element: Any, js: list[tuple[str, str]], css: list[tuple[str, str]]) -> None:
    # Instance attributes shadow folium's class-level CDN lists.
    element.default_js = js
    element.default_css = css


def build_map(data: MapData, assets: MapAssets, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """Build the map for ``data``. ``tiles`` is a folium tile name, a URL template, or None/"none"."""
    use_tiles = None if tiles in (None, "", "none") else tiles
    attribution = "Hakobu" if use_tiles and "{" in use_tiles else None
    m = folium.Map(location=list(data.center), zoom_start=data.zoom, tiles=use_tiles, attr=attribution,
                   control_scale=True, prefer_canvas=True, max_zoom=19,
                   maxZoom=19)  # the map itself needs maxZoom when there is no tile layer
    _set_assets(m, [("leaflet", assets.leaflet_js)], [("leaflet_css", assets.leaflet_css)])
    if data.roads:
        folium.GeoJson(
            data.roads, name=_("Roads"), smooth_factor=1.5,
            style_function=lambda f: {"color": "#555", "weight": 1 + _road_weight(f), "opacity": 0.6},
        ).add_to(m)
    for zone in data.zones:
        _add_zone(m, zone)
    if data.points:
        _add_points(m, data.points, data.points_layer_name, assets)
    for index, route in enumerate(data.routes):
        _add_route(m, route, ROUTE_PALETTE[index % len(ROUTE_PALETTE)])
    for hub in data.hubs:
        folium.Marker(
            [hub.lat, hub.lon],
            tooltip=f"{hub.name} ({_(hub.kind)}{_(', drone port') if hub.drone_port else ''})",
            icon=folium.DivIcon(html=_hub_icon(hub), icon_size=(22, 22), icon_anchor=(11, 11)),
        ).add_to(m)
    for courier in data.couriers:
        folium.CircleMarker([courier.lat, courier.lon], radius=7, color="#000", weight=2,
                            fill=True, fill_color="#ffc107", fill_opacity=1,
                            class_name=COURIER_CLASS, tooltip=courier.label).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    corners = [(h.lat, h.lon) for h in data.hubs] + [(p.lat, p.lon) for p in data.points]
    if len(corners) >= 2:
        lats, lons = [c[0] for c in corners], [c[1] for c in corners]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    return m


def _road_weight(feature: dict[str, Any]) -> int:
    return {"primary": 3, "secondary": 2, "local": 1}.get(feature["properties"].get("kind", ""), 0)


def _hub_icon(hub: HubPoint) -> str:
    colour = "#0d6efd" if hub.kind == "hub" else "#6f42c1"
    symbol = "✈" if hub.drone_port else ("〒" if hub.kind == "supply" else "H")
    return (f'<div class="hub-icon" style="background:{colour};color:#fff;border-radius:4px;'
            f'width:22px;height:22px;text-align:center;font:bold 14px/22px sans-serif">{symbol}</div>')


def _add_zone(m: folium.Map, zone: ZoneShape) -> None:
    colour = ZONE_COLOURS.get(zone.type, "#6c757d")
    folium.GeoJson(
        {"type": "Feature", "geometry": zone.geometry, "properties": {}},
        name=_("Zone: %(name)s", name=zone.name),
        style_function=lambda _f, c=colour, a=zone.active: {
            "color": c, "fillColor": c, "weight": 2, "fillOpacity": 0.25 if a else 0.05,
            "dashArray": None if a else "6 6",
        },
        tooltip=f"{zone.name} · {_(zone.type)} · {_(zone.validity)}"
                f"{'' if zone.active else ' (' + _('not active now') + ')'}",
    ).add_to(m)


def _add_points(m: folium.Map, points: Iterable[PointFeature], name: str, assets: MapAssets) -> None:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
         "properties": {"label": p.label, "colour": ORDER_COLOURS.get(p.status, "#6c757d"),
                        **({"key": p.key} if p.key else {})}}
        for p in points
    ]
    cluster = MarkerCluster(name=name, options={"disableClusteringAtZoom": 15})
    _set_assets(cluster, [("markerclusterjs", assets.cluster_js)],
                [(f"cluster_css_{i}", url) for i, url in enumerate(assets.cluster_css)])
    # One GeoJSON layer for all points; colours travel in the properties.
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        marker=folium.CircleMarker(radius=5, weight=1, fill=True, fill_opacity=0.9),
        style_function=lambda f: {"color": "#333", "fillColor": f["properties"]["colour"]},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(cluster)
    cluster.add_to(m)


def _add_route(m: folium.Map, route: RouteLine, colour: str) -> None:
    drone = route.mode == "drone"
    features = [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "LineString", "coordinates": leg}}
        for leg in route.legs if len(leg) >= 2
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=f"{route.vehicle} ({_(route.mode)})",
        style_function=lambda _f: {"color": colour, "weight": 4 if not drone else 3,
                                   "dashArray": "8 6" if drone else None, "opacity": 0.9},
        tooltip=route.label or f"{route.vehicle} · {_(route.mode)}",
    ).add_to(m)


@dataclass(frozen=True)
class MapParts:
    """A rendered map split for embedding in our own page: <head> part, body part, script."""

    header: str
    html: str
    script: str
    map_id: str


def render_parts(m: folium.Map) -> MapParts:
    root = m.get_root()
    root.render()
    return MapParts(
        header=root.header.render(),
        html=root.html.render(),
        script=root.script.render(),
        map_id=m.get_name(),
    )
