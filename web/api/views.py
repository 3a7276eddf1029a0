"""The routes of ``/api/v1``: orders (create, status, cancel), plans (read), events (read)."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from flask import jsonify, request, url_for
from sqlalchemy.exc import IntegrityError

from dispatch.errors import DomainError
from dispatch.read.api import (
    UnknownCursor,
    events_after,
    order_by_id,
    order_by_ref,
    plan_by_id,
    plans_of,
    resident_in_hubs,
)
from dispatch.requests import ItemRequest, TimeWish
from dispatch.services.ordering import cancel_order, place_order
from dispatch.services.webhooks import event_json
from web.api.base import bp, caller, problem
from web.api.openapi import PLAN_STATES, served, validated
from web.context import db, now, read, settings
from web.security import access


def _body(schema: str, required: bool = True) -> tuple[Any, Any]:
    """(the JSON body, None) when it matches ``schema``; else (None, the 400 answer)."""
    if not request.get_data() and not required:
        return {}, None
    body = request.get_json(silent=True) if request.is_json else None
    if body is None:
        return None, problem(400, "Bad Request", "the body must be JSON (Content-Type: application/json)")
    errors = validated(body, schema)
    if errors:
        return None, problem(400, "Bad Request", "the body does not match the schema " + schema, errors)
    return body, None


_ASCII_INT = re.compile(r"-?[0-9]{1,9}")


def _int_arg(name: str, default: int, low: int, high: int) -> tuple[int, Any]:
    raw = request.args.get(name)
    if raw is None:
        return default, None
    # ASCII digits only: int() also takes " 5", "1_0" and other scripts' digits ("٣"), which the
    # document's integer does not (schemathesis's negative cases found them accepted).
    value = int(raw) if _ASCII_INT.fullmatch(raw) else low - 1
    if not low <= value <= high:
        return default, problem(400, "Bad Request", f"{name} must be an integer {low}-{high}")
    return value, None


def _order_answer(doc: Any, status: int) -> Any:
    response = jsonify(asdict(doc))
    response.status_code = status
    response.headers["Location"] = url_for("api.get_order", order_id=doc.id)
    return response


@bp.get("/openapi.json")
@access("public")
def openapi() -> Any:
    return jsonify(served())


@bp.post("/orders")
@access("integration")
def create_order() -> Any:
    body, error = _body("OrderCreate")
    if error is not None:
        return error
    who = caller()
    ref = body.get("external_ref")
    if ref is not None and (existing := read(order_by_ref, who.integration_id, ref)) is not None:
        return _order_answer(existing, 200)
    resident_id = read(resident_in_hubs, body["resident"], who.hub_ids)
    if resident_id is None:
        return problem(422, "Unprocessable Content", "no active resident of your hubs has that code")
    wish = body.get("time_wish")
    try:
        summary = place_order(
            db(), resident_id,
            [ItemRequest(i["name"].strip(), i["quantity"], i.get("unit")) for i in body["items"]],
            channel="api", now=now(), priority=body.get("priority", 2),
            time_wish=None if wish is None else TimeWish(wish.get("day_offset", 0), wish.get("part", "any")),
            integration_id=who.integration_id, external_ref=ref)
    except IntegrityError:  # the same external_ref, placed by a concurrent request
        existing = read(order_by_ref, who.integration_id, ref) if ref is not None else None
        if existing is None:
            raise
        return _order_answer(existing, 200)
    except DomainError as refused:
        return problem(422, "Unprocessable Content", str(refused))
    doc = read(order_by_id, summary.id, who.hub_ids)
    return _order_answer(doc, 201)


@bp.get("/orders/<order_id>")
@access("integration")
def get_order(order_id: str) -> Any:
    doc = read(order_by_id, order_id, caller().hub_ids)
    if doc is None:
        return problem(404, "Not Found", "no such order")
    return jsonify(asdict(doc))


@bp.post("/orders/<order_id>/cancel")
@access("integration")
def cancel(order_id: str) -> Any:
    body, error = _body("Cancel", required=False)
    if error is not None:
        return error
    who = caller()
    if read(order_by_id, order_id, who.hub_ids) is None:
        return problem(404, "Not Found", "no such order")
    reason = body.get("reason") or f"cancelled through the API by {who.name}"
    if not cancel_order(db(), order_id, reason, settings(), now=now()):
        return problem(409, "Conflict", "too late to cancel: the order has left the hub or is finished")
    return jsonify(asdict(read(order_by_id, order_id, who.hub_ids)))


@bp.get("/plans")
@access("integration")
def list_plans() -> Any:
    limit, error = _int_arg("limit", 50, 1, 100)
    if error is not None:
        return error
    state = request.args.get("state")
    if state is not None and state not in PLAN_STATES:
        return problem(400, "Bad Request", "state must be proposed, confirmed or superseded")
    return jsonify({"plans": [asdict(p) for p in read(plans_of, caller().hub_ids, state=state, limit=limit)]})


@bp.get("/plans/<plan_id>")
@access("integration")
def get_plan(plan_id: str) -> Any:
    doc = read(plan_by_id, plan_id, caller().hub_ids)
    if doc is None:
        return problem(404, "Not Found", "no such plan")
    return jsonify(asdict(doc))


@bp.get("/events")
@access("integration")
def list_events() -> Any:
    limit, error = _int_arg("limit", 100, 1, 500)
    if error is not None:
        return error
    try:
        page = read(events_after, caller().hub_ids, request.args.get("after"), limit)
    except UnknownCursor:
        return problem(404, "Not Found", "after names no event of your hubs")
    return jsonify({"events": [event_json(e) for e in page.events], "next_after": page.next_after})
