"""Production jobs: list, read, move through production to pickup."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from mpp_documents.api.deps import SettingsDep, Staff
from mpp_documents.api.schemas import JobList, JobPublic, JobTransition
from mpp_documents.domain.handover import RepresentativeInfo
from mpp_documents.domain.jobs import JobState
from mpp_documents.domain.register import verification_url
from mpp_documents.settings import DocumentsSettings
from mpp_documents.usecases import jobs
from mpp_documents.usecases.job_transitions import MoveJob, move_job
from mpp_shared.auth import Role
from mpp_shared.errors import Forbidden
from mpp_shared.web import PoolDep

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

# Who may move a job into each state (admin always).
MOVERS: dict[JobState, frozenset[Role]] = {
    JobState.QUEUED: frozenset({Role.PRODUCTION}),  # resuming a job held while queued
    JobState.IN_PRODUCTION: frozenset({Role.PRODUCTION}),
    JobState.PRODUCED: frozenset({Role.PRODUCTION}),
    JobState.IN_TRANSIT: frozenset({Role.PRODUCTION, Role.PICKUP}),
    JobState.READY_FOR_PICKUP: frozenset({Role.PRODUCTION, Role.PICKUP}),
    JobState.PICKED_UP: frozenset({Role.PICKUP}),
    JobState.ON_HOLD: frozenset({Role.PRODUCTION, Role.SUPERVISOR}),
    JobState.CANCELLED: frozenset({Role.SUPERVISOR}),
}


def job_public(job: jobs.Job, settings: DocumentsSettings) -> JobPublic:
    answer = JobPublic.model_validate(job, from_attributes=True)
    if job.verification_code:
        answer.verification_url = verification_url(
            settings.public_documents_url, job.verification_code
        )
    return answer


def move_command(job_id: uuid.UUID, body: JobTransition) -> MoveJob:
    rep = body.representative
    return MoveJob(
        job_id=job_id,
        to=JobState(body.to),
        expected_version=body.expected_version,
        pickup_point=body.pickup_point,
        reason_code=body.reason_code,
        note=body.note,
        reason=body.reason,
        collector_nik=body.collector_nik,
        representative=RepresentativeInfo(
            full_name=rep.full_name,
            nik=rep.nik,
            relationship=rep.relationship,
            authority_letter_ref=rep.authority_letter_ref,
        )
        if rep
        else None,
    )


@router.get("", response_model=JobList, summary="Jobs by application or state")
async def list_jobs(
    pool: PoolDep,
    settings: SettingsDep,
    _staff: Staff,
    application_id: uuid.UUID | None = None,
    state: JobState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Any:
    found = await jobs.find_jobs(pool, application_id=application_id, state=state, limit=limit)
    return JobList(items=[job_public(job, settings) for job in found], count=len(found))


@router.get("/{job_id}", response_model=JobPublic, summary="One job")
async def get_job(job_id: uuid.UUID, pool: PoolDep, settings: SettingsDep, _staff: Staff) -> Any:
    return job_public(await jobs.get_job(pool, job_id), settings)


@router.post(
    "/{job_id}/transitions", response_model=JobPublic, summary="Move a job to its next state"
)
async def transition(
    job_id: uuid.UUID, body: JobTransition, settings: SettingsDep, pool: PoolDep, staff: Staff
) -> Any:
    target = JobState(body.to)
    if not staff.has_any(MOVERS[target] | {Role.ADMIN}):
        raise Forbidden(
            "forbidden",
            f"Peran Anda tidak boleh mengubah status menjadi {target.value}",
            f"Your role may not move a job to {target.value}",
        )
    return job_public(await move_job(pool, settings, staff, move_command(job_id, body)), settings)
