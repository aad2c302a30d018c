"""Webhook signatures: the documented schemes (mpp_v1 and Standard
Webhooks), checked against independent HMAC computations, and what `verify`
refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

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


# --- Standard Webhooks (www.standardwebhooks.com) -------------------------------

KEY = bytes(range(32))
WHSEC = "whsec_" + base64.b64encode(KEY).decode()


def _standard_reference(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """As the specification computes it, from the key bytes."""
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_standard_signature_is_base64_hmac_over_id_timestamp_and_body() -> None:
    expected = _standard_reference(KEY, "msg_1", AT, BODY)
    assert signing.sign_standard(WHSEC, "msg_1", AT, BODY) == expected
    assert signing.sign_standard(WHSEC, "msg_2", AT, BODY) != expected
    assert signing.verify_standard(WHSEC, "msg_1", AT, BODY, expected, now=AT + 5)
    # Several signatures, space-separated (a receiver's key rotation).
    other = _standard_reference(b"k" * 32, "msg_1", AT, BODY)
    assert signing.verify_standard(WHSEC, "msg_1", AT, BODY, f"{other} {expected}", now=AT)
    assert not signing.verify_standard(WHSEC, "msg_1", AT, BODY + b" ", expected, now=AT)
    assert not signing.verify_standard(WHSEC, "msg_2", AT, BODY, expected, now=AT)
    assert not signing.verify_standard(WHSEC, "msg_1", AT, BODY, expected, now=AT + 301)


def test_the_specification_example_verifies() -> None:
    """The test vector of the Standard Webhooks reference libraries."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    header = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.sign_standard(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == header


@pytest.mark.parametrize(
    "secret",
    [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"x" * 23).decode(),  # too short a key
        "whsec_" + base64.b64encode(b"x" * 65).decode(),  # too long a key
    ],
)
def test_what_is_not_a_standard_secret(secret: str) -> None:
    assert not signing.is_standard_secret(secret)
    with pytest.raises(ValueError):
        signing.standard_key(secret)


def test_headers_of_a_standard_webhooks_delivery() -> None:
    headers = signing.headers(
        secret=WHSEC,
        body=BODY,
        event_id="e1",
        event_type="mpp.application.verified.v1",
        delivery_id="d1",
        timestamp=AT,
        scheme=signing.STANDARD_WEBHOOKS,
    )
    assert headers == {
        "Content-Type": "application/cloudevents+json",
        "User-Agent": "MPP-Notify-Webhooks/1",
        "X-MPP-Event-Id": "e1",
        "X-MPP-Event-Type": "mpp.application.verified.v1",
        "X-MPP-Delivery-Id": "d1",
        "webhook-id": "d1",
        "webhook-timestamp": str(AT),
        "webhook-signature": _standard_reference(KEY, "d1", AT, BODY),
    }
