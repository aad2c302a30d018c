"""Public tracking by tracking code: progress, promise and what to bring;
no NIK, no name."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mpp_intake.api.schemas import TrackingPublic
from mpp_intake.usecases import tracking
from mpp_shared.web import LanguageDep, PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/track", tags=["tracking"], dependencies=[PUBLIC])


@router.get("/{tracking_code}", response_model=TrackingPublic, summary="Where is my document?")
async def track(tracking_code: str, pool: PoolDep, language: LanguageDep) -> Any:
    return await tracking.track(pool, tracking_code, language)
