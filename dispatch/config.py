"""Settings: defaults in code, one override layer (``HAKOBU_*`` environment or a dict).

Unknown keys are an error, so a typo in a deployment never silently falls back to a default.
Twilio's own variables keep their conventional names (``TWILIO_AUTH_TOKEN`` ...).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from dispatch.errors import ConfigError

#: Environment variables read without the HAKOBU_ prefix (the names Twilio documents).
_UNPREFIXED = ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_FROM")


@dataclass(frozen=True)
class Settings:
    """Every setting of a Hakobu deployment, with its default."""

    database_url: str = "sqlite:///instance/hakobu.sqlite"
    secret_key: str = ""
    public_url: str = ""  # externally visible base URL, used for Twilio signatures and links
    trust_proxy: bool = False  # apply ProxyFix (only behind a reverse proxy you control)
    tiles: str = "OpenStreetMap"  # folium tile name or URL template; "none" for no tiles
    sms_transport: str = "simulator"  # simulator | twilio | android_gateway
    gateway_url: str = ""
    gateway_login: str = ""
    gateway_password: str = ""
    gateway_webhook_secret: str = ""
    twilio_auth_token: str = ""
    twilio_account_sid: str = ""
    twilio_from: str = ""
    demo_password: str = ""
    solve_time_limit_s: float = 10.0
    close_early_orders: int = 60  # close a hub's batch before its cutoff at this many open orders
    carry_over_max_days: int = 3  # an order carried over this many days is parked for an operator
    max_delivery_attempts: int = 3  # ... and one that failed this many times at the door
    misfire_grace_s: int = 6 * 3600
    login_code_ttl_s: int = 600
    courier_link_ttl_s: int = 12 * 3600
    callout_answer_min: int = 30  # a volunteer's call-out not answered in this time goes to the next
    pin_max_attempts: int = 5
    sortie_late_after_min: int = 15  # the board flags a sortie not taken off this long after its start
    session_cookie_secure: bool = False
    ratelimit_storage_uri: str = ""  # "": the database; or Flask-Limiter's redis://host:6379
    login_lockout_after: int = 10  # wrong passwords in a row that lock a console account …
    login_lockout_min: int = 15  # … for this long (the account's hubs are alerted)
    task_engine: str = "local"  # local (in-process executor, no broker) | procrastinate (PostgreSQL)
    task_stalled_after_s: float = 120.0  # a procrastinate worker silent this long is dead: its job is retried
    metrics_token: str = ""  # bearer token for /metrics (Prometheus); without it only admins see it
    outbox_worker: bool = True  # send queued SMS from a background thread of this process
    extra: dict[str, Any] = field(default_factory=dict)  # flask-only keys passed through by web

    @property
    def cookies_secure(self) -> bool:
        """Session cookies carry ``Secure`` when asked, and always when the public URL is HTTPS."""
        return self.session_cookie_secure or self.public_url.lower().startswith("https://")

    def key_for(self, purpose: str) -> str:
        """The key of one use (``"courier_link"``, ``"login_code"``, ``"session"``, ``"flask"`` …),
        derived from the one ``secret_key`` by HMAC-SHA256, so no two uses share a key and no use
        ever runs with an empty or fixed key. Raises :class:`ConfigError` while no key is set."""
        if not self.secret_key:
            raise ConfigError("HAKOBU_SECRET_KEY is not set: give the deployment one secret key "
                              "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
        return hmac.new(self.secret_key.encode(), f"hakobu:{purpose}".encode(), hashlib.sha256).hexdigest()

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return a copy with ``overrides`` applied; unknown keys raise :class:`ConfigError`."""
        known = {f.name: f for f in fields(self) if f.name != "extra"}
        changes: dict[str, Any] = {}
        for raw_key, value in overrides.items():
            key = raw_key.lower().removeprefix("hakobu_")
            if key not in known:
                raise ConfigError(f"unknown setting {raw_key!r}")
            changes[key] = _coerce(raw_key, value, type(getattr(self, key)))
        return replace(self, **changes)


def _coerce(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if not isinstance(value, str):
        if kind is float and isinstance(value, int):
            return float(value)
        raise ConfigError(f"setting {name!r}: expected {kind.__name__}, got {value!r}")
    try:
        if kind is bool:
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        return kind(value)
    except ValueError:
        raise ConfigError(f"setting {name!r}: {value!r} is not a valid {kind.__name__}") from None


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``HAKOBU_*`` (and Twilio's) variables; an unknown ``HAKOBU_`` name is an error.

    ``HAKOBU_TEST_*`` variables belong to the test suite and are ignored here.
    """
    env = os.environ if environ is None else environ
    overrides: dict[str, str] = {}
    for key, value in env.items():
        if (key.startswith("HAKOBU_") and not key.startswith("HAKOBU_TEST_")) or key in _UNPREFIXED:
            overrides[key] = value
    return Settings().with_overrides(overrides)
