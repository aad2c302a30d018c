"""A resident signing in to the online application the way a phone does:
ask intake for a code, read it from the fake SMS gateway / WhatsApp API
(`tests.support.providers`), exchange it for a session token.

``sign_in(intake_url, providers, *, nik, phone, channel="sms") -> str``
    The citizen session token (use it as ``Authorization: Bearer``, or as
    the ``mpp_citizen`` cookie on the pages).
``request_code(...) -> (request_id, code)``
    The first half alone, for tests of the code itself.

Each call comes from its own client address (``X-Forwarded-For``, as the
district's reverse proxy passes it on; uvicorn trusts it from loopback), so
the per-address limit of one test never meets another's.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Literal

import httpx
import phonenumbers

from tests.support.providers import Providers

_addresses = itertools.count(1)
_CODE = re.compile(r"\b(\d{6})\b")


def client_address() -> str:
    """An address (TEST-NET-2) never used before in this test session."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250 % 100}.{n % 250 + 1}"


def e164(phone: str) -> str:
    parsed = phonenumbers.parse(phone, "ID")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def wait_for_code(
    providers: Providers, phone: str, *, seen: int, channel: str, timeout: float = 30.0
) -> str:
    """The code of the first message to `phone` after the `seen` ones before."""
    to = e164(phone)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [m for m in providers.to(to)[seen:] if m.channel == channel]
        for message in fresh:
            found = _CODE.search(message.body)
            if found:
                return found.group(1)
        time.sleep(0.05)  # polling the fake provider, not waiting a fixed time
    raise AssertionError(f"no sign-in code reached {to} by {channel} within {timeout}s")


def request_code(
    intake_url: str,
    providers: Providers,
    *,
    nik: str,
    phone: str,
    channel: Literal["sms", "whatsapp"] = "sms",
    address: str | None = None,
) -> tuple[str, str]:
    """(request_id, code) of a fresh code sent to `phone`."""
    seen = len(providers.to(e164(phone)))
    answer = httpx.post(
        f"{intake_url}/v1/citizen/signin-codes",
        json={"nik": nik, "phone": phone, "channel": channel},
        headers={"X-Forwarded-For": address or client_address()},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    code = wait_for_code(providers, phone, seen=seen, channel=channel)
    return str(answer.json()["request_id"]), code


def sign_in(
    intake_url: str,
    providers: Providers,
    *,
    nik: str,
    phone: str,
    channel: Literal["sms", "whatsapp"] = "sms",
) -> str:
    """A citizen session token for `nik` + `phone`, through the real flow."""
    address = client_address()
    request_id, code = request_code(
        intake_url, providers, nik=nik, phone=phone, channel=channel, address=address
    )
    answer = httpx.post(
        f"{intake_url}/v1/citizen/sessions",
        json={"request_id": request_id, "code": code},
        headers={"X-Forwarded-For": address},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def mentions_code(text: str, code: str) -> bool:
    """Whether `text` holds the sign-in code as a value of its own: not inside a
    longer number, a time or a hex id (trace and span ids hold runs of digits
    that a code could equal)."""
    return re.search(rf"(?<![\w.:]){code}(?!\w)", text) is not None
