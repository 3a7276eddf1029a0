"""SQLAlchemy 2.0 models of Hakobu, re-exported here so ``from dispatch.models import Order`` works."""

from dispatch.models.base import Base, utcnow
from dispatch.models.courier import CourierAction, OperatorAlert
from dispatch.models.handoff import HandoffEvent
from dispatch.models.integrations import (
    ApiToken,
    Integration,
    OrderEvent,
    WebhookDelivery,
    WebhookEndpoint,
    integration_hub,
)
from dispatch.models.messages import Message, OptOut
from dispatch.models.orders import Batch, Order, OrderItem
from dispatch.models.permits import Permit
from dispatch.models.plans import CourierPosition, Plan, Route, Stop
from dispatch.models.region import (
    TRAINING,
    BusTrip,
    Drone,
    Hub,
    Proxy,
    Region,
    Resident,
    Road,
    TrainingRecord,
    Volunteer,
    Zone,
)
from dispatch.models.sorties import SortieLog
from dispatch.models.standing import HubClosure, StandingOccurrence, StandingOrder
from dispatch.models.studies import RUN_STATES, ScenarioRun
from dispatch.models.users import ROLES, AccessToken, RateLimitCounter, User, user_hub
from dispatch.models.volunteers import CALLOUT_STATES, Availability, CallOut
from dispatch.models.weather import WeatherReading

__all__ = [
    "CALLOUT_STATES",
    "ROLES",
    "RUN_STATES",
    "TRAINING",
    "AccessToken",
    "ApiToken",
    "Availability",
    "Base",
    "Batch",
    "BusTrip",
    "CallOut",
    "CourierAction",
    "CourierPosition",
    "Drone",
    "HandoffEvent",
    "Hub",
    "HubClosure",
    "Integration",
    "Message",
    "OperatorAlert",
    "OptOut",
    "Order",
    "OrderEvent",
    "OrderItem",
    "Permit",
    "Plan",
    "Proxy",
    "RateLimitCounter",
    "Region",
    "Resident",
    "Road",
    "Route",
    "ScenarioRun",
    "SortieLog",
    "StandingOccurrence",
    "StandingOrder",
    "Stop",
    "TrainingRecord",
    "User",
    "Volunteer",
    "WeatherReading",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Zone",
    "integration_hub",
    "user_hub",
    "utcnow",
]
