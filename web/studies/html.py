"""Self-contained HTML documents (scenario reports, study packs): inline Leaflet, no requests.

A document opened offline from a USB stick in a town hall must work and must not call anyone:
Leaflet's script and stylesheet are inlined (with its images as ``data:`` URIs), maps have no tile
layer, data is embedded as JSON. Leaflet is the copy vendored for the console
(``web/static/vendor/leaflet``), read as this package's own data (:mod:`importlib.resources`), so
one copy serves the console and every document and an upgrade of it reaches both.

Maps are drawn by a few lines of our own JavaScript rather than folium: folium would pull its
plugins from CDNs, and the document must stay inert (text is set with ``textContent``, never HTML).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from typing import Any

LEAFLET = resources.files("web").joinpath("static", "vendor", "leaflet")
MODE_COLOURS = {"walk": "#2ca02c", "bicycle": "#17becf", "car": "#1f77b4", "drone": "#d62728"}


@dataclass
class MapLayer:
    """A named GeoJSON layer; ``style`` is Leaflet path style; a feature's ``_style`` / ``_label``
    properties override the style and give its tooltip text."""

    name: str
    data: dict[str, Any]
    style: dict[str, Any] = field(default_factory=dict)


@dataclass
class MapSpec:
    map_id: str
    title: str
    layers: list[MapLayer]


def leaflet_inline() -> tuple[str, str]:
    """(css, js) of the vendored Leaflet, the CSS with its images as data URIs."""
    css = LEAFLET.joinpath("leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        path = LEAFLET.joinpath(*match.group(1).split("/"))
        if not path.is_file():
            return "none"
        return f"url(data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"

    css = re.sub(r"url\((images/[A-Za-z0-9_.\-]+)\)", data_uri, css)
    js = LEAFLET.joinpath("leaflet.js").read_text(encoding="utf-8")
    return css, js


def _json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


MAP_SCRIPT = """
(function () {
  var specs = JSON.parse(document.getElementById('hakobu-maps').textContent);
  specs.forEach(function (spec) {
    var map = L.map(spec.map_id, {preferCanvas: true, maxZoom: 19});
    var overlays = {}, bounds = null;
    spec.layers.forEach(function (layer) {
      var group = L.geoJSON(layer.data, {
        style: function (f) { return Object.assign({}, layer.style, f.properties._style || {}); },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, Object.assign({radius: 5}, layer.style, f.properties._style || {}));
        },
        onEachFeature: function (f, l) {
          if (f.properties._label) {
            var span = document.createElement('span');
            span.textContent = String(f.properties._label);
            l.bindTooltip(span);
          }
        }
      }).addTo(map);
      overlays[layer.name] = group;
      var b = group.getBounds();
      if (b.isValid()) { bounds = bounds ? bounds.extend(b) : b; }
    });
    L.control.layers(null, overlays, {collapsed: false}).addTo(map);
    L.control.scale().addTo(map);
    if (bounds) { map.fitBounds(bounds, {padding: [10, 10]}); } else { map.setView([35.5, 134.8], 10); }
  });
})();
"""

STYLE = """
body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}
.maps{display:flex;gap:1em;flex-wrap:wrap}.map{flex:1 1 500px}
.map div.leaflet{height:460px;border:1px solid #aaa}
.note{color:#555;font-size:.9em}.charts svg{margin:0 1em 1em 0}
"""


def table_html(headers: list[str], rows: list[list[object]], caption: str = "", na: str = "n/a") -> str:
    """A table; ``None`` cells read ``na`` (undefined, never 0) in the document's language."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v, na))}</td>" for v in row) + "</tr>"
                   for row in rows)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v: object, na: str = "n/a") -> str:
    if v is None:
        return na
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    return str(v)


def document(title: str, body_html: str, maps: list[MapSpec], lang: str = "en") -> str:
    """A complete HTML document; ``body_html`` is trusted (built with :func:`escape` by callers)."""
    css, js = leaflet_inline() if maps else ("", "")
    map_html = ""
    if maps:
        cells = "".join(f'<div class="map"><h3>{escape(m.title)}</h3>'
                        f'<div class="leaflet" id="{escape(m.map_id)}"></div></div>' for m in maps)
        map_html = f'<div class="maps">{cells}</div>'
    specs = [{"map_id": m.map_id, "layers": [{"name": layer.name, "data": layer.data, "style": layer.style}
                                             for layer in m.layers]} for m in maps]
    scripts = (f'<script type="application/json" id="hakobu-maps">{_json(specs)}</script>'
               f"<script>{js}</script><script>{MAP_SCRIPT}</script>") if maps else ""
    return (f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{css}{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>{map_html}{body_html}{scripts}</body></html>")


def plan_layers(fc: dict[str, Any], prefix: str = "") -> list[MapLayer]:
    """Routing's plan GeoJSON split into legs and stops, coloured by mode."""
    legs, stops = [], []
    for f in fc.get("features", []):
        p = f["properties"]
        colour = MODE_COLOURS.get(p.get("mode", ""), "#555")
        if f["geometry"]["type"] == "LineString":
            style = {"color": colour, "weight": 3, "opacity": 0.85}
            if p.get("mode") == "drone":
                style["dashArray"] = "6 5"
            legs.append(_styled(f, style, f"{p.get('mode')} {str(p.get('vehicle_id', ''))[:6]}"))
        elif "reason" in p:
            stops.append(_styled(f, {"color": "#000", "fillColor": "#dc3545", "fillOpacity": 1},
                                 f"unserved: {p['reason']}"))
        elif p.get("kind") == "delivery":
            stops.append(_styled(f, {"color": "#333", "fillColor": colour, "fillOpacity": 0.9},
                                 f"{p.get('mode')} stop {p.get('seq')}"))
    return [MapLayer(f"{prefix}routes", {"type": "FeatureCollection", "features": legs}),
            MapLayer(f"{prefix}stops", {"type": "FeatureCollection", "features": stops}, {"weight": 1})]


def _styled(feature: dict[str, Any], style: dict[str, Any], label: str) -> dict[str, Any]:
    """The feature with only a style and a tooltip label as properties (nothing else leaks)."""
    properties = {"_style": style, "_label": label}
    return {"type": "Feature", "geometry": feature["geometry"], "properties": properties}
