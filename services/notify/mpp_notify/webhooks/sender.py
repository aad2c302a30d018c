"""One attempt at one OPD webhook delivery: a signed POST, outside any
transaction, under a CLIENT span, that never raises.

The answer becomes an `Outcome`: 2xx delivered; ``410 Gone`` a permanent
refusal (the dispatcher disables the subscription); anything else, including
no answer within ``webhook_timeout`` and redirects (never followed), a
transient failure, with the receiver's ``Retry-After`` kept on 429 / 503.
Only the start of a refusing receiver's answer is read and kept as the error.
A host the address guard refuses at connection time (`webhooks.addresses`:
it resolves to a loopback, private, link-local... address) is a refused
attempt: nothing was sent, and the delivery is not tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from opentelemetry import metrics, trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind, Status, StatusCode

from mpp_notify.channels.http import read_start, retry_after_seconds
from mpp_notify.webhooks import signing
from mpp_notify.webhooks.addresses import AddressGuard, AddressRefused
from mpp_notify.webhooks.transport import GuardedTransport

log = logging.getLogger(__name__)
tracer = trace.get_tracer("mpp.notify.webhooks")
_attempts_counter = metrics.get_meter("mpp.notify.webhooks").create_counter(
    "mpp.webhook.attempts", unit="{attempt}", description="Webhook delivery attempts by outcome"
)

SNIPPET = 300  # characters of a refusing receiver's answer kept as the error
# The answers whose Retry-After a receiver means as "not before then".
HONOURS_RETRY_AFTER = frozenset({429, 503})


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for one attempt."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    replay: bool
    attempt: int
    url: str
    secret_enc: bytes
    envelope: dict[str, Any]
    signature_scheme: signing.SignatureScheme = signing.MPP_V1


@dataclass(frozen=True)
class Outcome:
    delivery: Claimed
    started_at: datetime
    finished_at: datetime
    status_code: int | None
    error: str | None
    retry_after: float | None = None
    refused: bool = False  # the address guard refused the receiver's address

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def client(timeout: float, guard: AddressGuard | None = None) -> httpx.AsyncClient:
    """The client every attempt of a dispatcher goes through: each of its
    connections checked by `guard` (none: every address allowed)."""
    # As `channels.http.new_client` makes them (redirects never followed),
    # on the guarded transport.
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": signing.USER_AGENT},
        transport=GuardedTransport(guard or AddressGuard(check=False)),
    )


async def post(
    client: httpx.AsyncClient,
    delivery: Claimed,
    open_secret: Callable[[Claimed], str],
    timeout: float,
) -> Outcome:
    """One signed POST of `delivery`; never raises."""
    started_at = _now()
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None
    refused = False
    with _span(delivery) as span:
        try:
            secret = open_secret(delivery)
            body = json.dumps(delivery.envelope, separators=(",", ":"), ensure_ascii=False).encode()
            headers = signing.headers(
                secret=secret,
                body=body,
                event_id=str(delivery.event_id),
                event_type=delivery.event_type,
                delivery_id=str(delivery.id),
                replay=delivery.replay,
                scheme=delivery.signature_scheme,
            )
            inject(headers)
            # httpx's timeout bounds each read; this bounds the whole
            # exchange, also with a receiver that answers byte by byte.
            async with (
                asyncio.timeout(timeout),
                client.stream("POST", delivery.url, content=body, headers=headers) as response,
            ):
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
                    if status_code in HONOURS_RETRY_AFTER:
                        retry_after = retry_after_seconds(response)
                    if snippet := await read_start(response, SNIPPET):
                        error += f": {snippet}"
        except AddressRefused as exc:
            refused = True
            error = str(exc)[:SNIPPET]
        except (httpx.TimeoutException, TimeoutError):
            if status_code is None:  # else: the status came, the rest of the answer did not
                error = f"no answer within {timeout:g} s"
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:SNIPPET]
        except Exception as exc:
            log.exception("webhook delivery %s: unexpected failure", delivery.id)
            error = f"{type(exc).__name__}: {exc}"[:SNIPPET]
        if status_code is not None:
            span.set_attribute("http.response.status_code", status_code)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
    _attempts_counter.add(1, {"outcome": _outcome_name(status_code, error, refused)})
    return Outcome(delivery, started_at, _now(), status_code, error, retry_after, refused)


@contextlib.contextmanager
def _span(delivery: Claimed) -> Iterator[trace.Span]:
    """A CLIENT span per attempt: a child of the consuming span for a first
    attempt, else (a retry, maybe hours later, or a replay) a root span
    linked to it."""
    stored = trace.get_current_span(
        extract({k: v for k in ("traceparent", "tracestate") if (v := delivery.envelope.get(k))})
    ).get_span_context()
    first = delivery.attempt == 1 and not delivery.replay and stored.is_valid
    parent = trace.set_span_in_context(
        trace.NonRecordingSpan(stored) if first else trace.INVALID_SPAN
    )
    target = urlsplit(delivery.url)
    with tracer.start_as_current_span(
        "webhook POST",
        context=parent,
        kind=SpanKind.CLIENT,
        links=[trace.Link(stored)] if stored.is_valid and not first else None,
        attributes={
            "mpp.subscription.id": str(delivery.subscription_id),
            "mpp.webhook.delivery.id": str(delivery.id),
            "mpp.webhook.attempt": delivery.attempt,
            "mpp.webhook.replay": delivery.replay,
            "cloudevents.event_id": str(delivery.event_id),
            "cloudevents.event_type": delivery.event_type,
            "http.request.method": "POST",
            "server.address": target.hostname or "",
        },
    ) as span:
        yield span


def _now() -> datetime:
    return datetime.now(UTC)


ATTEMPT_OUTCOMES = ("delivered", "transient", "permanent", "refused")


def count_attempts_from_zero() -> None:
    """Every outcome of `mpp.webhook.attempts` at 0, so the first failure is
    an increase an alert sees."""
    for outcome in ATTEMPT_OUTCOMES:
        _attempts_counter.add(0, {"outcome": outcome})


def _outcome_name(status_code: int | None, error: str | None, refused: bool = False) -> str:
    if refused:
        return "refused"
    if error is None:
        return "delivered"
    return "permanent" if status_code == 410 else "transient"
