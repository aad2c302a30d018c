"""What documents erases when a job's retention period has passed
(mpp_shared.retention): the holder's NIK check, the masked holder and
representative, the authority letter's reference and the free-text notes and
reasons of the job and its history. The period starts when the job ended:
picked up (`picked_up_at`), cancelled (`updated_at`, the cancellation), or
its pickup window ended uncollected (`uncollected_at`; a later handover
then goes the way of a job without a check). The job keeps its ids, states,
dates, codes and document number, so the SLA and backlog reports still add
up; the register of issued documents is never touched (gapless numbers,
masked holder), being kept while the document can be verified."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from mpp_shared.retention import ERASED, Holding, Kind, detail_sets

DOCUMENT_JOBS = "document_jobs"
ISSUED_DOCUMENTS = "issued_documents"

# When a job's retention period starts; NULL while it runs.
_ENDED = """
CASE WHEN state = 'picked_up' THEN picked_up_at
     WHEN state = 'cancelled' THEN updated_at
     WHEN state = 'ready_for_pickup' THEN uncollected_at END
"""
DUE = f"""
SELECT id::text AS id FROM jobs
WHERE personal_data_erased_at IS NULL
  AND (state IN ('picked_up', 'cancelled') OR uncollected_at IS NOT NULL)
  AND ({_ENDED}) <= $1
ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
"""
ERASE = f"""
WITH erased AS (
    UPDATE jobs SET holder_nik_check = NULL,
        holder_masked = CASE WHEN holder_masked IS NULL THEN NULL ELSE '{ERASED}' END,
        representative_masked = NULL, authority_letter_ref = NULL, hold_note = NULL,
        cancel_reason = NULL, personal_data_erased_at = $2
    WHERE id = ANY($1::text[]::uuid[]) AND personal_data_erased_at IS NULL
    RETURNING id
), notes AS (
    UPDATE job_history h SET note = NULL
    FROM erased e WHERE h.job_id = e.id AND h.note IS NOT NULL
)
SELECT id::text AS id FROM erased
"""
# Audit details of a job that can point to its holder: free-text notes and
# reasons, a representative's masked name and NIK, relationship and letter
# reference, the masked NIK a refused collector showed.
AUDIT_WHERE = detail_sets(
    "note",
    "reason",
    "representative_masked",
    "relationship",
    "authority_letter_ref",
    "collector_nik_masked",
)


def kinds(retention_days: int) -> list[Kind]:
    return [
        Kind(
            name=DOCUMENT_JOBS,
            period=timedelta(days=retention_days),
            due=DUE,
            erase=ERASE,
            audit_target="job",
            audit_where=AUDIT_WHERE,
        )
    ]


def job_ended(row: asyncpg.Record) -> datetime | None:
    if row["state"] == "picked_up":
        ended: datetime | None = row["picked_up_at"]
        return ended
    if row["state"] == "cancelled":
        cancelled: datetime = row["updated_at"]
        return cancelled
    if row["state"] == "ready_for_pickup":
        uncollected: datetime | None = row["uncollected_at"]
        return uncollected
    return None


def holdings(jobs: list[asyncpg.Record], issued: list[asyncpg.Record]) -> list[Holding]:
    """A resident's jobs and register entries, for an erasure on request."""
    found = [
        Holding(
            kind=DOCUMENT_JOBS,
            id=str(j["id"]),
            started=job_ended(j),
            open_reason=(
                "dokumen masih diproses atau belum diambil",
                "the document is still in production or not picked up yet",
            ),
            erased=j["personal_data_erased_at"] is not None,
        )
        for j in jobs
    ]
    found += [
        Holding(
            kind=ISSUED_DOCUMENTS,
            id=str(d["id"]),
            started=None,
            open_reason=(
                "register dokumen yang diterbitkan: nomor dan nama tersamar disimpan selama "
                "dokumen dapat diverifikasi",
                "the register of issued documents: the number and masked holder are kept "
                "while the document can be verified",
            ),
        )
        for d in issued
    ]
    return found
