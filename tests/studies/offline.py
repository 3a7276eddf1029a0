"""What in an HTML document would make the browser fetch something from elsewhere."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

LEAFLET = Path(__file__).resolve().parents[2] / "web/static/vendor/leaflet/leaflet.js"

#: src/href attributes, CSS url() and @import that point at another origin (or are protocol-relative).
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s)""",
    re.IGNORECASE,
)


def external_references(html: str) -> list[str]:
    """Every reference that would fetch from elsewhere. The inlined copy of the vendored Leaflet is
    taken out first: its source mentions leafletjs.com in the attribution link (a link a person may
    click, not a request the page makes)."""
    html = html.replace(_leaflet(), "")
    return [html[max(m.start() - 40, 0):m.end() + 60] for m in EXTERNAL.finditer(html)]


@cache
def _leaflet() -> str:
    return LEAFLET.read_text(encoding="utf-8")
