"""Liveness and readiness endpoints every service mounts."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from mpp_shared.web.auth import PUBLIC

health_router = APIRouter(prefix="/health", tags=["health"], dependencies=[PUBLIC])


@health_router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "live"}


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description="database, migrations, broker: ok or what is wrong")
    info: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="What the service reports beside its checks (notify: what each channel does)",
    )


@health_router.get(
    "/ready",
    summary="Database and broker reachable, migrations applied",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the checks say why"}},
)
async def ready(request: Request) -> JSONResponse:
    checks = await request.app.state.runtime.readiness()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        status_code=200 if ok else 503,
        content={
            "status": "ready" if ok else "not_ready",
            "checks": checks,
            "info": request.app.state.runtime.readiness_info,
        },
    )
