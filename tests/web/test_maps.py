"""The folium maps escape every text they put into a tooltip (red-team finding, issue 17)."""

from __future__ import annotations

import re

from flask import Flask

from web.maps import HubPoint, MapAssets, MapData, PointFeature, RouteLine, ZoneShape, build_map, render_parts

HOSTILE = "<img src=x onerror=alert(1)>`${alert(2)}`\\"


def test_labels_reach_the_map_script_only_as_escaped_text(app: Flask) -> None:
    data = MapData(
        center=(35.47, 134.77),
        hubs=[HubPoint(code="H", name=HOSTILE, kind="hub", drone_port=True, lon=134.77, lat=35.47)],
        points=[PointFeature(lon=134.78, lat=35.48, label=HOSTILE)],
        zones=[
            ZoneShape(
                "z", HOSTILE, "airport", {"type": "Point", "coordinates": [134.7, 35.4]}, "permanent", True
            )
        ],
        routes=[RouteLine("v", "walk", [[(134.77, 35.47), (134.78, 35.48)]], label=HOSTILE)],
        couriers=[PointFeature(lon=134.76, lat=35.46, label=HOSTILE)],
    )
    with app.test_request_context():
        script = render_parts(build_map(data, MapAssets.under("/static/vendor"), tiles="none")).script
    assert "<img" not in script  # no raw markup anywhere
    literals = re.findall(r"bindTooltip\(\s*`(.*?)`,", script, re.S)  # folium's tooltips: template literals
    assert len(literals) == 4 and not any("${" in body or "`" in body for body in literals)
    escaped = "&lt;img src=x onerror=alert(1)&gt;&#96;&#36;{alert(2)}&#96;&#92;"
    assert script.count(escaped) == 4  # the tooltips of the hub, the zone, the route and the courier
    assert script.count(escaped.replace("&", "\\u0026")) == 1  # the zone's name in the layer control
    # A point's label travels as JSON data and becomes the tooltip's textContent, never HTML.
    assert '"label": "\\u003cimg src=x' in script and "node.textContent = value" in script
