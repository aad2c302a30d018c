"""A resident's requests about their data, documents' part (asked by intake,
see mpp_shared.personal_data). Documents knows the holder only by
application id and by intake's keyed hash of the NIK (`holder_nik_check`,
one per configured index key in the subject, so jobs checked under an old
key are found too), and keeps no contact: a correction changes nothing here,
and says so. Each is audited, naming the request and counts."""

from __future__ import annotations

import asyncpg

from mpp_documents.store import personal_data
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.personal_data import (
    CorrectionRequest,
    Record,
    ServiceCorrection,
    ServiceExport,
    SubjectRequest,
)
from mpp_shared.subject_records import record

SERVICE = "documents"
TARGET = "personal_data_request"


async def export(pool: asyncpg.Pool, officer: Principal, request: SubjectRequest) -> ServiceExport:
    subject = request.subject
    async with pool.acquire() as conn, conn.transaction():
        jobs = await personal_data.jobs(conn, subject.application_ids, subject.nik_checks)
        job_ids = [j["id"] for j in jobs]
        records: list[Record] = [
            record("document_job", j, leave_out=frozenset({"holder_nik_check"})) for j in jobs
        ]
        for kind, rows in (await personal_data.of_jobs(conn, job_ids)).items():
            records += [record(kind, r, at_column=None) for r in rows]
        issued = await personal_data.issued(conn, job_ids, subject.application_ids)
        records += [record("issued_document", d, at_column="issued_at") for d in issued]
        await audit.record(
            conn,
            officer,
            action="personal_data.exported",
            target_type=TARGET,
            target_id=str(request.request_id),
            detail={"jobs": len(jobs), "issued_documents": len(issued), "reason": request.reason},
        )
    return ServiceExport(service=SERVICE, records=records)


async def correct(
    pool: asyncpg.Pool, officer: Principal, request: CorrectionRequest
) -> ServiceCorrection:
    """Nothing to correct: documents keeps no phone or e-mail (masked names only)."""
    async with pool.acquire() as conn, conn.transaction():
        await audit.record(
            conn,
            officer,
            action="personal_data.corrected",
            target_type=TARGET,
            target_id=str(request.request_id),
            detail={"rows": 0, "reason": request.reason},
        )
    return ServiceCorrection(service=SERVICE, corrected={})
