"""The printed route sheet of a courier route (issue 16, item 7), for a courier who goes out with
paper: hub operators (and planners) print it from the plan page; the courier's own is at
``/courier/route/<id>/sheet`` (:mod:`web.courier`). Reading is :func:`dispatch.read.sheets.route_sheet`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _

from dispatch.read.sheets import RouteSheet, route_sheet
from web.auth import require_hub
from web.context import now, read
from web.security import access

bp = Blueprint("sheets", __name__)

def consent_label(consent: str) -> str:
    """Where a parcel may be left when nobody answers, as the sheet says it (``handover_consent``)."""
    return {"neighbour": _("may be left with the neighbour"), "hall": _("may be left at the community hall"),
            "either": _("may be left with the neighbour or at the community hall")}.get(consent, "")


def render_sheet(sheet: RouteSheet, back_url: str) -> Any:
    """The sheet's page: a standalone document laid out for A4 paper (and readable on screen)."""
    return render_template("sheets/route_sheet.html", sheet=sheet, printed_at=now(), back_url=back_url,
                           consent_label=consent_label)


@bp.route("/routes/<route_id>/sheet")
@access("operator", "planner", "admin")
def route_sheet_page(route_id: str) -> Any:
    sheet = read(route_sheet, route_id)
    require_hub(sheet.hub_id if sheet else None, f"route {route_id}")
    assert sheet is not None
    return render_sheet(sheet, url_for("plans.show", plan_id=sheet.plan_id))
