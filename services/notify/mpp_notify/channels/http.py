"""HTTP plumbing of every client that POSTs to another system: the SMS
gateway, the WhatsApp Cloud API and the OPD webhook receivers.

It owns the one reading of `Retry-After` (seconds or an HTTP date, never
negative), the channels' reading of an HTTP status (429 and 5xx are worth
retrying, any other 4xx refuses the message), how a network failure becomes a
transient `DeliveryError`, and how a client is made: redirects are never
followed, so a message or an event only ever goes to the address configured
for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from mpp_notify.channels.base import DeliveryError

DETAIL_LIMIT = 200  # characters of a provider's answer kept in an error


def new_client(timeout: float, *, user_agent: str | None = None) -> httpx.AsyncClient:
    """A client for one remote system; `user_agent` replaces httpx's own."""
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": user_agent} if user_agent else None,
    )


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
    """A provider's status worth retrying: throttled (429) or in trouble (5xx)."""
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


async def read_start(response: httpx.Response, limit: int) -> str:
    """The first `limit` characters of a streamed answer, whitespace folded,
    never reading the whole of a big one."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    text = b"".join(chunks)[:limit].decode(errors="replace")
    return " ".join(text.split())


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def shorten(text: str) -> str:
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"
