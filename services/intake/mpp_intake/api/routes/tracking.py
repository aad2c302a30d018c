"""Public tracking by tracking code: progress and timeline, no personal data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mpp_intake.api.schemas import TimelineStep, TrackingPublic
from mpp_intake.domain import tracking_code as codes
from mpp_intake.domain.catalog import SERVICES
from mpp_shared.auth import PUBLIC
from mpp_shared.web import ApiError, LanguageDep, PoolDep

router = APIRouter(prefix="/v1/track", tags=["tracking"], dependencies=[PUBLIC])


@router.get("/{tracking_code}", response_model=TrackingPublic, summary="Where is my document?")
async def track(tracking_code: str, pool: PoolDep, language: LanguageDep) -> Any:
    code = codes.normalise(tracking_code)
    if not codes.is_valid(code):
        raise ApiError(
            422,
            "invalid_tracking_code",
            "Kode pelacakan tidak sah; periksa kembali penulisannya",
            "The tracking code is not valid; check how it was typed",
            {"errors": [{"field": "tracking_code", "type": "invalid_tracking_code"}]},
        )
    row = await pool.fetchrow(
        "SELECT id, tracking_code, service_code, progress, pickup_point FROM applications "
        "WHERE tracking_code = $1",
        code,
    )
    if row is None:
        raise ApiError(
            404, "not_found", "Kode pelacakan tidak ditemukan", "Tracking code not found"
        )
    steps = await pool.fetch(
        "SELECT step, at, pickup_point FROM application_timeline WHERE application_id = $1 ORDER BY at, id",
        row["id"],
    )
    names = SERVICES[row["service_code"]]
    return TrackingPublic(
        tracking_code=row["tracking_code"],
        service_code=row["service_code"],
        service_name=names[1] if language == "en" else names[0],
        status=row["progress"],
        pickup_point=row["pickup_point"],
        timeline=[
            TimelineStep(step=s["step"], at=s["at"], pickup_point=s["pickup_point"]) for s in steps
        ],
    )
