"""When to try again, shared by messages and webhooks: exponential backoff
with jitter, never sooner than the other side's Retry-After (within the cap),
and a token bucket per provider."""

from __future__ import annotations

import asyncio
import random
import time


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


class RateLimiter:
    """Token bucket: at most `rate` calls per second on average, bursts of
    `burst`. `acquire` waits for a token."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._at = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)
