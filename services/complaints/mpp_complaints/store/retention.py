"""What complaints erases when a complaint's retention period has passed
(mpp_shared.retention): the reporter's contact and its blind indexes, the
description (free text, which may name people), the response, the rating's
comment, the rejection note, a request for information's extension reason
and the note of how a publication consent was given (a published question
and answer stays: officer-written, checked free of personal data). The
period starts when the complaint was closed (`closed_at`) or rejected
(`updated_at`, the rejection); a complaint reopened within its window is
open again. The complaint keeps its code, kind, category, OPD, states,
dates, rating, link to its request and counts, so the Ombudsman and SLA
reports still add up. Complaints' audit details hold codes
and states only: nothing there to erase."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from mpp_shared.retention import ERASED, Holding, Kind

COMPLAINTS = "complaints"

_ENDED = "CASE WHEN status = 'closed' THEN coalesce(closed_at, updated_at) ELSE updated_at END"
DUE = f"""
SELECT id::text AS id FROM complaints
WHERE personal_data_erased_at IS NULL AND status IN ('closed', 'rejected')
  AND ({_ENDED}) <= $1
ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
"""
ERASE = f"""
UPDATE complaints SET reporter_enc = NULL, reporter_phone_index = NULL,
    reporter_email_index = NULL, description = '{ERASED}',
    response_text = CASE WHEN response_text IS NULL THEN NULL ELSE '{ERASED}' END,
    rating_comment = NULL, rejection_note = NULL, consent_note = NULL,
    extension_reason = CASE WHEN extension_reason IS NULL THEN NULL ELSE '{ERASED}' END,
    personal_data_erased_at = $2
WHERE id = ANY($1::text[]::uuid[]) AND personal_data_erased_at IS NULL
RETURNING id::text AS id
"""


def kinds(retention_days: int) -> list[Kind]:
    return [Kind(name=COMPLAINTS, period=timedelta(days=retention_days), due=DUE, erase=ERASE)]


def ended(row: asyncpg.Record) -> datetime | None:
    if row["status"] == "closed":
        closed: datetime = row["closed_at"] or row["updated_at"]
        return closed
    if row["status"] == "rejected":
        rejected: datetime = row["updated_at"]
        return rejected
    return None


def holdings(complaints: list[asyncpg.Record]) -> list[Holding]:
    """A resident's complaints, for an erasure on request."""
    return [
        Holding(
            kind=COMPLAINTS,
            id=str(c["id"]),
            started=ended(c),
            open_reason=("pengaduan masih ditangani", "the complaint is still being handled"),
            erased=c["personal_data_erased_at"] is not None,
        )
        for c in complaints
    ]
