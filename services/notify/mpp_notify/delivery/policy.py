"""When to try again, shared by messages and webhooks: exponential backoff
with jitter, never sooner than the other side's Retry-After (within the cap),
and each provider's rate, shared by every notify replica."""

from __future__ import annotations

import random
from collections.abc import Mapping

import asyncpg

from mpp_shared.ratelimit import Rate, SharedRateLimit


def backoff(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based):
    uniformly random in [base * 2^(attempt-1) / 2, base * 2^(attempt-1)],
    capped at `cap`. Half the delay is kept so retries never bunch at zero."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def retry_delay(attempt: int, base: float, cap: float, retry_after: float | None) -> float:
    """Seconds to wait after failed attempt `attempt`: the backoff, or what the
    other side asked for with Retry-After when that is longer, up to `cap`
    (a receiver cannot park a delivery for days)."""
    return max(backoff(attempt, base, cap), min(retry_after or 0.0, cap))


class ProviderLimits:
    """Each channel's provider rate (messages per second, bursts of as many),
    one limit for all notify replicas together: the buckets are kept in
    PostgreSQL (`mpp_shared.ratelimit`), so two processes never send more
    than the provider allows one sender. `acquire` reserves the next free slot
    (at most `within` seconds ahead) and waits for it."""

    SCOPE = "notify_provider"

    def __init__(self, per_second: Mapping[str, float]) -> None:
        self.rates = {channel: Rate(rate, max(1.0, rate)) for channel, rate in per_second.items()}
        self._limits: dict[str, SharedRateLimit] = {}

    async def acquire(self, pool: asyncpg.Pool, channel: str, *, within: float) -> None:
        rate = self.rates.get(channel)
        if rate is None:
            return
        limit = self._limits.get(channel)
        if limit is None or limit.pool is not pool:
            limit = self._limits[channel] = SharedRateLimit(pool, self.SCOPE, rate)
        await limit.acquire(channel, within=within)
