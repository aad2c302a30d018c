"""The assistant's documented internal HTTP calls (docs/ARCHITECTURE.md,
"Citizen channels"): notify never reads another service's database.

- intake `GET /v1/services` (the current catalog), `GET /v1/pickup-points`
  (the points' names) and `GET /v1/track/{code}` (the public tracking state):
  public routes, called with the sender's language;
- complaints `POST /v1/channel/complaints` with a short-lived `channel`
  token minted by notify (Ed25519, CHANNEL_TOKEN_PRIVATE_KEY; complaints
  holds only the public key and grants it the `channel` role alone), filing on the sender's behalf (channel whatsapp),
  with the inbound message id as Idempotency-Key, so a retried webhook
  never files twice.

Every call has a timeout (INTERNAL_HTTP_TIMEOUT); a service that does not
answer, or answers 5xx, raises `Unavailable` and the sender is told to try
again in a moment."""

from __future__ import annotations

from typing import Any

import httpx

from mpp_shared.auth import CHANNEL_TOKEN, mint_purpose_token

CHANNEL_SUBJECT = "notify-whatsapp-assistant"


class Unavailable(Exception):
    """The other service did not answer usefully in time."""


class NotFoundThere(Exception):
    """The other service answered 404."""


class Refused(Exception):
    """The other service refused the request (422): `detail` says why."""

    def __init__(self, detail: Any) -> None:
        super().__init__(str(detail))
        self.detail = detail


class ServiceClients:
    def __init__(
        self,
        *,
        intake_url: str,
        complaints_url: str,
        timeout: float,
        channel_token_key: str,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.intake_url = intake_url.rstrip("/")
        self.complaints_url = complaints_url.rstrip("/")
        self.channel_token_key = channel_token_key
        self.timeout = timeout
        self._client = client  # else one per call: a handful of calls per inbound message

    async def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            if self._client is not None:
                response = await self._client.request(method, url, timeout=self.timeout, **kwargs)
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{method} {url}: {type(exc).__name__}") from exc
        if response.status_code == 404:
            raise NotFoundThere(url)
        if response.status_code == 422:
            raise Refused(_json(response))
        if not response.is_success:
            raise Unavailable(f"{method} {url} answered {response.status_code}")
        return _json(response)

    async def services(self, language: str) -> list[dict[str, Any]]:
        found = await self._call(
            "GET", f"{self.intake_url}/v1/services", headers={"Accept-Language": language}
        )
        return list(found.get("items") or []) if isinstance(found, dict) else []

    async def point_names(self, language: str) -> dict[str, str]:
        found = await self._call(
            "GET", f"{self.intake_url}/v1/pickup-points", headers={"Accept-Language": language}
        )
        items = found.get("items") or [] if isinstance(found, dict) else []
        return {str(p["code"]): str(p.get("name") or p["code"]) for p in items}

    async def track(self, code: str, language: str) -> dict[str, Any]:
        found = await self._call(
            "GET", f"{self.intake_url}/v1/track/{code}", headers={"Accept-Language": language}
        )
        return dict(found) if isinstance(found, dict) else {}

    async def file_complaint(
        self,
        *,
        description: str,
        tracking_code: str | None,
        phone: str,
        language: str,
        message_id: str,
        kind: str = "pengaduan",
    ) -> dict[str, Any]:
        token = mint_purpose_token(
            CHANNEL_TOKEN, self.channel_token_key, subject=CHANNEL_SUBJECT, ttl_seconds=120
        )
        body = {
            "description": description,
            "tracking_code": tracking_code,
            "phone": phone,
            "language": language,
            "kind": kind,
        }
        found = await self._call(
            "POST",
            f"{self.complaints_url}/v1/channel/complaints",
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Idempotency-Key": message_id,
                "Accept-Language": language,
            },
        )
        return dict(found) if isinstance(found, dict) else {}


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
