"""The edge's limits without a database: the rates and keys of the shared
limiter, the complaints' 429 answers, and who the client is behind the
trusted proxies. The buckets themselves (kept in PostgreSQL) are tested in
tests/integration/test_shared_rate_limits.py."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mpp_complaints.api import ratelimit
from mpp_shared.proxies import (
    TrustedProxies,
    client_address,
    forwarded_hops,
    forwarded_proto,
)
from mpp_shared.ratelimit import Decision, Rate, address_key, retry_after
from mpp_shared.settings import ServiceSettings

# --- rates and keys -------------------------------------------------------------


def test_a_rate_per_minute_is_its_interval_and_tolerance() -> None:
    six = Rate.per_minute(6)  # one grant every 10 s, bursts of 6
    assert six.interval == pytest.approx(10.0)
    assert six.tolerance == pytest.approx(50.0)
    assert Rate.per_minute(60, burst=2).burst == 2
    assert Rate.per_minute(0).off and not six.off
    assert Rate.per_minute(0).burst == 1  # a burst is never below one
    with pytest.raises(ValueError, match="burst"):
        Rate(1.0, 0.5)


def test_ipv6_clients_are_limited_by_their_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:2:ffff::1") == address_key("2001:db8:1:2::9")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("testclient") == "testclient"


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after(w) for w in (0.001, 1.0, 1.2, 29.9)] == [1, 1, 2, 30]


# --- the complaints' answers ------------------------------------------------------


class Limit:
    """A stand-in for a SharedRateLimit: grants `left` takes, then refuses."""

    def __init__(self, left: int, wait: float = 30.0) -> None:
        self.left, self.wait, self.keys = left, wait, list[str]()

    async def take(self, key: str, **_: Any) -> Decision:
        self.keys.append(key)
        self.left -= 1
        return Decision(True, 0.0) if self.left >= 0 else Decision(False, self.wait)


def _request(host: str, state: Any, language: str = "id") -> Any:
    return SimpleNamespace(
        app=SimpleNamespace(state=state),
        client=SimpleNamespace(host=host),
        headers={"accept-language": language},
        query_params={},
    )


async def test_refusal_is_a_bilingual_429_with_retry_after() -> None:
    limit = Limit(2, wait=29.4)
    state = SimpleNamespace(complaint_rate_limiter=limit)
    first = _request("192.0.2.7", state)
    assert await ratelimit.refusal(first) is None
    assert await ratelimit.refusal(first) is None
    refused = await ratelimit.refusal(first)
    assert refused is not None and refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    assert b"rate_limited" in refused.body and b"Terlalu banyak" in refused.body
    english = await ratelimit.refusal(_request("192.0.2.7", state, "en"))
    assert english is not None and b"Too many complaints" in english.body
    await ratelimit.refusal(_request("2001:db8::1", state), "api-key")
    assert limit.keys[-1] == "2001:db8::/64|api-key"  # by client and api_key


async def test_look_ups_have_a_bucket_of_their_own() -> None:
    state = SimpleNamespace(complaint_rate_limiter=Limit(0), complaint_status_rate_limiter=Limit(1))
    request = _request("192.0.2.7", state)
    assert await ratelimit.lookup_wait(request) == 0
    assert await ratelimit.lookup_wait(request) == 30.0
    assert await ratelimit.filing_wait(request) == 30.0
    refusal = ratelimit.too_many_lookups(30.0)
    assert refusal.message_en == "Too many requests from this address; try again shortly"


# --- who the client is ------------------------------------------------------------

INGRESS = TrustedProxies.parse("10.244.0.0/16, fd00::/8")


def _client(peer: str, forwarded_for: str | None, trusted: TrustedProxies = INGRESS) -> str | None:
    hops = forwarded_hops([forwarded_for] if forwarded_for is not None else [], "x-forwarded-for")
    return client_address(peer, hops, trusted)


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert _client("203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert _client("203.0.113.9", "10.244.0.5") == "203.0.113.9"
    assert _client("203.0.113.9", None) == "203.0.113.9"
    # Production's default trusts nobody, loopback included.
    assert _client("127.0.0.1", "198.51.100.1", TrustedProxies.parse("")) == "127.0.0.1"


def test_a_trusted_proxy_is_believed_from_the_right() -> None:
    assert _client("10.244.1.7", "198.51.100.1") == "198.51.100.1"
    assert _client("10.244.1.7", "198.51.100.1:51234") == "198.51.100.1"
    # What a client wrote itself sits left of what the ingress appended.
    assert _client("10.244.1.7", "1.2.3.4, 198.51.100.1") == "198.51.100.1"
    # A chain of trusted proxies is passed over.
    assert _client("10.244.1.7", "198.51.100.1, 10.244.3.3") == "198.51.100.1"
    assert _client("fd00::5", "2001:db8::7") == "2001:db8::7"
    # Nothing forwarded, or a hop nobody can read: the last trusted hop.
    assert _client("10.244.1.7", None) == "10.244.1.7"
    assert _client("10.244.1.7", "unknown") == "10.244.1.7"
    assert _client("10.244.1.7", "_hidden, 10.244.3.3") == "10.244.3.3"


def test_the_forwarded_header_of_rfc_7239() -> None:
    value = 'for=1.2.3.4;proto=http, for="[2001:db8:cafe::17]:4711";proto=https;by=10.244.0.1'
    hops = forwarded_hops([value], "forwarded")
    assert hops == ["1.2.3.4", '"[2001:db8:cafe::17]:4711"']
    assert client_address("10.244.1.7", hops, INGRESS) == "2001:db8:cafe::17"
    assert forwarded_proto([value], "forwarded") == "https"
    assert forwarded_proto(["https"], "x-forwarded-for") == "https"
    assert forwarded_proto(["gopher"], "x-forwarded-for") is None


def test_trusted_proxies_is_one_documented_setting() -> None:
    assert ServiceSettings().trusted_proxy_list() == "127.0.0.0/8,::1"
    production = ServiceSettings.model_construct(mpp_env="production", trusted_proxies=None)
    assert production.trusted_proxy_list() == ""
    assert ServiceSettings(trusted_proxies="10.0.0.0/8").trusted_proxy_list() == "10.0.0.0/8"
    with pytest.raises(ValueError, match="TRUSTED_PROXIES: 'ingress' is neither"):
        ServiceSettings(trusted_proxies="10.0.0.0/8, ingress")
    assert TrustedProxies.parse("127.0.0.1").trusts("127.0.0.1")
    assert not TrustedProxies.parse("127.0.0.1").trusts("testclient")
