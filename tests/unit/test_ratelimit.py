"""The in-process token bucket of the public complaint filing routes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mpp_complaints.api import ratelimit
from mpp_complaints.api.ratelimit import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refused_with_the_wait() -> None:
    clock = Clock()
    buckets = TokenBuckets(6, clock=clock)  # one token every 10 s, burst 6
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    assert buckets.take("a") == pytest.approx(10.0)
    clock.now += 4
    assert buckets.take("a") == pytest.approx(6.0)


def test_refill_never_beyond_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(60, burst=2, clock=clock)
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") > 0
    clock.now += 1  # one token back
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0
    clock.now += 3600  # long idle: still only the burst
    assert [buckets.take("a") for _ in range(3)][:2] == [0, 0]
    assert buckets.take("a") > 0


def test_keys_are_isolated() -> None:
    clock = Clock()
    buckets = TokenBuckets(1, clock=clock)
    assert buckets.take("10.0.0.1") == 0
    assert buckets.take("10.0.0.1") == pytest.approx(60.0)
    assert buckets.take("10.0.0.2") == 0
    assert buckets.take("10.0.0.2|key") == 0


def test_zero_rate_turns_the_limit_off() -> None:
    buckets = TokenBuckets(0)
    assert all(buckets.take("a") == 0 for _ in range(100))


def test_many_keys_are_pruned() -> None:
    clock = Clock()
    buckets = TokenBuckets(60, clock=clock)
    for i in range(ratelimit.MAX_KEYS):
        buckets.take(str(i))
    clock.now += 60  # all full again
    buckets.take("new")
    assert len(buckets._buckets) == 1


def _request(host: str, rate: int, state: Any = None, language: str = "id") -> Any:
    state = state or SimpleNamespace(settings=SimpleNamespace(complaint_rate_per_minute=rate))
    return SimpleNamespace(
        app=SimpleNamespace(state=state),
        client=SimpleNamespace(host=host),
        headers={"accept-language": language},
        query_params={},
    )


def test_refusal_is_a_bilingual_429_with_retry_after() -> None:
    state = SimpleNamespace(settings=SimpleNamespace(complaint_rate_per_minute=2))
    first = _request("192.0.2.7", 2, state)
    assert ratelimit.refusal(first) is None
    assert ratelimit.refusal(first) is None
    refused = ratelimit.refusal(first)
    assert refused is not None and refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    assert b"rate_limited" in refused.body and b"Terlalu banyak" in refused.body
    english = ratelimit.refusal(_request("192.0.2.7", 2, state, "en"))
    assert english is not None and b"Too many complaints" in english.body
    assert ratelimit.refusal(_request("192.0.2.8", 2, state)) is None  # another client
    assert ratelimit.refusal(_request("192.0.2.7", 2, state), "api-key") is None
