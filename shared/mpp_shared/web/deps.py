"""Dependencies every service's routes use: the pool, the caller's language,
the Idempotency-Key header, and the bounds that keep huge numbers a 422.

Every dependency of a route is `async def`: FastAPI runs a plain `def`
dependency in its thread pool, two thread hops on every request for a
lookup that takes microseconds."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from mpp_shared.errors import Language
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web.admission import bounded_pool
from mpp_shared.web.errors import request_language

# Bounds that keep a huge number a 422 instead of a database error (500):
# the largest PostgreSQL `integer`, and the last page a list may ask for
# (page_size is at most a few hundred, so OFFSET stays far inside bigint).
PG_INT_MAX = 2_147_483_647
MAX_PAGE = 100_000


async def caller_language(request: Request) -> Language:
    return request_language(request)


LanguageDep = Annotated[Language, Depends(caller_language)]


async def get_pool(request: Request) -> asyncpg.Pool:
    """The process's pool; the request's first connection from it is waited
    for at most DB_POOL_WAIT_MS, then answered 503 (`mpp_shared.web.admission`)."""
    return bounded_pool(request)


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Repeat the same key to retry safely: the first answer is returned again.",
    ),
]


def replayed(stored: StoredAnswer) -> JSONResponse:
    """The first answer to a request retried with the same Idempotency-Key."""
    return JSONResponse(stored.body, status_code=stored.status_code)
