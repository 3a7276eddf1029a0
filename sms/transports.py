"""SMS transports: one small interface, three adapters (Twilio, Android SIM gateway, simulator).

Twilio has no two-way SMS for Japanese numbers, so a deployment in Japan uses the Android gateway
("SMS Gateway for Android", local-server mode) on a phone with a local SIM; Twilio serves
elsewhere; the simulator serves the demo, training and tests. Adapters raise
:class:`TransientSendError` (retry later) or :class:`PermanentSendError` (dead-letter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from dispatch.config import Settings
from dispatch.ids import new_id


class TransientSendError(Exception):
    """Worth retrying later: rate limited, server error, timeout, no connection."""


class PermanentSendError(Exception):
    """Will never succeed as is: unsubscribed recipient, invalid number, bad credentials."""


@dataclass(frozen=True)
class SendResult:
    external_id: str | None


class SmsTransport(Protocol):
    name: str

    def send(self, to: str, body: str) -> SendResult: ...


class SimulatorTransport:
    """Delivers nowhere: the message row in the database is what the simulator page shows."""

    name = "simulator"

    def send(self, to: str, body: str) -> SendResult:
        return SendResult(external_id=f"sim-{new_id()}")


#: Twilio error codes that retrying cannot fix (https://www.twilio.com/docs/api/errors).
TWILIO_PERMANENT = {21211, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006}


class TwilioTransport:
    """Sends through Twilio's REST API with twilio-python.

    ``http_client`` is twilio's own ``HttpClient`` boundary: tests pass one that answers like
    Twilio's API without any network. Connection-level retries use urllib3's ``Retry`` inside
    twilio's HTTP client; the outbox retries everything else with backoff.
    """

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, sender: str,
                 status_callback: str | None = None, http_client: Any = None) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (account_sid and auth_token and sender):
            raise PermanentSendError(
                "Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
        client_http = http_client or TwilioHttpClient(timeout=15, max_retries=2)
        self._client = Client(account_sid, auth_token, http_client=client_http)
        self._sender = sender
        self._status_callback = status_callback

    def send(self, to: str, body: str) -> SendResult:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            kwargs: dict[str, Any] = {"to": to, "from_": self._sender, "body": body}
            if self._status_callback:
                kwargs["status_callback"] = self._status_callback
            message = self._client.messages.create(**kwargs)
        except TwilioRestException as error:
            detail = f"twilio {error.status} code {error.code}: {error.msg}"
            if error.code in TWILIO_PERMANENT or (400 <= error.status < 500 and error.status != 429):
                raise PermanentSendError(detail) from error
            raise TransientSendError(detail) from error
        except (TwilioException, OSError) as error:
            raise TransientSendError(f"twilio unreachable: {error}") from error
        return SendResult(external_id=message.sid)


class AndroidGatewayTransport:
    """Sends through an Android phone running SMS Gateway for Android (local-server mode)."""

    name = "android_gateway"

    def __init__(self, base_url: str, login: str, password: str, http: Any = None) -> None:
        if not base_url:
            raise PermanentSendError("the Android gateway needs HAKOBU_GATEWAY_URL")
        self._base_url = base_url.rstrip("/")
        self._login = login
        self._password = password
        self._http = http

    def send(self, to: str, body: str) -> SendResult:
        from android_sms_gateway import client, domain
        from android_sms_gateway.errors import APIError

        message = domain.Message(phone_numbers=[to], text_message=domain.TextMessage(text=body))
        try:
            with client.APIClient(self._login, self._password, base_url=self._base_url,
                                  http=self._http) as api:
                state = api.send(message)
        except APIError as error:
            status = error.status_code or 0
            detail = f"gateway {status}: {error}"
            if status == 429 or status >= 500:
                raise TransientSendError(detail) from error
            raise PermanentSendError(detail) from error
        except OSError as error:
            raise TransientSendError(f"gateway unreachable: {error}") from error
        except Exception as error:  # requests/httpx raise their own connection errors
            if type(error).__module__.split(".")[0] in {"requests", "httpx", "urllib3"}:
                raise TransientSendError(f"gateway unreachable: {error}") from error
            raise
        return SendResult(external_id=state.id)


def build_transport(settings: Settings, http_client: Any = None) -> SmsTransport:
    """The transport named by ``HAKOBU_SMS_TRANSPORT``."""
    factories: dict[str, Callable[[], SmsTransport]] = {
        "simulator": SimulatorTransport,
        "twilio": lambda: TwilioTransport(
            settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from,
            status_callback=f"{settings.public_url.rstrip('/')}/sms/twilio/status"
            if settings.public_url else None, http_client=http_client),
        "android_gateway": lambda: AndroidGatewayTransport(
            settings.gateway_url, settings.gateway_login, settings.gateway_password, http=http_client),
    }
    if settings.sms_transport not in factories:
        raise PermanentSendError(f"unknown SMS transport {settings.sms_transport!r}; "
                                 f"expected one of {', '.join(factories)}")
    return factories[settings.sms_transport]()
