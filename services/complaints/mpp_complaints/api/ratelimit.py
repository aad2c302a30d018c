"""A small in-process token bucket for the public filing routes (and, in a
bucket of its own, the public look-up of a complaint by its code), kept at
the edge: it limits callers by address (and api_key) before any use case runs.

The limit is per process: with N instances behind a load balancer a client may
file N times as often. Production would enforce the limit in the gateway or a
shared store (e.g. Redis); this one protects a single instance from a flood.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse

from mpp_shared.errors import TooManyRequests
from mpp_shared.web import refusal_response, request_language

MAX_KEYS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per key: `rate_per_minute` tokens refill per minute, up to
    `burst` (default: the rate). `take(key)` answers 0 when allowed, else the
    seconds to wait before the next token."""

    def __init__(
        self,
        rate_per_minute: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst if burst is not None else rate_per_minute)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        if self.rate <= 0:
            return 0.0  # limit disabled
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget the buckets that are full again (they behave like new ones)."""
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()


def limiter(request: Request) -> TokenBuckets:
    state = request.app.state
    buckets = getattr(state, "complaint_rate_limiter", None)
    if buckets is None:
        buckets = TokenBuckets(state.settings.complaint_rate_per_minute)
        state.complaint_rate_limiter = buckets
    return buckets


def lookup_limiter(request: Request) -> TokenBuckets:
    """The bucket of the look-ups by complaint code (status page, its JSON twin)."""
    state = request.app.state
    buckets = getattr(state, "complaint_status_rate_limiter", None)
    if buckets is None:
        buckets = TokenBuckets(state.settings.complaint_status_rate_per_minute)
        state.complaint_status_rate_limiter = buckets
    return buckets


def client_key(request: Request, extra: str = "") -> str:
    host = request.client.host if request.client else "unknown"
    return f"{host}|{extra}" if extra else host


def retry_after(wait: float) -> int:
    """The wait in whole seconds for Retry-After, at least one."""
    return max(1, math.ceil(wait))


def too_many(wait: float) -> TooManyRequests:
    return TooManyRequests(
        "rate_limited",
        "Terlalu banyak pengaduan dari alamat ini; coba lagi sebentar lagi",
        "Too many complaints from this address; try again shortly",
        retry_after=retry_after(wait),
    )


def too_many_lookups(wait: float) -> TooManyRequests:
    return TooManyRequests(
        "rate_limited",
        "Terlalu banyak permintaan dari alamat ini; coba lagi sebentar lagi",
        "Too many requests from this address; try again shortly",
        retry_after=retry_after(wait),
    )


def filing_wait(request: Request) -> float:
    """Take a filing token for this client: 0 when allowed, else the seconds to wait."""
    return limiter(request).take(client_key(request))


def lookup_wait(request: Request) -> float:
    """Take a look-up token for this client: 0 when allowed, else the seconds to wait."""
    return lookup_limiter(request).take(client_key(request))


def refusal(request: Request, extra: str = "") -> JSONResponse | None:
    """Take a token for this client (and `extra`, e.g. an api_key); None when
    allowed, else the 429 answer with Retry-After."""
    wait = limiter(request).take(client_key(request, extra))
    if wait <= 0:
        return None
    return refusal_response(too_many(wait), request_language(request))
