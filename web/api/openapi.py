"""The OpenAPI 3.1 document of ``/api/v1``, written by hand and served at ``/api/v1/openapi.json``.

One source of truth: the request bodies are validated against the document's own schemas
(:func:`validated`, JSON Schema 2020-12, which OpenAPI 3.1 uses), the test suite validates the
document with ``openapi-spec-validator`` and runs Schemathesis against it, so the document cannot
drift from what the views accept and answer.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from dispatch.lifecycle import OrderState, PlanState
from dispatch.services.ordering import MAX_ITEMS, MAX_QUANTITY, PARTS
from dispatch.services.webhook_events import EVENT_TYPES

VERSION = "1.0.0"
PROBLEM = "application/problem+json"

ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"}
TIME = {"type": ["string", "null"], "format": "date-time"}
PLAN_STATES = [s.value for s in PlanState]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _ref(schema: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema}"}


def _json(description: str, schema: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description,
                              "content": {"application/json": {"schema": _ref(schema)}}}
    if headers:
        answer["headers"] = headers
    return answer


UNAUTHORIZED = _problem("No valid bearer token (missing, unknown, revoked, or integration switched off).")
NOT_FOUND = _problem("No such object among the integration's hubs.")
BAD_REQUEST = _problem("The request's parameters or body do not match this document.")

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object", "description": "An error, as RFC 9457 problem details.",
        "required": ["title", "status"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                       "status": {"type": "integer"}, "detail": {"type": "string"},
                       "errors": {"type": "array", "items": {"type": "string"}}},
    },
    "ItemRequest": {
        "type": "object", "additionalProperties": False, "required": ["name", "quantity"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                       "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
                       "unit": {"type": ["string", "null"], "maxLength": 16}},
    },
    "TimeWish": {
        "type": "object", "additionalProperties": False,
        "description": "When the resident wants it: a part of a day, today (0) or up to a week ahead.",
        "properties": {"day_offset": {"type": "integer", "minimum": 0, "maximum": 7, "default": 0},
                       "part": {"enum": sorted(PARTS), "default": "any"}},
    },
    "OrderCreate": {
        "type": "object", "additionalProperties": False, "required": ["resident", "items"],
        "properties": {
            "resident": {"type": "string", "minLength": 1, "maxLength": 64,
                         "description": "The resident's code, as in the region's residents.csv."},
            "items": {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
                      "items": {"$ref": "#/components/schemas/ItemRequest"}},
            "time_wish": {"$ref": "#/components/schemas/TimeWish"},
            "priority": {"type": "integer", "minimum": 1, "maximum": 3, "default": 2,
                         "description": "1 urgent (medicine) .. 3 low."},
            "external_ref": {"type": "string", "minLength": 1, "maxLength": 100,
                             "description": "Your reference. Sending the same one again returns the "
                                            "order it created (200) instead of a second order."},
        },
    },
    "Cancel": {
        "type": "object", "additionalProperties": False,
        "properties": {"reason": {"type": "string", "maxLength": 500}},
    },
    "Item": {
        "type": "object", "required": ["name", "quantity", "unit"],
        "properties": {"name": {"type": "string"}, "quantity": {"type": "integer"},
                       "unit": {"type": ["string", "null"]}},
    },
    "Order": {
        "type": "object",
        "required": ["id", "number", "hub", "resident", "state", "channel", "external_ref", "items",
                     "weight_kg", "parcels", "window_start", "window_end", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string"}, "number": {"type": "integer"},
            "hub": {"type": "string", "description": "The hub's code."},
            "resident": {"type": "string", "description": "The resident's code."},
            "state": {"enum": [s.value for s in OrderState]},
            "channel": {"type": "string"}, "external_ref": {"type": ["string", "null"]},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            "weight_kg": {"type": "number"}, "parcels": {"type": "integer"},
            "window_start": TIME, "window_end": TIME, "created_at": TIME, "updated_at": TIME,
        },
    },
    "Stop": {
        "type": "object", "required": ["seq", "kind", "order_id", "order_number", "eta"],
        "properties": {"seq": {"type": "integer"}, "kind": {"type": "string"},
                       "order_id": {"type": "string"}, "order_number": {"type": "integer"}, "eta": TIME},
    },
    "Route": {
        "type": "object",
        "required": ["id", "mode", "state", "depart_at", "return_at", "distance_m", "stops"],
        "properties": {"id": {"type": "string"},
                       "mode": {"type": "string", "description": "walk | bicycle | car | drone"},
                       "state": {"type": "string"}, "depart_at": TIME, "return_at": TIME,
                       "distance_m": {"type": "number"},
                       "stops": {"type": "array", "items": {"$ref": "#/components/schemas/Stop"}}},
    },
    "Plan": {
        "type": "object",
        "required": ["id", "hub", "batch_id", "cutoff_at", "version", "state", "created_at",
                     "confirmed_at", "unserved", "routes"],
        "properties": {
            "id": {"type": "string"}, "hub": {"type": "string"}, "batch_id": {"type": "string"},
            "cutoff_at": TIME, "version": {"type": "integer"}, "state": {"enum": PLAN_STATES},
            "created_at": TIME, "confirmed_at": TIME,
            "unserved": {"type": "array", "items": {"type": "string"}},
            "routes": {"type": ["array", "null"], "items": {"$ref": "#/components/schemas/Route"},
                       "description": "The routes and stops (null in the list of plans)."},
        },
    },
    "PlanList": {
        "type": "object", "required": ["plans"],
        "properties": {"plans": {"type": "array", "items": {"$ref": "#/components/schemas/Plan"}}},
    },
    "Event": {
        "type": "object", "required": ["id", "type", "occurred_at", "data"],
        "description": "An order event: the body of a webhook, and an entry of GET /events.",
        "properties": {
            "id": {"type": "string", "description": "Deduplicate by this id (the webhook-id header)."},
            "type": {"enum": list(EVENT_TYPES)}, "occurred_at": {"type": "string", "format": "date-time"},
            "data": {"type": "object", "required": ["order", "previous_state"],
                     "properties": {"order": {"$ref": "#/components/schemas/Order"},
                                    "previous_state": {"type": ["string", "null"]}}},
        },
    },
    "EventPage": {
        "type": "object", "required": ["events", "next_after"],
        "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                       "next_after": {"type": ["string", "null"],
                                      "description": "Pass as `after` for the next page."}},
    },
}

ORDER_ID = {"name": "order_id", "in": "path", "required": True, "schema": ID}
LOCATION = {"Location": {"description": "The order's URL.", "schema": {"type": "string"}}}

PATHS: dict[str, Any] = {
    "/orders": {"post": {
        "operationId": "createOrder", "summary": "Place an order for a resident of your hubs",
        "description": "Goes through the same services as an SMS or a phone order: the resident gets "
                       "the usual confirmation SMS, and the console shows the order with your "
                       "integration's name.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/OrderCreate"}}}},
        "responses": {"201": _json("The order, placed.", "Order", LOCATION),
                      "200": _json("The order placed before with the same external_ref.", "Order", LOCATION),
                      "400": BAD_REQUEST, "401": UNAUTHORIZED,
                      "422": _problem("Well-formed, but no resident of your hubs has that code, or "
                                      "the order breaks a rule (e.g. the hub has no opening hours).")},
    }},
    "/orders/{order_id}": {"get": {
        "operationId": "getOrder", "summary": "An order's status", "parameters": [ORDER_ID],
        "responses": {"200": _json("The order.", "Order"), "401": UNAUTHORIZED, "404": NOT_FOUND},
    }},
    "/orders/{order_id}/cancel": {"post": {
        "operationId": "cancelOrder", "summary": "Cancel an order (until it leaves the hub)",
        "parameters": [ORDER_ID],
        "requestBody": {"required": False, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Cancel"}}}},
        "responses": {"200": _json("The order, cancelled.", "Order"), "400": BAD_REQUEST,
                      "401": UNAUTHORIZED, "404": NOT_FOUND,
                      "409": _problem("Too late: the order is on its way, delivered or cancelled.")},
    }},
    "/plans": {"get": {
        "operationId": "listPlans", "summary": "Plan versions of your hubs, newest first",
        "parameters": [
            {"name": "state", "in": "query", "required": False, "schema": {"enum": PLAN_STATES}},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}}],
        "responses": {"200": _json("The plans (without routes).", "PlanList"), "400": BAD_REQUEST,
                      "401": UNAUTHORIZED},
    }},
    "/plans/{plan_id}": {"get": {
        "operationId": "getPlan", "summary": "A plan version with its routes and stops",
        "parameters": [{"name": "plan_id", "in": "path", "required": True, "schema": ID}],
        "responses": {"200": _json("The plan.", "Plan"), "401": UNAUTHORIZED, "404": NOT_FOUND},
    }},
    "/events": {"get": {
        "operationId": "listEvents", "summary": "Order events of your hubs, oldest first",
        "description": "The same events the webhooks deliver, for polling or catching up.",
        "parameters": [
            {"name": "after", "in": "query", "required": False, "schema": ID,
             "description": "An event id: list the events after it."},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}}],
        "responses": {"200": _json("A page of events.", "EventPage"), "400": BAD_REQUEST,
                      "401": UNAUTHORIZED, "404": _problem("`after` names no event of your hubs.")},
    }},
}


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh deep copy is served; this one is never changed)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hakobu API", "version": VERSION,
                 "description": "Orders, plans and order events of the hubs an integration is "
                                "scoped to. Webhooks: see docs/api.md (Standard Webhooks signatures).",
                 "license": {"name": "MIT", "identifier": "MIT"}},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "A token an admin issued to your integration (hkb_...)."}}},
        "webhooks": {"orderEvent": {"post": {
            "summary": "An order event, signed (webhook-id, webhook-timestamp, webhook-signature)",
            "requestBody": {"content": {"application/json": {"schema": _ref("Event")}}},
            "responses": {"200": {"description": "Any 2xx acknowledges; anything else is retried."}},
        }}},
    }


def served() -> dict[str, Any]:
    return copy.deepcopy(document())


@cache
def _validator(schema: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}",
                                 "components": document()["components"]})


def validated(body: Any, schema: str) -> list[str]:
    """What is wrong with ``body`` against the document's schema ``schema`` (empty: nothing)."""
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(body)'}: {error.message}"
            for error in sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.absolute_path))]


@cache
def query_parameters(path: str, method: str) -> frozenset[str]:
    """The query parameters the document lists for ``method`` ``path`` (e.g. ``"/plans"``)."""
    operation = PATHS.get(path, {}).get(method.lower(), {})
    return frozenset(p["name"] for p in operation.get("parameters", ()) if p["in"] == "query")
