"""SMS through a generic HTTP gateway (provider "sms_gateway").

The gateway contract assumed here is the plain JSON-over-HTTPS one that most
Indonesian SMS aggregators offer (or can be fronted with):

    POST <SMS_GATEWAY_URL>
    Authorization: Bearer <SMS_GATEWAY_TOKEN>     (only when a token is set)
    Idempotency-Key: <notification id>
    Content-Type: application/json

    {"to": "+6281234567890", "from": "<SMS_SENDER_ID>", "text": "...",
     "reference": "<notification id>"}

A 2xx answer means the gateway accepted the message; its JSON body may name
the gateway's own id as `message_id` or `id`. 429 and 5xx (and timeouts or
connection failures) are worth retrying, honouring `Retry-After`; any other
4xx is a refusal of this message. The notification id travels as both
`reference` and `Idempotency-Key`, so a gateway that deduplicates on either
sends a retried message once. A gateway with another contract needs its own
client beside this one.

The HTTP helpers at the bottom are shared with the WhatsApp client.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from mpp_notify.channels.base import DeliveryError, OutgoingMessage, SendResult

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DETAIL_LIMIT = 200


class SmsGateway:
    name = "sms"
    provider = "sms_gateway"

    def __init__(
        self,
        url: str,
        token: str,
        sender_id: str,
        timeout: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.sender_id = sender_id
        self.timeout = timeout
        self._client = client or httpx.AsyncClient()
        self._owns_client = client is None

    async def send(self, message: OutgoingMessage) -> SendResult:
        if not E164.match(message.address):
            raise DeliveryError(
                "recipient is not an E.164 phone number (+<country code><number>)",
                transient=False,
            )
        headers = {"Idempotency-Key": str(message.id)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = {
            "to": message.address,
            "from": self.sender_id,
            "text": message.body,
            "reference": str(message.id),
        }
        response = await post_json(self._client, self.url, payload, headers, self.timeout)
        if response.is_success:
            answer = json_or_none(response)
            provider_id = None
            if isinstance(answer, dict):
                found = answer.get("message_id") or answer.get("id")
                provider_id = str(found) if found is not None else None
            return SendResult(self.provider, provider_id, response.status_code)
        raise http_error(response, f"SMS gateway answered {response.status_code}")

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


# --- HTTP helpers shared by the HTTP-based channels


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    timeout: float,
) -> httpx.Response:
    """POST `payload`; a network failure becomes a transient DeliveryError."""
    try:
        return await client.post(url, json=payload, headers=headers, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            f"provider did not answer within {timeout:g} s ({type(exc).__name__})",
            transient=True,
        ) from exc
    except httpx.TransportError as exc:
        raise DeliveryError(
            f"provider unreachable: {type(exc).__name__}: {shorten(str(exc))}", transient=True
        ) from exc


def is_transient_status(status: int) -> bool:
    return status == 429 or status >= 500


def http_error(
    response: httpx.Response, what: str, *, transient: bool | None = None
) -> DeliveryError:
    """A DeliveryError for a non-2xx answer, with a short piece of its body."""
    body = shorten(response.text.strip())
    detail = f"{what}: {body}" if body else what
    return DeliveryError(
        detail,
        transient=is_transient_status(response.status_code) if transient is None else transient,
        status_code=response.status_code,
        retry_after=retry_after_seconds(response),
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds (it may be a number or an HTTP date), if present."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def shorten(text: str) -> str:
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"
