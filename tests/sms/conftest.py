"""SMS fixtures: Twilio's HTTP API replaced at twilio-python's own HttpClient boundary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from twilio.http import HttpClient
from twilio.http.response import Response


@dataclass
class TwilioApiDouble(HttpClient):
    """Answers like Twilio's Messages API would, recording every request; nothing leaves the machine.

    ``script`` lists (status, body) answers to give in order; afterwards every send succeeds.
    """

    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def request(self, method: str, url: str, params: Any = None, data: Any = None,
                headers: Any = None, auth: Any = None, timeout: Any = None,
                allow_redirects: bool = False) -> Response:
        self.requests.append({"method": method, "url": url, "data": dict(data or {})})
        if self.script:
            status, body = self.script.pop(0)
        else:
            n = len(self.requests)
            status, body = 201, {"sid": f"SM{n:032d}", "status": "queued",
                                 "to": (data or {}).get("To"), "body": (data or {}).get("Body")}
        return Response(status, json.dumps(body))
