"""What the online application answers: a draft with its requirements and
papers, an uploaded paper's description, and a resident's own application
with its papers. Shared by the citizen's use cases and the officers' file
listing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from mpp_intake.domain.catalog import PickupPoint, ServiceVersion
from mpp_intake.domain.online import paper_slots, points_nearest_first
from mpp_intake.usecases.application_views import ApplicationPublic, MissingRequirement
from mpp_shared.errors import Language
from mpp_shared.events.schemas import UploadRef


class UploadedFile(BaseModel):
    """An uploaded paper, described (never its content)."""

    id: uuid.UUID
    requirement: str
    document: str
    document_name: str
    content_type: str
    size: int
    sha256: str
    pages: int | None
    uploaded_at: datetime
    handed_in: bool
    deleted: bool


class PaperChoice(BaseModel):
    code: str
    name: str


class DraftRequirement(BaseModel):
    code: str
    name: str
    mandatory: bool
    accepted: list[PaperChoice]  # the requirement's own paper, then its alternatives
    file: UploadedFile | None
    missing: bool


class PointChoice(BaseModel):
    code: str
    name: str
    address: str
    nearest: bool


class DraftView(BaseModel):
    id: uuid.UUID
    service_code: str
    service_name: str
    fee_idr: int
    requirements: list[DraftRequirement]
    missing_requirements: list[MissingRequirement]
    pickup_point: str | None
    pickup_points: list[PointChoice]
    total_bytes: int
    max_file_bytes: int
    max_application_bytes: int
    updated_at: datetime


class DraftSummary(BaseModel):
    id: uuid.UUID
    service_code: str
    service_name: str
    updated_at: datetime


class CitizenApplication(BaseModel):
    """A resident's own application with its uploaded papers; `pending` are
    corrections uploaded and not yet handed in by a resubmission."""

    application: ApplicationPublic
    files: list[UploadedFile]
    pending: list[UploadedFile]


def uploaded_file(
    row: Mapping[str, Any], service: ServiceVersion | None, language: Language
) -> UploadedFile:
    return UploadedFile(
        id=row["id"],
        requirement=row["requirement"],
        document=row["document"],
        document_name=service.paper_name(row["document"], language) if service else row["document"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        pages=row["pages"],
        uploaded_at=row["uploaded_at"],
        handed_in=row["handed_in"],
        deleted=row["deleted_at"] is not None,
    )


def upload_refs(rows: Sequence[Mapping[str, Any]]) -> list[UploadRef]:
    """What the events carry of the papers: references and hashes."""
    return [
        UploadRef(requirement=r["requirement"], file_id=r["id"], sha256=r["sha256"], size=r["size"])
        for r in rows
    ]


def draft_view(
    draft: asyncpg.Record,
    service: ServiceVersion,
    files: Sequence[Mapping[str, Any]],
    points: Sequence[PickupPoint],
    *,
    nearest: str | None,
    max_file_bytes: int,
    max_application_bytes: int,
    language: Language,
) -> DraftView:
    by_requirement = {f["requirement"]: f for f in files}
    slots = paper_slots(service, {code: f["document"] for code, f in by_requirement.items()})
    known = {p.code: p for p in points}
    ordered = points_nearest_first(service.pickup_points, nearest)
    return DraftView(
        id=draft["id"],
        service_code=service.code,
        service_name=service.name(language),
        fee_idr=service.fee_idr,
        requirements=[
            DraftRequirement(
                code=slot.requirement.code,
                name=slot.requirement.name(language),
                mandatory=slot.requirement.mandatory,
                accepted=[
                    PaperChoice(code=code, name=service.paper_name(code, language))
                    for code in [slot.requirement.code, *(a.code for a in slot.requirement.any_of)]
                ],
                file=(
                    uploaded_file(by_requirement[slot.requirement.code], service, language)
                    if slot.document
                    else None
                ),
                missing=slot.missing,
            )
            for slot in slots
        ],
        missing_requirements=[
            MissingRequirement(code=s.requirement.code, name=s.requirement.name(language))
            for s in slots
            if s.missing
        ],
        pickup_point=draft["pickup_point"],
        pickup_points=[
            PointChoice(
                code=code,
                name=known[code].name if code in known else code,
                address=known[code].address if code in known else "",
                nearest=code == nearest,
            )
            for code in ordered
        ],
        total_bytes=sum(int(f["size"]) for f in files),
        max_file_bytes=max_file_bytes,
        max_application_bytes=max_application_bytes,
        updated_at=draft["updated_at"],
    )
