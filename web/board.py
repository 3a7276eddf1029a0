"""The handoff board: for each parcel of the hub's day, who holds it now and its chain of custody so
far, exceptions on top (failed delivery, locked PIN, overdue against the ETA, welfare notes).

The page renders the board once; ``web/static/board.js`` then polls :func:`data` (JSON) every
~10 s and redraws the table without reloading. Custody changes are recorded by the courier and hub
services (``dispatch.services``), never here; the one write is acknowledging an alert
(:func:`dispatch.services.delivery.acknowledge_alert`, operators and admins of the alert's hub).
Welfare notes and other operator alerts are read from the ``operator_alert`` table through a
lightweight table object, so the board's read also works on a database without that table.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import column, inspect, or_, select, table
from sqlalchemy.orm import Session

from dispatch.db import Database
from dispatch.errors import NotFound
from dispatch.localtime import timezone_of_hubs
from dispatch.models import (
    Batch,
    Drone,
    HandoffEvent,
    Hub,
    Order,
    Plan,
    Resident,
    Route,
    Stop,
    Volunteer,
    utcnow,
)
from dispatch.read.drones import late_sortie_orders
from dispatch.services.delivery import acknowledge_alert
from web.context import db, settings
from web.security import access

bp = Blueprint("board", __name__, url_prefix="/board")
log = logging.getLogger(__name__)

#: A parcel is overdue this long after its planned ETA while not yet delivered.
OVERDUE_AFTER = dt.timedelta(minutes=30)
#: States in which a parcel is somewhere between the hub and the door (shown whatever the day).
MOVING = ("dispatched", "in_transit", "failed", "returned")
#: Exception codes, most urgent first (the board's sort order).
EXCEPTIONS = ("welfare", "pin_locked", "failed", "sortie_late", "overdue", "returned")
#: How often the page polls for changes.
POLL_SECONDS = 10

_ALERTS = table("operator_alert", column("id"), column("hub_id"), column("kind"), column("order_id"),
                column("text"), column("created_at"), column("acknowledged_at"))


@dataclass(frozen=True)
class Hop:
    kind: str
    giver: str
    taker: str
    proof: str
    at: dt.datetime


@dataclass(frozen=True)
class ParcelRow:
    order_id: str
    number: int
    resident_code: str
    hub_id: str
    state: str
    holder: str
    eta: dt.datetime | None
    chain: tuple[Hop, ...]
    exceptions: tuple[str, ...]


@dataclass(frozen=True)
class AlertRow:
    id: str
    kind: str
    number: int | None
    text: str
    at: dt.datetime


@dataclass(frozen=True)
class Board:
    day: dt.date
    timezone: str
    generated_at: dt.datetime
    parcels: tuple[ParcelRow, ...]
    alerts: tuple[AlertRow, ...]


def _timezone(session: Session, hub_ids: set[str] | None) -> str:
    return timezone_of_hubs(session, hub_ids).key


def build_board(database: Database, hub_ids: set[str] | None, day: dt.date | None = None,
                now: dt.datetime | None = None, sortie_late_after: dt.timedelta | None = None) -> Board:
    """The board of ``day`` (the region's local date; today by default) for the given hubs.

    With ``sortie_late_after``, the parcels of a drone sortie that has not taken off that long
    after its planned start are flagged ``sortie_late`` (hub staff should fly or abort it).
    """
    now = now or utcnow()
    with database.read() as s:
        tz = _timezone(s, hub_ids)
        zone = ZoneInfo(tz)
        day = day or now.astimezone(zone).date()
        start = dt.datetime.combine(day, dt.time(0), zone)
        end = start + dt.timedelta(days=1)
        stmt = (select(Order, Resident.code).join(Resident, Order.resident_id == Resident.id)
                .outerjoin(Batch, Order.batch_id == Batch.id)
                .where(or_((Batch.cutoff_at >= start) & (Batch.cutoff_at < end),
                           Order.state.in_(MOVING), Order.pin_locked.is_(True))))
        if hub_ids is not None:
            stmt = stmt.where(Order.hub_id.in_(hub_ids))
        orders = list(s.execute(stmt))
        ids = [o.id for o, _ in orders]
        events: dict[str, list[HandoffEvent]] = {}
        for event in s.scalars(select(HandoffEvent).where(HandoffEvent.order_id.in_(ids))
                               .order_by(HandoffEvent.seq)):
            events.setdefault(event.order_id, []).append(event)
        etas = dict(s.execute(
            select(Stop.order_id, Stop.eta).join(Route, Stop.route_id == Route.id)
            .join(Plan, Route.plan_id == Plan.id)
            .where(Plan.state == "confirmed", Stop.kind == "delivery", Stop.order_id.in_(ids))).all())
        names = _party_names(s, events)
        alerts = _alerts(s, database, hub_ids)
        late = set() if sortie_late_after is None else late_sortie_orders(s, hub_ids, now, sortie_late_after)
    welfare = {a.number for a in alerts if a.kind == "welfare" and a.number is not None}
    rows = [_row(o, code, events.get(o.id, []), etas.get(o.id), names, now, welfare, o.id in late)
            for o, code in orders]
    rows.sort(key=_urgency)
    return Board(day=day, timezone=tz, generated_at=now, parcels=tuple(rows), alerts=tuple(alerts))


def _party_names(s: Session, events: dict[str, list[HandoffEvent]]) -> dict[str, str]:
    """Display names of the parties in the chains: hub names, courier codes and names, drone codes,
    resident codes (a resident's name is not needed to follow a parcel)."""
    refs = {ref for chain in events.values() for e in chain for ref in (e.from_party, e.to_party)}
    by_type: dict[str, set[str]] = {}
    for ref in refs:
        kind, _sep, ident = ref.partition(":")
        by_type.setdefault(kind, set()).add(ident)
    names: dict[str, str] = {}
    hubs = by_type.get("hub", set()) | by_type.get("supply", set())
    for h in s.scalars(select(Hub).where(Hub.id.in_(hubs))):
        names[f"hub:{h.id}"] = names[f"supply:{h.id}"] = h.name
    for v in s.scalars(select(Volunteer).where(Volunteer.id.in_(by_type.get("volunteer", set())))):
        names[f"volunteer:{v.id}"] = f"{v.code} {v.name}"
    for d in s.scalars(select(Drone).where(Drone.id.in_(by_type.get("drone", set())))):
        names[f"drone:{d.id}"] = f"✈ {d.code}"
    for r in s.scalars(select(Resident).where(Resident.id.in_(by_type.get("resident", set())))):
        names[f"resident:{r.id}"] = r.code
    return names


def _alerts(s: Session, database: Database, hub_ids: set[str] | None) -> list[AlertRow]:
    """Unacknowledged operator alerts (welfare notes first), if the courier actions' table exists."""
    if not _has_alerts_table(database):
        return []
    stmt = (select(_ALERTS.c.id, _ALERTS.c.kind, Order.number, _ALERTS.c.text, _ALERTS.c.created_at)
            .select_from(_ALERTS).outerjoin(Order, Order.id == _ALERTS.c.order_id)
            .where(_ALERTS.c.acknowledged_at.is_(None)).order_by(_ALERTS.c.created_at.desc()).limit(100))
    if hub_ids is not None:
        stmt = stmt.where(_ALERTS.c.hub_id.in_(hub_ids))
    rows = [AlertRow(id=i, kind=k, number=n, text=t or "", at=_aware(at))
            for i, k, n, t, at in s.execute(stmt)]
    return sorted(rows, key=lambda a: (a.kind != "welfare", -a.at.timestamp()))


_TABLE_SEEN: set[str] = set()


def _has_alerts_table(database: Database) -> bool:
    if database.url in _TABLE_SEEN:
        return True
    if inspect(database.engine).has_table("operator_alert"):
        _TABLE_SEEN.add(database.url)
        return True
    return False


def _aware(value: Any) -> dt.datetime:
    """A datetime read through the lightweight table (no UTC type decorator): make it aware UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _row(order: Order, code: str, chain: list[HandoffEvent], eta: dt.datetime | None,
         names: dict[str, str], now: dt.datetime, welfare: set[int], sortie_late: bool = False) -> ParcelRow:
    holder = names.get(chain[-1].to_party, chain[-1].to_party) if chain else _("at the hub")
    exceptions = []
    if order.number in welfare:
        exceptions.append("welfare")
    if order.pin_locked:
        exceptions.append("pin_locked")
    if order.state == "failed":
        exceptions.append("failed")
    if sortie_late:
        exceptions.append("sortie_late")
    if (eta is not None and order.state in ("planned", "dispatched", "in_transit")
            and now > eta + OVERDUE_AFTER):
        exceptions.append("overdue")
    if order.state == "returned":
        exceptions.append("returned")
    hops = tuple(Hop(kind=e.kind, giver=names.get(e.from_party, e.from_party),
                     taker=names.get(e.to_party, e.to_party), proof=e.proof, at=e.occurred_at)
                 for e in chain)
    return ParcelRow(order_id=order.id, number=order.number, resident_code=code, hub_id=order.hub_id,
                     state=order.state, holder=holder, eta=eta, chain=hops, exceptions=tuple(exceptions))


def _urgency(row: ParcelRow) -> tuple[int, int]:
    ranks = [EXCEPTIONS.index(e) for e in row.exceptions]
    return (min(ranks) if ranks else len(EXCEPTIONS), row.number)


# --- views ----------------------------------------------------------------------------------------


def _day() -> dt.date | None:
    raw = request.args.get("day")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def exception_label(code: str) -> str:
    return {"welfare": _("welfare note"), "pin_locked": _("PIN locked"), "failed": _("delivery failed"),
            "sortie_late": _("drone sortie not taken off"), "overdue": _("overdue"),
            "returned": _("returned")}.get(code, code)


def _late_after() -> dt.timedelta:
    return dt.timedelta(minutes=settings().sortie_late_after_min)


class AcknowledgeForm(FlaskForm):
    """The alert's acknowledge button: CSRF only (the alert is in the URL)."""


def can_acknowledge() -> bool:
    """Planners read the board; the hub's operators (and admins) deal with its alerts."""
    return bool(current_user.role in ("operator", "admin"))


@bp.route("")
@access("operator", "planner", "admin")
def board() -> Any:
    view = build_board(db(), current_user.hub_scope, _day(), sortie_late_after=_late_after())
    return render_template("board/board.html", board=view, poll_seconds=POLL_SECONDS,
                           exception_label=exception_label, day_arg=request.args.get("day", ""),
                           can_acknowledge=can_acknowledge(), ack_form=AcknowledgeForm())


@bp.route("/alerts/<alert_id>/acknowledge", methods=["POST"])
@access("operator", "admin")
def acknowledge(alert_id: str) -> Any:
    """Mark an alert seen: it leaves the board's alert list (the record and who saw it stay)."""
    if not AcknowledgeForm().validate_on_submit():  # CSRFProtect answers 400 before this; belt and braces
        abort(400)
    try:
        acknowledge_alert(db(), alert_id, current_user.user_id, now=dt.datetime.now(dt.UTC),
                          hub_ids=current_user.hub_scope)
    except NotFound:
        log.warning("user %s tried to acknowledge alert %s (unknown or another hub's)",
                    current_user.user_id, alert_id)
        abort(404)
    flash(_("Alert acknowledged."), "ok")
    day = _day()
    return redirect(url_for("board.board", day=day.isoformat()) if day else url_for("board.board"))


@bp.route("/data")
@access("operator", "planner", "admin")
def data() -> Any:
    """The board as JSON for the page's poller: labels translated and times local, ready to show."""
    view = build_board(db(), current_user.hub_scope, _day(), sortie_late_after=_late_after())
    may_ack, day_arg = can_acknowledge(), request.args.get("day") or None

    def when(value: dt.datetime | None) -> str:
        return format_datetime(value, "short") if value else ""

    return jsonify({
        "day": view.day.isoformat(),
        "generated_at": when(view.generated_at),
        "alerts": [{"kind": a.kind, "label": exception_label(a.kind), "number": a.number, "text": a.text,
                    "at": when(a.at),
                    "ack_url": url_for("board.acknowledge", alert_id=a.id, day=day_arg) if may_ack else None}
                   for a in view.alerts],
        "parcels": [{
            **{k: v for k, v in asdict(p).items() if k not in ("chain", "eta", "hub_id")},
            "state_label": _(p.state), "eta": when(p.eta),
            "exception_labels": [exception_label(e) for e in p.exceptions],
            "chain": [{"giver": h.giver, "taker": h.taker, "proof": _(h.proof), "at": when(h.at)}
                      for h in p.chain],
        } for p in view.parcels],
    })
