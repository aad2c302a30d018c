"""Public tracking by tracking code: progress, promise and what to bring;
no NIK, no name."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mpp_intake.api.schemas import TimelineStep, TrackingPublic
from mpp_intake.domain import tracking_code as codes
from mpp_intake.submission import named_items, next_step
from mpp_shared.auth import PUBLIC
from mpp_shared.web import ApiError, LanguageDep, PoolDep

router = APIRouter(prefix="/v1/track", tags=["tracking"], dependencies=[PUBLIC])

_BRING_FOR_PICKUP = (
    ("KTP-el asli pemohon", "the applicant's original KTP-el"),
    ("Kode pelacakan ini", "this tracking code"),
    (
        "Surat kuasa dan KTP-el wakil bila diambil orang lain",
        "a letter of authority and the representative's KTP-el if someone else collects it",
    ),
)


@router.get("/{tracking_code}", response_model=TrackingPublic, summary="Where is my document?")
async def track(tracking_code: str, pool: PoolDep, language: LanguageDep) -> Any:
    code = codes.normalise(tracking_code)
    if not codes.is_valid(code):
        raise ApiError.invalid(
            "tracking_code",
            "invalid_tracking_code",
            "kode pelacakan tidak sah; periksa kembali penulisannya",
            "the tracking code is not valid; check how it was typed",
        )
    row = await pool.fetchrow(
        """
        SELECT a.id, a.tracking_code, a.service_code, a.status, a.progress, a.pickup_point,
               a.expected_ready_at, a.missing, a.returned_items, a.hold_reason, v.name_id, v.name_en
        FROM applications a
        JOIN catalog_service_versions v ON v.code = a.service_code AND v.version = a.catalog_version
        WHERE a.tracking_code = $1
        """,
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
    en = language == "en"
    absent = named_items(row["missing"], language)
    returned = named_items(row["returned_items"], language)
    missing = absent + returned
    bring = [m.name for m in missing]
    if row["progress"] in ("ready_for_pickup", "uncollected", "produced", "queued", "verified"):
        bring = [pair[1] if en else pair[0] for pair in _BRING_FOR_PICKUP]
    hold = row["hold_reason"]
    return TrackingPublic(
        hold_reason=(hold["name_en"] if en else hold["name_id"]) if hold else None,
        tracking_code=row["tracking_code"],
        service_code=row["service_code"],
        service_name=row["name_en"] if en else row["name_id"],
        status=row["progress"],
        pickup_point=row["pickup_point"],
        expected_ready_at=row["expected_ready_at"],
        missing_requirements=missing,
        what_to_bring=bring,
        next_step=next_step(
            row["status"],
            row["progress"],
            [m.name for m in absent],
            [m.name for m in returned],
            language,
        ),
        timeline=[
            TimelineStep(step=s["step"], at=s["at"], pickup_point=s["pickup_point"]) for s in steps
        ],
    )
