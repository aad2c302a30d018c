"""The register of issued documents on PostgreSQL: issuing (gapless number and
verification code, in the caller's transaction), looking up, revoking.

Numbers and codes are described in `mpp_documents.domain.register`. Gapless
rests on the caller's transaction: `issue` increments the counter of (type,
office, year) in it, so the number is given back if that transaction rolls
back, and a concurrent issue of the same series waits on the counter row until
this one ends. Run it at READ COMMITTED (asyncpg's and PostgreSQL's default):
at a stricter isolation level the waiting issue fails with a serialization
error instead of taking the next number.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from mpp_documents.domain.register import (
    IssuedDocument,
    check_doc_type,
    format_number,
    issue_year,
    new_verification_code,
    normalise_code,
    normalise_number,
    normalise_office,
)

__all__ = [
    "AlreadyRevoked",
    "IssuedDocument",
    "NotRegistered",
    "find",
    "find_by_code",
    "find_by_job",
    "issue",
    "revoke",
]

# A verification code drawn twice (45 random bits) is drawn again; this many
# clashes in a row means something else is wrong.
_CODE_ATTEMPTS = 8

_NEXT_NUMBER = """
INSERT INTO register_counters AS c (doc_type, office, year, last) VALUES ($1, $2, $3, 1)
ON CONFLICT (doc_type, office, year) DO UPDATE SET last = c.last + 1
RETURNING last
"""

_INSERT = """
INSERT INTO issued_documents (id, job_id, application_id, doc_type, office, year, seq, number,
    verification_code, holder_masked, issued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *
"""


class NotRegistered(LookupError):
    """No issued document has that number, id or code."""


class AlreadyRevoked(Exception):
    def __init__(self, document: IssuedDocument) -> None:
        super().__init__(f"document {document.number} is already revoked")
        self.document = document


def _document(row: Any) -> IssuedDocument:
    return IssuedDocument(**{k: row[k] for k in IssuedDocument.__dataclass_fields__})


async def issue(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID,
    application_id: uuid.UUID,
    doc_type: str,
    office: str,
    holder_masked: str,
    issued_at: datetime,
) -> IssuedDocument:
    """Register the document produced by `job_id`: next number of (doc_type,
    office, year of `issued_at` in WIB) and a new verification code.

    Call it inside the transaction that marks the job produced. Idempotent per
    job: when the job already has a document, that record is returned and no
    number is consumed (also when two calls for one job race: the loser's
    number is given back with its savepoint). `holder_masked` must already be
    masked (`mpp_shared.pii.mask_name` / `mask_nik`); a value without a `*`
    is refused.
    """
    check_doc_type(doc_type)
    office = normalise_office(office)
    year = issue_year(issued_at)
    holder_masked = holder_masked.strip()
    if "*" not in holder_masked:
        raise ValueError("holder_masked must be a masked name or NIK (mpp_shared.pii)")
    existing = await find_by_job(conn, job_id)
    if existing is not None:
        return existing
    for _ in range(_CODE_ATTEMPTS):
        try:
            # A savepoint (or the transaction, if the caller has none): a refused
            # insert rolls the counter back with it.
            async with conn.transaction():
                seq: int = await conn.fetchval(_NEXT_NUMBER, doc_type, office, year)
                row = await conn.fetchrow(
                    _INSERT,
                    uuid.uuid4(),
                    job_id,
                    application_id,
                    doc_type,
                    office,
                    year,
                    seq,
                    format_number(doc_type=doc_type, office=office, year=year, seq=seq),
                    new_verification_code(),
                    holder_masked,
                    issued_at,
                )
            return _document(row)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "issued_documents_verification_code_key":
                continue
            if exc.constraint_name == "issued_documents_job_id_key":
                existing = await find_by_job(conn, job_id)
                if existing is not None:
                    return existing
            raise
    raise RuntimeError(f"no free verification code after {_CODE_ATTEMPTS} draws")


async def find_by_job(conn: asyncpg.Connection, job_id: uuid.UUID) -> IssuedDocument | None:
    row = await conn.fetchrow("SELECT * FROM issued_documents WHERE job_id = $1", job_id)
    return None if row is None else _document(row)


async def find_by_code(conn: asyncpg.Connection, code: str) -> IssuedDocument | None:
    """By verification code (normalised: case, hyphens and spaces do not matter)."""
    row = await conn.fetchrow(
        "SELECT * FROM issued_documents WHERE verification_code = $1", normalise_code(code)
    )
    return None if row is None else _document(row)


def _as_id(number_or_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(number_or_id.strip())
    except ValueError:
        return None


async def find(
    conn: asyncpg.Connection, number_or_id: str, *, for_update: bool = False
) -> IssuedDocument | None:
    """By the register's id (a UUID) or by document number (case-insensitive)."""
    lock = " FOR UPDATE" if for_update else ""
    doc_id = _as_id(number_or_id)
    if doc_id is not None:
        row = await conn.fetchrow(f"SELECT * FROM issued_documents WHERE id = $1{lock}", doc_id)
    else:
        row = await conn.fetchrow(
            f"SELECT * FROM issued_documents WHERE number = $1{lock}",
            normalise_number(number_or_id),
        )
    return None if row is None else _document(row)


async def revoke(
    conn: asyncpg.Connection, *, number_or_id: str, by: str, reason: str, at: datetime
) -> IssuedDocument:
    """Mark a document revoked; call inside a transaction (with its audit record).

    Raises `NotRegistered`, or `AlreadyRevoked` carrying the current record.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("a revocation needs a reason")
    current = await find(conn, number_or_id, for_update=True)
    if current is None:
        raise NotRegistered(number_or_id)
    if current.revoked:
        raise AlreadyRevoked(current)
    row = await conn.fetchrow(
        "UPDATE issued_documents SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 "
        "WHERE id = $1 RETURNING *",
        current.id,
        at,
        by,
        reason,
    )
    return _document(row)
