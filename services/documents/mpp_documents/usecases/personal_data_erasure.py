"""A resident's erasure, documents' part (asked by intake with a
`SubjectRequest`, see mpp_shared.personal_data): the retention rules of
`mpp_documents.store.retention` applied to the resident's jobs now. Jobs
whose period has passed lose the holder's data at once; running jobs, jobs
still in their period and the register's entries are listed as kept, with
until when and why. Audited (`personal_data.erased`, counts only)."""

from __future__ import annotations

import asyncpg

from mpp_documents.settings import DocumentsSettings
from mpp_documents.store import personal_data, retention
from mpp_shared.auth import Principal
from mpp_shared.errors import Language
from mpp_shared.personal_data import ServiceErasure, SubjectRequest
from mpp_shared.retention import erase_for_subject, retention_task
from mpp_shared.runtime import BackgroundTask

SERVICE = "documents"


async def erase(
    pool: asyncpg.Pool,
    *,
    settings: DocumentsSettings,
    officer: Principal,
    request: SubjectRequest,
    language: Language = "id",
) -> ServiceErasure:
    subject = request.subject
    async with pool.acquire() as conn:
        jobs = await personal_data.jobs(conn, subject.application_ids, subject.nik_checks)
        issued = await personal_data.issued(conn, [j["id"] for j in jobs], subject.application_ids)
    return await erase_for_subject(
        pool,
        service=SERVICE,
        kinds=retention.kinds(settings.retention_document_jobs_days),
        holdings=retention.holdings(jobs, issued),
        principal=officer,
        request_id=request.request_id,
        reason=request.reason,
        language=language,
    )


def retention_job(settings: DocumentsSettings) -> BackgroundTask:
    """The retention job's background task (mpp_shared.retention)."""
    return retention_task(settings, retention.kinds(settings.retention_document_jobs_days))
