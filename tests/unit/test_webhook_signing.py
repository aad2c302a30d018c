"""Webhook signatures: the documented scheme, checked against an independent
HMAC computation, and what `verify` refuses."""

from __future__ import annotations

import hashlib
import hmac

from mpp_notify.webhooks import signing

SECRET = "s3cret-shared-with-the-opd-0123456789"
BODY = b'{"specversion":"1.0","id":"e1","type":"mpp.application.verified.v1","data":{}}'
AT = 1_723_887_015


def _reference(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    assert signing.sign(SECRET, AT, BODY) == _reference(SECRET, AT, BODY)
    assert signing.sign(SECRET, AT, BODY) != signing.sign(SECRET, AT + 1, BODY)
    assert signing.sign(SECRET, AT, BODY) != signing.sign(SECRET + "x", AT, BODY)


def test_verify_accepts_a_fresh_signature_and_refuses_tampering() -> None:
    header = _reference(SECRET, AT, BODY)
    assert signing.verify(SECRET, AT, BODY, header, now=AT + 10)
    assert signing.verify(SECRET, str(AT), BODY, header, now=AT - 10)
    assert not signing.verify(SECRET, AT, BODY + b" ", header, now=AT)
    assert not signing.verify("another-secret-of-24-chars!!", AT, BODY, header, now=AT)
    assert not signing.verify(SECRET, AT + 1, BODY, header, now=AT)  # timestamp swapped
    assert not signing.verify(SECRET, AT, BODY, "v1=" + "0" * 64, now=AT)
    assert not signing.verify(SECRET, AT, BODY, "", now=AT)
    assert not signing.verify(SECRET, "yesterday", BODY, header, now=AT)


def test_verify_refuses_stale_timestamps() -> None:
    header = _reference(SECRET, AT, BODY)
    assert signing.verify(SECRET, AT, BODY, header, now=AT + 300)
    assert not signing.verify(SECRET, AT, BODY, header, now=AT + 301)
    assert not signing.verify(SECRET, AT, BODY, header, now=AT - 301)
    assert signing.verify(SECRET, AT, BODY, header, tolerance=3600, now=AT + 3000)


def test_verify_takes_any_of_several_signatures() -> None:
    """While a receiver rotates its secret it may list more than one."""
    both = f"{_reference('old-secret-0123456789abcdef', AT, BODY)}, {_reference(SECRET, AT, BODY)}"
    assert signing.verify(SECRET, AT, BODY, both, now=AT)
    assert not signing.verify("third-secret-0123456789abcdef", AT, BODY, both, now=AT)


def test_headers_of_a_delivery() -> None:
    headers = signing.headers(
        secret=SECRET,
        body=BODY,
        event_id="e1",
        event_type="mpp.application.verified.v1",
        delivery_id="d1",
        timestamp=AT,
    )
    assert headers == {
        "Content-Type": "application/cloudevents+json",
        "User-Agent": "MPP-Notify-Webhooks/1",
        "X-MPP-Event-Id": "e1",
        "X-MPP-Event-Type": "mpp.application.verified.v1",
        "X-MPP-Delivery-Id": "d1",
        "X-MPP-Timestamp": str(AT),
        "X-MPP-Signature": _reference(SECRET, AT, BODY),
    }
    replayed = signing.headers(
        secret=SECRET, body=BODY, event_id="e1", event_type="t", delivery_id="d2", replay=True
    )
    assert replayed["X-MPP-Replay"] == "true"
    signed_at = int(replayed["X-MPP-Timestamp"])
    assert signing.verify(SECRET, signed_at, BODY, replayed["X-MPP-Signature"])
