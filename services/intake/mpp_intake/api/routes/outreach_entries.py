"""Outreach entries: the desa officer's worklist, the visits recorded on it,
and an entry turned into an application in one step. Who sees which desa is
decided by the use cases (`usecases.outreach_entries`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mpp_intake.api.deps import CipherDep, DesaOrSupervisor, FrontDesk, SettingsDep
from mpp_intake.api.schemas import (
    ApplicationPublic,
    FollowUpCreate,
    OutreachApplicationCreate,
    OutreachEntryList,
    OutreachEntryPublic,
)
from mpp_intake.domain.outreach import EntryStatus, Outcome
from mpp_intake.usecases import outreach_apply, outreach_entries
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import MAX_PAGE, IdempotencyKey, LanguageDep, PoolDep, replayed

router = APIRouter(prefix="/v1/outreach", tags=["outreach"])


@router.get(
    "/entries",
    response_model=OutreachEntryList,
    summary="Outreach entries: a desa officer sees their desa, a supervisor every desa",
)
async def list_entries(
    pool: PoolDep,
    officer: DesaOrSupervisor,
    language: LanguageDep,
    status: EntryStatus | None = None,
    service_code: str | None = None,
    desa_code: Annotated[str | None, Query(description="Supervisors: one desa (10 digits)")] = None,
    kecamatan_code: Annotated[
        str | None, Query(description="Supervisors: one kecamatan (6 digits)")
    ] = None,
    list_id: uuid.UUID | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    filters = outreach_entries.EntryFilters(
        status=status,
        service_code=service_code,
        desa_code=desa_code,
        kecamatan_code=kecamatan_code,
        list_id=list_id,
    )
    return await outreach_entries.list_entries(
        pool, officer, filters, page=page, page_size=page_size, language=language
    )


@router.get("/entries/{entry_id}", response_model=OutreachEntryPublic, summary="One entry")
async def get_entry(
    entry_id: uuid.UUID, pool: PoolDep, officer: DesaOrSupervisor, language: LanguageDep
) -> Any:
    return await outreach_entries.get_entry(pool, officer, entry_id, language)


@router.post(
    "/entries/{entry_id}/follow-ups",
    status_code=201,
    response_model=OutreachEntryPublic,
    summary="Record a visit's outcome (visited, not_home, refused, moved)",
)
async def add_follow_up(
    entry_id: uuid.UUID,
    body: FollowUpCreate,
    pool: PoolDep,
    officer: DesaOrSupervisor,
    language: LanguageDep,
) -> Any:
    command = outreach_entries.RecordFollowUp(
        outcome=Outcome(body.outcome), note=body.note, expected_version=body.expected_version
    )
    return await outreach_entries.record_follow_up(pool, officer, entry_id, command, language)


@router.post(
    "/entries/{entry_id}/application",
    status_code=201,
    response_model=ApplicationPublic,
    summary="Turn an entry into an application at the desa (honours Idempotency-Key)",
    description=(
        "NIK, name, service and (unless given) phone come from the entry; the channel is "
        "`desa`. The entry becomes `applied` with the application's tracking code in the "
        "same transaction. Refusals are those of POST /v1/applications."
    ),
)
async def apply_from_entry(
    entry_id: uuid.UUID,
    body: OutreachApplicationCreate,
    pool: PoolDep,
    settings: SettingsDep,
    cipher: CipherDep,
    officer: FrontDesk,
    language: LanguageDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    answer = await outreach_apply.apply_from_entry(
        pool,
        settings=settings,
        cipher=cipher,
        officer=officer,
        entry_id=entry_id,
        command=outreach_apply.ApplyFromEntry(
            documents=tuple(body.documents),
            phone=body.phone,
            email=body.email,
            preferred_channel=body.preferred_channel,
            language=body.language,
            pickup_point=body.pickup_point,
            expected_version=body.expected_version,
        ),
        language=language,
        idempotency_key=idempotency_key,
    )
    return replayed(answer) if isinstance(answer, StoredAnswer) else answer
