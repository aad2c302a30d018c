"""Admission control (mpp_shared.web.admission) on a real ASGI app: over the
concurrency bound a request is answered 503 with Retry-After and the shared
error body, under it every request is served, probes and /metrics are never
refused, and each refusal is counted.

Slots are held by requests parked on an `asyncio.Event`, never by sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from mpp_shared.settings import ServiceSettings
from mpp_shared.web import install_error_handlers
from mpp_shared.web.admission import Admission, install_admission, overloaded_body
from mpp_shared.web.auth import PUBLIC
from mpp_shared.web.health import health_router
from mpp_shared.web.observability import metrics_router
from tests.support.metrics import readings

REFUSED = "mpp.http.requests_refused"


@dataclass
class Held:
    """Requests to /slow park until `release` is set; `entered` counts those inside."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    entered: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    want: int = 0

    def note_entry(self) -> None:
        self.entered += 1
        if self.entered >= self.want:
            self.arrived.set()

    async def until_inside(self, count: int) -> None:
        self.want = count
        if self.entered >= count:
            return
        self.arrived.clear()
        await asyncio.wait_for(self.arrived.wait(), 10)


@dataclass
class Setup:
    app: FastAPI
    client: httpx.AsyncClient
    held: Held
    reader: InMemoryMetricReader

    def refused(self) -> dict[str, float]:
        return {
            dict(labels)["reason"]: value
            for labels, value in readings(self.reader).get(REFUSED, {}).items()
        }

    def admission(self) -> Admission:
        layer: Any = self.app.middleware_stack
        while layer is not None:
            if isinstance(layer, Admission):
                return layer
            layer = getattr(layer, "app", None)
        raise AssertionError("no Admission middleware in the stack")


def build(limit: int, wait_ms: int, retry_after: int = 3) -> tuple[FastAPI, Held, Any]:
    held = Held()
    reader = InMemoryMetricReader()
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(metrics_router)

    @app.get("/slow", dependencies=[PUBLIC])
    async def slow() -> dict[str, str]:
        held.note_entry()
        await held.release.wait()
        return {"status": "done"}

    @app.get("/quick", dependencies=[PUBLIC])
    async def quick() -> dict[str, str]:
        return {"status": "done"}

    install_admission(
        app,
        limit=limit,
        wait_ms=wait_ms,
        db_pool_wait_ms=100,
        retry_after=retry_after,
        meter=MeterProvider(metric_readers=[reader]).get_meter("test"),
    )
    return app, held, reader


@pytest.fixture
def bounds() -> tuple[int, int]:
    return 2, 0


@pytest.fixture
async def setup(bounds: tuple[int, int]) -> AsyncIterator[Setup]:
    limit, wait_ms = bounds
    app, held, reader = build(limit, wait_ms)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield Setup(app, client, held, reader)
        held.release.set()


async def fill(setup: Setup, count: int) -> list[asyncio.Task[httpx.Response]]:
    """`count` requests parked inside /slow."""
    tasks = [asyncio.create_task(setup.client.get("/slow")) for _ in range(count)]
    await setup.held.until_inside(count)
    return tasks


async def test_over_the_bound_answers_503_with_retry_after_and_the_error_body(
    setup: Setup,
) -> None:
    parked = await fill(setup, 2)

    refused = await setup.client.get("/quick")
    in_english = await setup.client.get("/quick", headers={"Accept-Language": "en-US,en"})

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "3"
    assert refused.json() == {
        "code": "overloaded",
        "detail": "Layanan sedang sibuk, silakan coba lagi dalam 3 detik",
        "retry_after": 3,
    }
    assert refused.json() == overloaded_body(3, "id")
    assert in_english.status_code == 503
    assert in_english.json()["detail"] == "The service is busy; please try again in 3 seconds"
    assert setup.refused() == {"concurrency": 2}

    setup.held.release.set()
    assert [r.status_code for r in await asyncio.gather(*parked)] == [200, 200]
    # The slots are free again.
    assert (await setup.client.get("/quick")).status_code == 200
    assert setup.admission().in_flight == 0


@pytest.mark.parametrize("bounds", [(8, 0)])
async def test_under_the_bound_every_request_is_served(setup: Setup) -> None:
    parked = await fill(setup, 7)
    assert (await setup.client.get("/quick")).status_code == 200

    setup.held.release.set()
    answers = await asyncio.gather(*parked)

    assert [a.status_code for a in answers] == [200] * 7
    assert setup.refused() == {}


@pytest.mark.parametrize("bounds", [(1, 0)])
async def test_probes_and_metrics_are_never_refused(setup: Setup) -> None:
    await fill(setup, 1)
    assert (await setup.client.get("/quick")).status_code == 503

    live = await setup.client.get("/health/live")
    scrape = await setup.client.get("/metrics")

    assert live.status_code == 200
    assert scrape.status_code == 200
    assert setup.refused() == {"concurrency": 1}


@pytest.mark.parametrize("bounds", [(1, 60_000)])
async def test_a_request_waits_for_a_slot_within_the_bound(setup: Setup) -> None:
    [first] = await fill(setup, 1)
    admission = setup.admission()
    waiting = asyncio.create_task(setup.client.get("/quick"))
    for _ in range(10_000):  # event-loop turns until it waits for the slot
        if admission.waiting:
            break
        await asyncio.sleep(0)
    assert admission.waiting == 1

    setup.held.release.set()

    assert (await first).status_code == 200
    assert (await waiting).status_code == 200
    assert admission.waiting == 0 and admission.in_flight == 0
    assert setup.refused() == {}


@pytest.mark.parametrize("bounds", [(1, 20)])
async def test_a_request_that_waits_past_the_bound_is_refused(setup: Setup) -> None:
    await fill(setup, 1)

    refused = await setup.client.get("/quick")

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "3"
    assert setup.admission().waiting == 0
    assert setup.refused() == {"concurrency": 1}


@pytest.mark.parametrize("bounds", [(1, 0)])
async def test_a_failing_request_gives_its_slot_back(setup: Setup) -> None:
    @setup.app.get("/boom", dependencies=[PUBLIC])
    async def boom() -> None:
        raise RuntimeError("boom")

    setup.app.middleware_stack = None  # rebuilt with the new route
    transport = httpx.ASGITransport(app=setup.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        assert (await client.get("/boom")).status_code == 500
        assert (await client.get("/quick")).status_code == 200
    assert setup.admission().in_flight == 0


def test_every_service_app_has_admission_control_from_its_settings() -> None:
    from mpp_shared.service import create_service_app

    settings = ServiceSettings(
        service_name="intake", max_concurrent_requests=7, admission_wait_ms=250
    )
    app = create_service_app(
        settings=settings,
        title="t",
        description="d",
        migrations_dir=Path("."),
        routers=[],
        consumers=[],
    )
    [admission] = [m for m in app.user_middleware if m.cls is Admission]
    assert admission.kwargs["limit"] == 7
    assert admission.kwargs["wait"] == 0.25
    # Outermost of the app's own middleware: a refusal skips the others.
    assert app.user_middleware[0].cls is Admission
    assert app.state.db_pool_wait == settings.db_pool_wait_ms / 1000
