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

Standard Webhooks (https://www.standardwebhooks.com), chosen per subscription
with ``signature_scheme: "standard_webhooks"``, so that a receiver can use the
ready verifiers of that specification (libraries in most languages). The
subscription's secret is then a Standard Webhooks secret, ``whsec_`` followed
by the base64 of 24 to 64 random bytes, e.g. in Python
``"whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()``; the HMAC
key is those bytes. Instead of ``X-MPP-Timestamp`` and ``X-MPP-Signature``
each delivery carries:

- ``webhook-id``: the message id, the same on every retry of a delivery (it
  equals ``X-MPP-Delivery-Id``; an explicit redelivery is a new message);
- ``webhook-timestamp``: when this attempt was signed, in Unix seconds;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256(key,
  f"{webhook-id}.{webhook-timestamp}." + raw body)>``.

The ``X-MPP-Event-Id``, ``X-MPP-Event-Type``, ``X-MPP-Delivery-Id`` and
``X-MPP-Replay`` headers come as well. With the Python library
``standardwebhooks``: ``Webhook(secret).verify(raw_body, request.headers)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Literal

from mpp_shared.events.envelope import CONTENT_TYPE

USER_AGENT = "MPP-Notify-Webhooks/1"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds a signed timestamp stays acceptable

# How a subscription's deliveries are signed.
SignatureScheme = Literal["mpp_v1", "standard_webhooks"]
MPP_V1: SignatureScheme = "mpp_v1"
STANDARD_WEBHOOKS: SignatureScheme = "standard_webhooks"
SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = (MPP_V1, STANDARD_WEBHOOKS)
STANDARD_SECRET_PREFIX = "whsec_"
STANDARD_KEY_MIN, STANDARD_KEY_MAX = 24, 64  # bytes of a Standard Webhooks key
# The refusal of a secret a standard_webhooks subscription cannot use.
STANDARD_SECRET_TEXTS = (
    f"harus berupa rahasia Standard Webhooks: {STANDARD_SECRET_PREFIX} diikuti base64 dari "
    f"{STANDARD_KEY_MIN} sampai {STANDARD_KEY_MAX} bita acak",
    f"must be a Standard Webhooks secret: {STANDARD_SECRET_PREFIX} followed by the base64 of "
    f"{STANDARD_KEY_MIN} to {STANDARD_KEY_MAX} random bytes",
)


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


def standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_<base64>``);
    ValueError when `secret` is not one."""
    if not secret.startswith(STANDARD_SECRET_PREFIX):
        raise ValueError(f"a Standard Webhooks secret starts with {STANDARD_SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret.removeprefix(STANDARD_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64 after the prefix") from exc
    if not STANDARD_KEY_MIN <= len(key) <= STANDARD_KEY_MAX:
        raise ValueError(f"the key must be {STANDARD_KEY_MIN} to {STANDARD_KEY_MAX} bytes")
    return key


def is_standard_secret(secret: str) -> bool:
    try:
        standard_key(secret)
    except ValueError:
        return False
    return True


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>." + body)>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return f"{SCHEME},{base64.b64encode(mac).decode()}"


def verify_standard(
    secret: str,
    message_id: str,
    timestamp: int | str,
    body: bytes,
    header: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """True when `header` (``webhook-signature``: space-separated
    ``v1,<base64>`` values) holds a valid signature of `body` and the
    timestamp lies within `tolerance` seconds of `now`."""
    try:
        signed_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - signed_at) > tolerance:
        return False
    expected = sign_standard(secret, message_id, signed_at, body).encode()
    matched = False
    for candidate in header.split():
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
    scheme: SignatureScheme = MPP_V1,
) -> dict[str, str]:
    """The headers of one delivery attempt, signed now (or at `timestamp`)
    the subscription's way."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    out = {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        "X-MPP-Event-Id": event_id,
        "X-MPP-Event-Type": event_type,
        "X-MPP-Delivery-Id": delivery_id,
    }
    if scheme == STANDARD_WEBHOOKS:
        # The message id is the delivery's: the same on every retry of it.
        out["webhook-id"] = delivery_id
        out["webhook-timestamp"] = str(signed_at)
        out["webhook-signature"] = sign_standard(secret, delivery_id, signed_at, body)
    else:
        out["X-MPP-Timestamp"] = str(signed_at)
        out["X-MPP-Signature"] = sign(secret, signed_at, body)
    if replay:
        out["X-MPP-Replay"] = "true"
    return out
