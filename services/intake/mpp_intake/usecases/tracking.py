"""Public tracking by tracking code: progress, promise, what to bring, the
pickup point (address and opening hours) and the timeline, each step in the
citizen's words; never a NIK or a name."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel

from mpp_intake.domain import tracking_code as codes
from mpp_intake.domain.guidance import next_step, what_to_bring
from mpp_intake.domain.wording import step_words
from mpp_intake.store import applications, pickup_points
from mpp_intake.usecases.application_views import MissingRequirement, named_items
from mpp_shared.errors import Invalid, Language, NotFound


class TimelineStep(BaseModel):
    step: str
    at: datetime
    pickup_point: str | None = None
    label: str = ""  # the step in the citizen's words


class TrackingPublic(BaseModel):
    tracking_code: str
    service_code: str
    service_name: str
    status: str
    pickup_point: str | None
    expected_ready_at: datetime | None
    hold_reason: str | None = None
    missing_requirements: list[MissingRequirement]
    what_to_bring: list[str]
    next_step: str
    timeline: list[TimelineStep]
    status_label: str = ""  # the status in the citizen's words
    pickup_point_name: str | None = None
    pickup_point_address: str | None = None
    # {"mon": ["08:00", "15:00"], ..., "sun": null}, as GET /v1/pickup-points gives it
    pickup_point_hours: dict[str, list[str] | None] | None = None


async def track(pool: asyncpg.Pool, tracking_code: str, language: Language) -> TrackingPublic:
    """Where the document is; refuses (Invalid) a code whose check character
    is wrong before looking, (NotFound) a code no application has."""
    code = codes.normalise(tracking_code)
    if not codes.is_valid(code):
        raise Invalid.field(
            "tracking_code",
            "invalid_tracking_code",
            "kode pelacakan tidak sah; periksa kembali penulisannya",
            "the tracking code is not valid; check how it was typed",
        )
    row = await applications.for_tracking(pool, code)
    if row is None:
        raise NotFound("not_found", "Kode pelacakan tidak ditemukan", "Tracking code not found")
    steps = await applications.timeline(pool, row["id"])
    en = language == "en"
    absent = named_items(row["missing"], language)
    returned = named_items(row["returned_items"], language)
    hold = row["hold_reason"]
    point = (
        await pickup_points.pickup_point(pool, row["pickup_point"]) if row["pickup_point"] else None
    )
    return TrackingPublic(
        hold_reason=(hold["name_en"] if en else hold["name_id"]) if hold else None,
        tracking_code=row["tracking_code"],
        service_code=row["service_code"],
        service_name=row["name_en"] if en else row["name_id"],
        status=row["progress"],
        pickup_point=row["pickup_point"],
        expected_ready_at=row["expected_ready_at"],
        missing_requirements=absent + returned,
        what_to_bring=what_to_bring(row["progress"], [m.name for m in absent + returned], language),
        next_step=next_step(
            row["status"],
            row["progress"],
            [m.name for m in absent],
            [m.name for m in returned],
            language,
        ),
        timeline=[
            TimelineStep(
                step=s["step"],
                at=s["at"],
                pickup_point=s["pickup_point"],
                label=step_words(s["step"], language),
            )
            for s in steps
        ],
        status_label=step_words(row["progress"], language),
        pickup_point_name=point.name if point else None,
        pickup_point_address=point.address if point else None,
        pickup_point_hours=point.opening_hours if point else None,
    )
