"""Signatures of OPD webhook deliveries, and what a receiver checks.

Every delivery is an HTTP POST whose body is one CloudEvent in structured JSON
mode (``Content-Type: application/cloudevents+json``) with these headers:

- ``X-MPP-Event-Id``: the CloudEvent's ``id``. The same event may arrive more
  than once (retries, redelivery after a crash, an explicit redelivery of a
  time range): receivers dedupe by this id.
- ``X-MPP-Event-Type``: the CloudEvent's ``type``, e.g.
  ``mpp.application.verified.v1``.
- ``X-MPP-Delivery-Id``: this delivery (the same on each retry of it; a new
  one for an explicit redelivery).
- ``X-MPP-Timestamp``: when this attempt was signed, in Unix seconds.
- ``X-MPP-Signature``: ``v1=<hex>`` where ``<hex>`` is
  HMAC-SHA256(key = the subscription's secret as UTF-8,
  message = ``<X-MPP-Timestamp>`` + ``"."`` + the raw request body bytes).
  During a secret change a receiver may hold two secrets; several
  comma-separated ``v1=`` values are accepted by ``verify``.
- ``X-MPP-Replay: true`` only on deliveries queued by an explicit redelivery.
- ``User-Agent: MPP-Notify-Webhooks/1``.

A receiver verifies a delivery like this (Python; any language with HMAC works):

    timestamp = request.headers["X-MPP-Timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        reject()  # stale or replayed by a third party
    expected = "v1=" + hmac.new(
        secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, request.headers["X-MPP-Signature"]):
        reject()

It must hash the body exactly as received (before any JSON parsing), compare
in constant time, and answer 2xx once it has stored the event; anything else
(or no answer within the timeout) is retried with backoff. ``410 Gone``
disables the subscription at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from mpp_shared.events.envelope import CONTENT_TYPE

USER_AGENT = "MPP-Notify-Webhooks/1"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds a signed timestamp stays acceptable


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify(
    secret: str,
    timestamp: int | str,
    body: bytes,
    header: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True when `header` holds a valid signature of `body` at `timestamp` and
    the timestamp lies within `tolerance` seconds of `now`."""
    try:
        signed_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - signed_at) > tolerance:
        return False
    expected = sign(secret, signed_at, body).encode()
    candidates = [part.strip() for part in header.split(",") if part.strip()]
    # Compare every candidate so the time taken does not tell which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate.encode())
    return matched


def headers(
    *,
    secret: str,
    body: bytes,
    event_id: str,
    event_type: str,
    delivery_id: str,
    timestamp: int | None = None,
    replay: bool = False,
) -> dict[str, str]:
    """The headers of one delivery attempt, signed now (or at `timestamp`)."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    out = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "X-MPP-Event-Id": event_id,
        "X-MPP-Event-Type": event_type,
        "X-MPP-Delivery-Id": delivery_id,
        "X-MPP-Timestamp": str(signed_at),
        "X-MPP-Signature": sign(secret, signed_at, body),
    }
    if replay:
        out["X-MPP-Replay"] = "true"
    return out
