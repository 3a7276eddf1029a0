"""Folium map builders: plain data in, a ``folium.Map`` out. Presentation only.

No database, request or solver access happens here, so the same builders serve the console, the
courier page, the planners' replay and the study-session export. Large layers are emitted as one
GeoJSON object each (not thousands of separate markers) so a 1,000-order day stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, Protocol

import folium
from branca.element import MacroElement
from flask_babel import gettext as _
from folium.plugins import MarkerCluster
from jinja2 import Template

from web.phrases import validity

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
    "unserved": "#dc3545",  # a plan's order no vehicle takes (not an order state)
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
    own: bool = False  # the viewer's hub: drawn with a ring, and the map opens framed on it


@dataclass(frozen=True)
class PointFeature:
    """A resident or an order on the map. ``label`` must already be safe for the viewer's role."""

    lon: float
    lat: float
    label: str  # plain text: the page shows it as text, never as HTML
    status: str = "received"
    #: A stable key the page's live script finds the marker by (the order number); "" for none.
    key: str = ""
    #: A stop's number on its route, drawn in the marker ("": a plain dot coloured by ``status``).
    number: str = ""
    colour: str = ""  # the marker's colour (a stop: its route's), default the status colour


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
    colour: str = ""  # default: the palette by the line's position on the map


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
    #: (lat, lon) points the map opens framed on (the operator's hub and its stops); default the
    #: hubs and the points.
    frame: Sequence[tuple[float, float]] = ()
    legend: bool = True


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
        _add_route(m, route, route.colour or ROUTE_PALETTE[index % len(ROUTE_PALETTE)])
    for hub in data.hubs:
        folium.Marker(
            [hub.lat, hub.lon],
            tooltip=map_text(f"{hub.name} ({_(hub.kind)}{_(', drone port') if hub.drone_port else ''})"),
            icon=folium.DivIcon(html=_hub_icon(hub), icon_size=(22, 22), icon_anchor=(11, 11)),
        ).add_to(m)
    for courier in data.couriers:
        folium.CircleMarker([courier.lat, courier.lon], radius=7, color="#000", weight=2,
                            fill=True, fill_color="#ffc107", fill_opacity=1,
                            class_name=COURIER_CLASS, tooltip=map_text(courier.label)).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if data.legend:
        Legend(legend_entries(data)).add_to(m)
    corners = list(data.frame) or [(h.lat, h.lon) for h in data.hubs] + [(p.lat, p.lon) for p in data.points]
    if len(corners) >= 2:
        lats, lons = [c[0] for c in corners], [c[1] for c in corners]
        m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(20, 20))
    return m


def map_text(text: str) -> str:
    """``text`` made safe for a folium tooltip or layer name. Folium writes a tooltip's text raw into
    a JavaScript template literal that Leaflet puts into ``innerHTML`` (the layer control's names go
    into ``innerHTML`` too), so it is HTML-escaped, and the characters that end or interpolate a
    template literal (`` ` ``, ``$``, ``\\``) become entities: HTML escaping alone leaves
    ``${…}`` to run as script (issue 17). Point labels need none of it: :class:`PointsGeoJson`
    sets them with ``textContent``."""
    return (escape(text, quote=True).replace("`", "&#96;").replace("$", "&#36;")
            .replace("\\", "&#92;"))


def _road_weight(feature: dict[str, Any]) -> int:
    return {"primary": 3, "secondary": 2, "local": 1}.get(feature["properties"].get("kind", ""), 0)


def _hub_icon(hub: HubPoint) -> str:
    colour = "#0d6efd" if hub.kind == "hub" else "#6f42c1"
    ring = "box-shadow:0 0 0 3px #fff,0 0 0 6px #000;" if hub.own else ""
    own = " own" if hub.own else ""
    return (f'<div class="hub-icon{own}" style="background:{colour};color:#fff;border-radius:4px;{ring}'
            f'width:22px;height:22px;text-align:center;font:bold 14px/22px sans-serif">'
            f"{_hub_symbol(hub)}</div>")


def _hub_symbol(hub: HubPoint) -> str:
    return "✈" if hub.drone_port else ("〒" if hub.kind == "supply" else "H")


def _add_zone(m: folium.Map, zone: ZoneShape) -> None:
    colour = ZONE_COLOURS.get(zone.type, "#6c757d")
    folium.GeoJson(
        {"type": "Feature", "geometry": zone.geometry, "properties": {}},
        name=map_text(_("Zone: %(name)s", name=zone.name)),
        style_function=lambda _f, c=colour, a=zone.active: {
            "color": c, "fillColor": c, "weight": 2, "fillOpacity": 0.25 if a else 0.05,
            "dashArray": None if a else "6 6",
        },
        tooltip=map_text(f"{zone.name} · {_(zone.type)} · {validity(zone.validity)}"
                         f"{'' if zone.active else ' (' + _('not active now') + ')'}"),
    ).add_to(m)


def _add_points(m: folium.Map, points: Iterable[PointFeature], name: str, assets: MapAssets) -> None:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
         "properties": {"label": p.label, "colour": p.colour or ORDER_COLOURS.get(p.status, "#6c757d"),
                        **({"key": p.key} if p.key else {}), **({"number": p.number} if p.number else {})}}
        for p in points
    ]
    cluster = MarkerCluster(name=name, options={"disableClusteringAtZoom": 15})
    _set_assets(cluster, [("markerclusterjs", assets.cluster_js)],
                [(f"cluster_css_{i}", url) for i, url in enumerate(assets.cluster_css)])
    PointsGeoJson({"type": "FeatureCollection", "features": features}).add_to(cluster)
    cluster.add_to(m)


class PointsGeoJson(MacroElement):  # type: ignore[misc]
    """All points of a map as one GeoJSON layer inside its marker cluster.

    Not folium's ``GeoJson`` + ``GeoJsonTooltip``: that binds the tooltip on the GeoJSON group,
    which Leaflet opens only for a group that is itself on the map, and a group inside a
    marker cluster never is (the cluster adds its markers, not the group): tooltips never opened
    (issue 16). Here each marker gets its own tooltip, built with ``textContent`` (a label is text,
    never HTML), and a stop with a number is drawn as a numbered badge in its route's colour.
    Markers keep ``feature.properties.key`` for the dashboard's live script.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  function text(tag, value) { var node = document.createElement(tag); node.textContent = value; return node; }
  L.geoJson({{ this.data | tojson }}, {
    pointToLayer: function (feature, latlng) {
      var p = feature.properties;
      if (p.number) {
        var badge = text("div", p.number);
        badge.className = "map-stop";
        badge.style.cssText = "background:" + p.colour + ";color:#fff;border:2px solid #fff;"
          + "border-radius:50%;width:22px;height:22px;box-sizing:border-box;"
          + "text-align:center;font:bold 11px/18px sans-serif;"
          + "box-shadow:0 0 2px #000";
        return L.marker(latlng, {icon: L.divIcon({html: badge, className: "map-stop-icon",
                                                  iconSize: [22, 22], iconAnchor: [11, 11]})});
      }
      return L.circleMarker(latlng, {radius: 5, weight: 1, color: "#333", fill: true, fillColor: p.colour,
                                     fillOpacity: 0.9});
    },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(text("div", feature.properties.label), {sticky: true, className: "map-tip"});
    }
  }).addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "PointsGeoJson"
        self.data = data


def _add_route(m: folium.Map, route: RouteLine, colour: str) -> None:
    drone = route.mode == "drone"
    features = [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "LineString", "coordinates": leg}}
        for leg in route.legs if len(leg) >= 2
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=map_text(f"{route.vehicle} ({_(route.mode)})"),
        style_function=lambda _f: {"color": colour, "weight": 4 if not drone else 3,
                                   "dashArray": "8 6" if drone else None, "opacity": 0.9},
        tooltip=map_text(route.label or f"{route.vehicle} · {_(route.mode)}"),
    ).add_to(m)


# --- the legend ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: a swatch (``kind``: line, dashed, dot, stop, hub, zone) and text."""

    kind: str
    colour: str
    text: str
    symbol: str = ""


def legend_entries(data: MapData) -> list[LegendEntry]:
    """What the map draws, one line each: hubs, route lines by vehicle, numbered stops, point
    colours (order states, unserved), zone types."""
    out = [LegendEntry("hub", "#0d6efd" if h.kind == "hub" else "#6f42c1", h.name, _hub_symbol(h))
           for h in data.hubs]
    for index, route in enumerate(data.routes):
        colour = route.colour or ROUTE_PALETTE[index % len(ROUTE_PALETTE)]
        out.append(LegendEntry("dashed" if route.mode == "drone" else "line", colour,
                               f"{route.vehicle} ({_(route.mode)})"))
    if any(p.number for p in data.points):
        out.append(LegendEntry("stop", "#555", _("Stop number on its route (ETA in the tooltip)"), "1"))
    for status in dict.fromkeys(p.status for p in data.points if not p.number):
        out.append(LegendEntry("dot", ORDER_COLOURS.get(status, "#6c757d"), _(status)))
    if data.couriers:
        out.append(LegendEntry("dot", "#ffc107", _("Courier (last position)")))
    for kind in dict.fromkeys(z.type for z in data.zones):
        text = _("No-fly zone: %(type)s", type=_(kind))
        out.append(LegendEntry("zone", ZONE_COLOURS.get(kind, "#6c757d"), text))
    return out


_SWATCH = {
    "line": "display:inline-block;width:18px;height:0;border-top:4px solid {c};vertical-align:middle",
    "dashed": "display:inline-block;width:18px;height:0;border-top:3px dashed {c};vertical-align:middle",
    "dot": "display:inline-block;width:10px;height:10px;border-radius:50%;background:{c};"
           "border:1px solid #333",
    "stop": "display:inline-block;width:16px;height:16px;border-radius:50%;background:{c};color:#fff;"
            "font:bold 10px/16px sans-serif;text-align:center",
    "hub": "display:inline-block;width:16px;height:16px;border-radius:3px;background:{c};color:#fff;"
           "font:bold 11px/16px sans-serif;text-align:center",
    "zone": "display:inline-block;width:14px;height:10px;background:{c};opacity:.5;border:2px solid {c}",
}


def legend_html(entries: Sequence[LegendEntry]) -> str:
    """The legend's HTML, every text escaped."""
    rows = "".join(
        f'<li><span class="swatch" style="{_SWATCH[e.kind].format(c=escape(e.colour))}">'
        f"{escape(e.symbol)}</span> {escape(e.text)}</li>" for e in entries)
    return (f'<details open><summary>{escape(_("Legend"))}</summary>'
            f'<ul style="list-style:none;margin:.3rem 0 0;padding:0;line-height:1.5">{rows}</ul></details>')


class Legend(MacroElement):  # type: ignore[misc]
    """The legend as a Leaflet control in the map's lower right corner (collapsible)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "leaflet-control map-legend");
    div.style.cssText = "background:#fff;padding:.4rem .6rem;border-radius:6px;box-shadow:0 1px 4px #0005;"
      + "font:12px/1.4 sans-serif;max-height:40vh;overflow:auto;max-width:16rem";
    div.innerHTML = {{ this.html | tojson }};
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, entries: Sequence[LegendEntry]) -> None:
        super().__init__()
        self._name = "Legend"
        self.html = legend_html(entries)


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
