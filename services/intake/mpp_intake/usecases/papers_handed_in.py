"""Papers handed in after submission: an incomplete application is completed,
a returned one resubmitted, once nothing is missing; the promise is then made
again from that day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from mpp_intake.domain import papers
from mpp_intake.domain.applications import ACCEPTS_DOCUMENTS, Status
from mpp_intake.domain.catalog import ServiceVersion, missing_as_json
from mpp_intake.store import applications, catalog
from mpp_intake.usecases.application_views import (
    ApplicationPublic,
    public_answer,
    read_application,
)
from mpp_intake.usecases.history import finish_change
from mpp_intake.usecases.promise import expected_ready_at
from mpp_intake.usecases.submission import refuse_unknown_documents
from mpp_shared import clock
from mpp_shared.auth import Principal
from mpp_shared.errors import Language
from mpp_shared.events import EventData
from mpp_shared.events.schemas import (
    ApplicationCompletedV1,
    ApplicationResubmittedV1,
    UploadRef,
)
from mpp_shared.settings import ServiceSettings
from mpp_shared.transitions import begin_transition


@dataclass(frozen=True)
class HandInPapers:
    documents: tuple[str, ...]
    expected_version: int | None = None


async def hand_in_papers(
    pool: asyncpg.Pool,
    *,
    settings: ServiceSettings,
    officer: Principal,
    application_id: uuid.UUID,
    command: HandInPapers,
    language: Language,
) -> ApplicationPublic:
    """Record the papers; refuses (Conflict) an application that takes no
    papers or changed since read, (Invalid) papers the service does not know."""
    async with pool.acquire() as conn, conn.transaction():
        return await hand_in_papers_in(
            conn,
            settings=settings,
            officer=officer,
            application_id=application_id,
            command=command,
            language=language,
        )


async def hand_in_papers_in(
    conn: asyncpg.Connection,
    *,
    settings: ServiceSettings,
    officer: Principal,
    application_id: uuid.UUID,
    command: HandInPapers,
    language: Language,
    uploads: Sequence[UploadRef] = (),
) -> ApplicationPublic:
    """`hand_in_papers` inside the caller's transaction; `uploads` are the
    papers uploaded online, named in the completing event by reference and hash."""
    now = clock.now()
    row = await begin_transition(
        conn,
        applications.APPLICATIONS,
        application_id,
        target=Status.SUBMITTED.value,
        expected_version=command.expected_version,
        allowed=lambda row: Status(row["status"]) in ACCEPTS_DOCUMENTS,
    )
    service = await catalog.service_version(conn, row["service_code"], row["catalog_version"])
    assert service is not None  # an application keeps its catalog version
    refuse_unknown_documents(service, command.documents)
    change = papers.hand_in(
        service,
        status=Status(row["status"]),
        progress=row["progress"],
        documents=row["documents"],
        returned_items=row["returned_items"],
        handed_in=set(command.documents),
    )
    promised = row["expected_ready_at"]
    step: tuple[str, EventData] | None = None
    if change.step is not None:
        promised = await expected_ready_at(conn, settings, service, row["pickup_point"], now)
        step = (change.step, _event(change.step, row, service, promised, now, uploads))
    await applications.record_papers(
        conn,
        application_id,
        status=change.status.value,
        progress=change.progress,
        documents=change.documents,
        missing=missing_as_json(change.missing),
        returned_items=change.returned_items,
        expected_ready_at=promised,
        at=now,
    )
    await finish_change(
        conn,
        officer,
        application_id,
        action="application.documents",
        detail={"documents": sorted(set(command.documents)), "status": change.status.value},
        step=step,
        pickup_point=row["pickup_point"],
        at=now,
    )
    return public_answer(await read_application(conn, application_id), language)


def _event(
    step: papers.CompletingStep,
    row: asyncpg.Record,
    service: ServiceVersion,
    promised: datetime,
    at: datetime,
    uploads: Sequence[UploadRef] = (),
) -> EventData:
    if step == "completed":
        return ApplicationCompletedV1(
            application_id=row["id"],
            tracking_code=row["tracking_code"],
            service_code=service.code,
            expected_ready_at=promised,
            completed_at=at,
            uploads=list(uploads) or None,
        )
    return ApplicationResubmittedV1(
        application_id=row["id"],
        tracking_code=row["tracking_code"],
        service_code=service.code,
        expected_ready_at=promised,
        resubmitted_at=at,
        uploads=list(uploads) or None,
    )
