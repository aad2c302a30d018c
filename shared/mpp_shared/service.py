"""A service process: its FastAPI app around the runtime (`mpp_shared.runtime`),
with the shared error handling, health, audit view and OpenAPI errors, and
`serve` to run it under uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from mpp_shared import clock
from mpp_shared.heap import freeze_startup_heap
from mpp_shared.metrics import SnapshotGauge
from mpp_shared.proxies import TrustedProxies
from mpp_shared.runtime import BackgroundTask, ConsumerSpec, Runtime
from mpp_shared.settings import ServiceSettings
from mpp_shared.telemetry import (
    package_version,
    setup_logging,
    setup_telemetry,
    shutdown_telemetry,
)
from mpp_shared.web import document_errors, health_router, install_error_handlers
from mpp_shared.web.admission import install_admission
from mpp_shared.web.audit import router as audit_router
from mpp_shared.web.client_address import ClientAddress
from mpp_shared.web.observability import RequestLog, metrics_router
from mpp_shared.web.pages import Pages
from mpp_shared.web.retention import router as retention_router

log = logging.getLogger(__name__)


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    migrations_dir: Path,
    routers: list[APIRouter],
    consumers: list[ConsumerSpec],
    background: Sequence[BackgroundTask] = (),
    gauges: Sequence[SnapshotGauge] = (),
    readiness_info: Mapping[str, Mapping[str, str]] | None = None,
    pages: str | None = None,
) -> FastAPI:
    """The service's app; `pages` names the package whose
    `api/pages/templates/` hold its public pages (`mpp_shared.web.pages`)."""
    runtime = Runtime(settings, migrations_dir, consumers, background, gauges, readiness_info or {})

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        freeze_startup_heap()
        log.info("%s ready on port %s", settings.service_name, settings.port)
        try:
            yield
        finally:
            await runtime.stop()
            shutdown_telemetry()

    app = FastAPI(
        title=title,
        description=description,
        version=package_version(settings.service_name),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    if pages is not None:
        app.state.pages = Pages(pages, settings)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(audit_router)
    app.include_router(retention_router)
    for router in routers:
        app.include_router(router)
    document_errors(app)
    # Inside the tracing middleware added below, so each line has its trace id.
    app.add_middleware(RequestLog)
    # Outside every route and the request log: the client and scheme the
    # trusted proxies forwarded (TRUSTED_PROXIES), for whatever reads them.
    app.add_middleware(
        ClientAddress,
        trusted=TrustedProxies.parse(settings.trusted_proxy_list()),
        header=settings.trusted_proxy_header,
    )
    # Outermost of the app's own: a request refused for overload costs no
    # more than the tracing middleware's span.
    install_admission(
        app,
        limit=settings.max_concurrent_requests,
        wait_ms=settings.admission_wait_ms,
        db_pool_wait_ms=settings.db_pool_wait_ms,
        retry_after=settings.overload_retry_after,
    )

    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="health/live,health/ready,/metrics$",
        # One server span per request; the ASGI receive/send sub-spans cost
        # a third of the tracing overhead and tell an operator nothing.
        exclude_spans=["receive", "send"],
    )
    return app


def serve(app_path: str, settings: ServiceSettings) -> None:
    """Entry point of `python -m mpp_<service>`: process-wide logging,
    telemetry and clock, then uvicorn."""
    import uvicorn

    setup_logging(settings.service_name, settings.log_level)
    setup_telemetry(settings.service_name)
    clock.use_file(settings.clock_file)

    uvicorn.run(
        app_path,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # The forwarded headers are read by the app itself, from the proxies
        # of TRUSTED_PROXIES only (mpp_shared.web.client_address).
        proxy_headers=False,
    )
