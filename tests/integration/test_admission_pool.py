"""The database pool wait bound (DB_POOL_WAIT_MS, mpp_shared.web.admission)
against real PostgreSQL: a request that cannot have its first connection in
time is answered 503 with Retry-After before doing anything; a request that
already held a connection (and may have committed) is never refused later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from mpp_shared.db import create_pool
from mpp_shared.web import PoolDep, install_error_handlers
from mpp_shared.web.admission import install_admission
from mpp_shared.web.auth import PUBLIC
from tests.support.metrics import readings

POOL_WAIT_MS = 50


class Steps:
    """Where /two-steps stands: its first transaction committed, and the go
    for its second."""

    def __init__(self) -> None:
        self.committed = asyncio.Event()
        self.go = asyncio.Event()


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection on a fresh database with a table `done`."""
    pool = await create_pool(database, min_size=1, max_size=1)
    await pool.execute("CREATE TABLE done (n int PRIMARY KEY)")
    yield pool
    await pool.close()


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
async def client(
    pool: asyncpg.Pool, reader: InMemoryMetricReader, steps: Steps
) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(pool=pool)
    install_error_handlers(app)

    @app.get("/count", dependencies=[PUBLIC])
    async def count(db: PoolDep) -> dict[str, int]:
        return {"done": await db.fetchval("SELECT count(*) FROM done")}

    @app.post("/two-steps", dependencies=[PUBLIC])
    async def two_steps(db: PoolDep) -> dict[str, int]:
        async with db.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO done VALUES (1)")
        steps.committed.set()
        await steps.go.wait()
        async with db.acquire() as conn:
            return {"done": await conn.fetchval("SELECT count(*) FROM done")}

    install_admission(
        app,
        limit=16,
        wait_ms=60_000,
        db_pool_wait_ms=POOL_WAIT_MS,
        retry_after=4,
        meter=MeterProvider(metric_readers=[reader]).get_meter("test"),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        yield http
    steps.go.set()


def refused(reader: InMemoryMetricReader) -> dict[str, float]:
    points = readings(reader).get("mpp.http.requests_refused", {})
    return {dict(labels)["reason"]: value for labels, value in points.items()}


async def test_no_connection_in_time_is_a_503_with_retry_after(
    pool: asyncpg.Pool, client: httpx.AsyncClient, reader: InMemoryMetricReader
) -> None:
    assert (await client.get("/count")).json() == {"done": 0}

    async with pool.acquire():  # the pool's only connection
        # Without the bound this waits for the connection for ever.
        answer = await asyncio.wait_for(client.get("/count", headers={"Accept-Language": "en"}), 10)

    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "4"
    assert answer.json() == {
        "code": "overloaded",
        "detail": "The service is busy; please try again in 4 seconds",
        "retry_after": 4,
    }
    assert refused(reader) == {"db_pool": 1}
    # The connection is back: served again.
    assert (await client.get("/count")).status_code == 200


async def test_a_request_that_committed_is_never_refused_afterwards(
    pool: asyncpg.Pool, client: httpx.AsyncClient, reader: InMemoryMetricReader, steps: Steps
) -> None:
    request = asyncio.create_task(client.post("/two-steps"))
    await asyncio.wait_for(steps.committed.wait(), 10)

    async with pool.acquire():  # taken before the request's second acquire
        steps.go.set()
        # Far past the bound: a refusal would have come by now.
        await asyncio.sleep(POOL_WAIT_MS * 6 / 1000)
        assert not request.done()

    answer = await asyncio.wait_for(request, 10)
    assert answer.status_code == 200
    assert answer.json() == {"done": 1}
    assert refused(reader) == {}
