"""WhatsApp through Meta's WhatsApp Cloud API (provider "whatsapp_cloud").

One text message is

    POST {WHATSAPP_API_URL}/{WHATSAPP_PHONE_NUMBER_ID}/messages
    Authorization: Bearer <WHATSAPP_ACCESS_TOKEN>

    {"messaging_product": "whatsapp", "recipient_type": "individual",
     "to": "6281234567890", "type": "text",
     "text": {"preview_url": false, "body": "..."}}

answered `{"messages": [{"id": "wamid...."}]}`. Refusals come as Graph API
errors, `{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}`: throttling and temporary outages (HTTP 429 / 5xx, or the
Graph codes in `TRANSIENT_GRAPH_CODES`) are retried, everything else (bad
number, recipient not on WhatsApp, re-engagement window closed, ...) is a
refusal of this message.

WhatsApp accepts free-form text only inside the 24-hour customer service
window opened by the citizen's own message. Outside it the dispatcher hands
the message's approved template (WHATSAPP_TEMPLATES, assistant.templates)
and it goes as `"type": "template"` with its name, language code and body
parameters. Accepted by the API is `sent`; the status callbacks of the
webhook (api/routes/whatsapp.py, delivery.reports) make it `delivered`
(on the handset), `read` or `failed`.
"""

from __future__ import annotations

from typing import Any

import httpx

from mpp_notify.channels.base import (
    ChannelName,
    DeliveryError,
    OutgoingMessage,
    Provider,
    SendResult,
    require_phone_number,
)
from mpp_notify.channels.http import (
    http_error,
    is_transient_status,
    json_or_none,
    new_client,
    post_json,
    retry_after_seconds,
    shorten,
)

# Graph / Cloud API error codes that mean "not now" rather than "never".
TRANSIENT_GRAPH_CODES = frozenset(
    {
        1,  # API unknown: possibly a temporary outage
        2,  # API service: temporary downtime or overload
        4,  # API too many calls (app-level rate limit)
        80007,  # rate limit of the WhatsApp Business Account
        130429,  # Cloud API throughput reached
        131000,  # something went wrong (unknown, retry advised)
        131016,  # service unavailable
        131048,  # spam rate limit hit
        131056,  # (business, consumer) pair rate limit hit
        133004,  # server temporarily unavailable
    }
)


class WhatsAppCloud:
    name: ChannelName = "whatsapp"
    provider: Provider = "whatsapp_cloud"

    def __init__(
        self,
        api_url: str,
        phone_number_id: str,
        access_token: str,
        timeout: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self.access_token = access_token
        self.timeout = timeout
        self._client = client or new_client(timeout)
        self._owns_client = client is None

    async def send(self, message: OutgoingMessage) -> SendResult:
        require_phone_number(message)
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.address.lstrip("+"),
        }
        if message.template is not None:
            payload |= template_payload(message.template)
        else:
            payload |= {"type": "text", "text": {"preview_url": False, "body": message.body}}
        headers = {"Authorization": f"Bearer {self.access_token}"}
        response = await post_json(self._client, self.url, payload, headers, self.timeout)
        answer = json_or_none(response)
        if response.is_success:
            return SendResult(self.provider, _message_id(answer), response.status_code)
        error = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(error, dict):
            raise http_error(response, f"WhatsApp Cloud API answered {response.status_code}")
        code = _graph_code(error.get("code"))
        subcode = error.get("error_subcode")
        said = error.get("message") or error.get("type") or "no message"
        detail = (
            f"WhatsApp Cloud API answered {response.status_code}, Graph error "
            f"{code}{f'/{subcode}' if subcode is not None else ''}: {shorten(str(said))}"
        )
        if error.get("fbtrace_id"):
            detail += f" (fbtrace_id {error['fbtrace_id']})"
        raise DeliveryError(
            detail,
            transient=is_transient_status(response.status_code) or code in TRANSIENT_GRAPH_CODES,
            status_code=response.status_code,
            retry_after=retry_after_seconds(response),
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def template_payload(template: dict[str, Any]) -> dict[str, Any]:
    """An approved template message: its name, language code and the values
    of its body parameters ({{1}}, {{2}}, ...)."""
    parameters = [{"type": "text", "text": str(v)} for v in template.get("parameters") or []]
    components: list[dict[str, Any]] = (
        [{"type": "body", "parameters": parameters}] if parameters else []
    )
    if template.get("authentication") and template.get("code"):
        # An authentication template's copy-code button carries the code too.
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": str(template["code"])}],
            }
        )
    return {
        "type": "template",
        "template": {
            "name": template["name"],
            "language": {"code": template["language"]},
            "components": components,
        },
    }


def _message_id(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return None
    messages = answer.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        found = messages[0].get("id")
        return str(found) if found is not None else None
    return None


def _graph_code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
