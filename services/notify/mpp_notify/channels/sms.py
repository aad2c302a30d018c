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
"""

from __future__ import annotations

import httpx

from mpp_notify.channels.base import (
    ChannelName,
    OutgoingMessage,
    Provider,
    SendResult,
    require_phone_number,
)
from mpp_notify.channels.http import http_error, json_or_none, new_client, post_json


class SmsGateway:
    name: ChannelName = "sms"
    provider: Provider = "sms_gateway"

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
        self._client = client or new_client(timeout)
        self._owns_client = client is None

    async def send(self, message: OutgoingMessage) -> SendResult:
        require_phone_number(message)
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
