"""The limits of the public routes, kept at the edge: they limit callers by
address (and api_key) before any use case runs. Filing (POST /v1/complaints,
the complaint form, Open311 POST requests) and the look-up of a complaint by
its code (the status page, its JSON twin) each have a bucket of their own.

The buckets are kept in PostgreSQL (`mpp_shared.ratelimit`), so every
replica counts against the same limit; the address is the client's as the
trusted proxies tell it (`mpp_shared.web.client_address`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from mpp_shared.errors import TooManyRequests
from mpp_shared.ratelimit import Rate, SharedRateLimit, address_key
from mpp_shared.ratelimit import retry_after as retry_after
from mpp_shared.web import refusal_response, request_language
from mpp_shared.web.client_address import request_client_address

FILING_SCOPE = "complaint_filing"
LOOKUP_SCOPE = "complaint_lookup"


def limiter(request: Request) -> SharedRateLimit:
    """The filing bucket of this app (made on first use, once the pool is up)."""
    state = request.app.state
    limit: SharedRateLimit | None = getattr(state, "complaint_rate_limiter", None)
    if limit is None:
        rate = Rate.per_minute(state.settings.complaint_rate_per_minute)
        limit = SharedRateLimit(state.runtime.pool, FILING_SCOPE, rate)
        state.complaint_rate_limiter = limit
    return limit


def lookup_limiter(request: Request) -> SharedRateLimit:
    """The bucket of the look-ups by complaint code (status page, its JSON twin)."""
    state = request.app.state
    limit: SharedRateLimit | None = getattr(state, "complaint_status_rate_limiter", None)
    if limit is None:
        rate = Rate.per_minute(state.settings.complaint_status_rate_per_minute)
        limit = SharedRateLimit(state.runtime.pool, LOOKUP_SCOPE, rate)
        state.complaint_status_rate_limiter = limit
    return limit


def client_key(request: Request, extra: str = "") -> str:
    host = address_key(request_client_address(request))
    return f"{host}|{extra}" if extra else host


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


async def filing_wait(request: Request, extra: str = "") -> float:
    """Take a filing grant for this client (and `extra`, e.g. an api_key):
    0 when allowed, else the seconds to wait."""
    decision = await limiter(request).take(client_key(request, extra))
    return 0.0 if decision.granted else max(decision.wait, 1e-3)


async def lookup_wait(request: Request) -> float:
    """Take a look-up grant for this client: 0 when allowed, else the seconds to wait."""
    decision = await lookup_limiter(request).take(client_key(request))
    return 0.0 if decision.granted else max(decision.wait, 1e-3)


async def refusal(request: Request, extra: str = "") -> JSONResponse | None:
    """Take a filing grant for this client (and `extra`); None when allowed,
    else the 429 answer with Retry-After."""
    wait = await filing_wait(request, extra)
    if wait <= 0:
        return None
    return refusal_response(too_many(wait), request_language(request))
