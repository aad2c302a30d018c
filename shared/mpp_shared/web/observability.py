"""What operators read off a running service: `GET /metrics` (every metric of
the process in Prometheus' text format, for Prometheus to scrape) and one JSON
log line per request.

`/metrics` carries counts, durations and codes of points, services and
offices, never personal data; it is open like the health endpoints and, like
them, meant for the district's internal network, not for the public entrance.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mpp_shared.web.auth import PUBLIC

metrics_router = APIRouter(tags=["health"], dependencies=[PUBLIC])

# Requests that are not worth a log line each: probes and scrapes.
QUIET_PATHS = ("/health/", "/metrics")

request_log = logging.getLogger("mpp.http")


@metrics_router.get(
    "/metrics", summary="Every metric of this process, for Prometheus", include_in_schema=False
)
def prometheus_metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class RequestLog:
    """One JSON line per request: method, route (the template, never the path,
    which may hold a tracking code), status and duration; the trace id comes
    from the request's span (`mpp_shared.telemetry.JsonFormatter`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(QUIET_PATHS):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route: Any = scope.get("route")
            request_log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "route": getattr(route, "path", None) or "unmatched",
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )
