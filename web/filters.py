"""The search and filter form of the order queue, the board and the plans list (issue 16, item 6):
``?q=`` (order number, phone or name), ``?state=``, ``?hub=``, ``?route=`` (a courier or drone), read
into a :class:`dispatch.read.search.Search`. The pages' pollers keep the same arguments, so a
filtered list stays filtered when it redraws."""

from __future__ import annotations

from flask import request

from dispatch.read.search import Search

#: Longest search text taken from the URL (a name or a phone number is far shorter).
MAX_TEXT = 80


def search_from_request(*, with_state: bool = True) -> Search:
    """The search of the current request (empty values: no filter)."""
    args = request.args
    return Search(text=args.get("q", "")[:MAX_TEXT].strip(),
                  state=args.get("state", "")[:32] if with_state else "",
                  hub_id=args.get("hub", "")[:64], carrier_id=args.get("route", "")[:64])


def search_args(search: Search) -> dict[str, str]:
    """The search as URL arguments (for the pollers' URLs and links that keep it)."""
    pairs = {"q": search.text, "state": search.state, "hub": search.hub_id, "route": search.carrier_id}
    return {k: v for k, v in pairs.items() if v}
