"""A resident's requests about their data, complaints' part (asked by
intake, see mpp_shared.personal_data): the complaints they filed (found by
the blind indexes of the reporter's phone and e-mail) and those naming their
applications; the correction of the reporter's contact. Each is audited here,
naming the request and counts, never the resident.

A complaint that names the resident's application but was filed by someone
else is exported without its reporter's contact: that is another person's."""

from __future__ import annotations

from typing import Any

import asyncpg

from mpp_complaints.store import personal_data
from mpp_complaints.usecases import reporter_contact
from mpp_shared import audit, clock
from mpp_shared.auth import Principal
from mpp_shared.personal_data import (
    CorrectionRequest,
    Record,
    ServiceCorrection,
    ServiceExport,
    Subject,
    SubjectRequest,
)
from mpp_shared.pii import FieldCipher
from mpp_shared.subject_records import record

SERVICE = "complaints"
TARGET = "personal_data_request"
INDEXES = frozenset({"reporter_phone_index", "reporter_email_index", "reporter_indexed"})


async def find(
    conn: asyncpg.Connection, cipher: FieldCipher, subject: Subject
) -> list[asyncpg.Record]:
    """The complaints of `subject`: filed with their contact, or naming their requests."""
    return await personal_data.find(
        conn,
        phone_indexes=reporter_contact.phone_indexes(cipher, subject.phones),
        email_indexes=reporter_contact.email_indexes(cipher, subject.emails),
        tracking_codes=subject.tracking_codes,
        application_ids=subject.application_ids,
    )


def is_theirs(contact: dict[str, str], subject: Subject) -> bool:
    emails = {e.lower() for e in subject.emails}
    return contact.get("phone") in subject.phones or (contact.get("email") or "").lower() in emails


def _record(cipher: FieldCipher, row: asyncpg.Record, subject: Subject) -> Record:
    clear: dict[str, Any] = {}
    if row["reporter_enc"] is not None:
        contact = reporter_contact.opened(cipher, row["reporter_enc"])
        clear["reporter"] = contact if is_theirs(contact, subject) else "withheld"
    return record("complaint", row, clear=clear, leave_out=INDEXES)


async def export(
    pool: asyncpg.Pool, cipher: FieldCipher, officer: Principal, request: SubjectRequest
) -> ServiceExport:
    async with pool.acquire() as conn, conn.transaction():
        rows = await find(conn, cipher, request.subject)
        deadlines = await conn.fetch(
            "SELECT * FROM complaint_deadlines WHERE complaint_id = ANY($1::uuid[]) "
            "ORDER BY complaint_id, id",
            [r["id"] for r in rows],
        )
        records = [_record(cipher, r, request.subject) for r in rows]
        records += [record("complaint_deadline", d, at_column=None) for d in deadlines]
        await audit.record(
            conn,
            officer,
            action="personal_data.exported",
            target_type=TARGET,
            target_id=str(request.request_id),
            detail={"complaints": len(rows), "reason": request.reason},
        )
    return ServiceExport(service=SERVICE, records=records)


async def correct(
    pool: asyncpg.Pool, cipher: FieldCipher, officer: Principal, request: CorrectionRequest
) -> ServiceCorrection:
    """The reporter's phone and/or e-mail replaced in every complaint the
    resident filed with the old one; re-encrypted and indexed again."""
    subject = request.subject
    at = clock.now()
    changed = 0
    async with pool.acquire() as conn, conn.transaction():
        rows = await personal_data.reporters_for_update(
            conn,
            reporter_contact.phone_indexes(cipher, subject.phones),
            reporter_contact.email_indexes(cipher, subject.emails),
        )
        for row in rows:
            contact = reporter_contact.opened(cipher, row["reporter_enc"])
            new = corrected_contact(contact, subject, request)
            if new == contact:
                continue
            phone_index, email_index = reporter_contact.indexes(cipher, new)
            await personal_data.set_reporter(
                conn,
                row["id"],
                reporter_enc=reporter_contact.sealed(cipher, new),
                phone_index=phone_index,
                email_index=email_index,
                at=at,
            )
            changed += 1
        await audit.record(
            conn,
            officer,
            action="personal_data.corrected",
            target_type=TARGET,
            target_id=str(request.request_id),
            detail={"complaints": changed, "reason": request.reason},
        )
    return ServiceCorrection(service=SERVICE, corrected={"complaint": changed})


def corrected_contact(
    contact: dict[str, str], subject: Subject, request: CorrectionRequest
) -> dict[str, str]:
    """The contact with the resident's old phone / e-mail replaced."""
    new = dict(contact)
    if request.new_phone and contact.get("phone") in subject.phones:
        new["phone"] = request.new_phone
    emails = {e.lower() for e in subject.emails}
    if request.new_email and (contact.get("email") or "").lower() in emails:
        new["email"] = request.new_email
    return new
