"""The register of issued documents: issuing (a gapless number and a
verification code, in the caller's transaction), the public look-up by code,
and revocation by a supervisor.

Gapless rests on the caller's transaction: `issue` increments the counter of
(type, office, year) in it, so the number is given back if that transaction
rolls back, and a concurrent issue of the same series waits on the counter row
until this one ends. Run it at READ COMMITTED (asyncpg's and PostgreSQL's
default): at a stricter isolation level the waiting issue fails with a
serialization error instead of taking the next number. Numbers and codes are
described in `mpp_documents.domain.register`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import asyncpg

from mpp_documents.domain.register import (
    ZONE,
    AlreadyRevoked,
    IssuedDocument,
    NotRegistered,
    check_doc_type,
    format_number,
    issue_year,
    new_verification_code,
    normalise_number,
    normalise_office,
)
from mpp_documents.store import register as register_store
from mpp_documents.store.register import RegisterQuery
from mpp_shared import audit, clock, paging
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid, NotFound

# A verification code drawn twice (45 random bits) is drawn again; this many
# clashes in a row means something else is wrong.
CODE_ATTEMPTS = 8
# The one order of the register's search, named in its cursors.
REGISTER_SORT = "register.newest"


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
    existing = await register_store.find_by_job(conn, job_id)
    if existing is not None:
        return existing
    for _ in range(CODE_ATTEMPTS):
        try:
            # A savepoint (or the transaction, if the caller has none): a refused
            # insert rolls the counter back with it.
            async with conn.transaction():
                seq = await register_store.next_number(
                    conn, doc_type=doc_type, office=office, year=year
                )
                return await register_store.insert(
                    conn,
                    job_id=job_id,
                    application_id=application_id,
                    doc_type=doc_type,
                    office=office,
                    year=year,
                    seq=seq,
                    number=format_number(doc_type=doc_type, office=office, year=year, seq=seq),
                    verification_code=new_verification_code(),
                    holder_masked=holder_masked,
                    issued_at=issued_at,
                )
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == register_store.UNIQUE_CODE:
                continue
            if exc.constraint_name == register_store.UNIQUE_JOB:
                existing = await register_store.find_by_job(conn, job_id)
                if existing is not None:
                    return existing
            raise
    raise RuntimeError(f"no free verification code after {CODE_ATTEMPTS} draws")


async def revoke(
    conn: asyncpg.Connection, *, number_or_id: str, by: str, reason: str, at: datetime
) -> IssuedDocument:
    """Mark a document revoked in the caller's transaction (with its audit record).

    Raises `NotRegistered`, or `AlreadyRevoked` carrying the current record.
    """
    reason = reason.strip()
    if not reason:
        raise ValueError("a revocation needs a reason")
    current = await register_store.find(conn, number_or_id, for_update=True)
    if current is None:
        raise NotRegistered(number_or_id)
    if current.revoked:
        raise AlreadyRevoked(current)
    return await register_store.mark_revoked(conn, current.id, at=at, by=by, reason=reason)


async def revoke_document(
    pool: asyncpg.Pool, supervisor: Principal, *, number_or_id: str, reason: str
) -> IssuedDocument:
    """A supervisor revokes a document (by number or register id): the
    revocation and its audit entry commit together."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        document = await revoke(
            conn, number_or_id=number_or_id, by=supervisor.subject, reason=reason, at=now
        )
        await audit.record(
            conn,
            supervisor,
            action="document.revoked",
            target_type="issued_document",
            target_id=str(document.id),
            detail={"number": document.number, "job_id": str(document.job_id), "reason": reason},
        )
    return document


async def look_up_code(pool: asyncpg.Pool, code: str) -> IssuedDocument:
    """The document registered under a verification code (already checked
    and normalised by the caller), valid or revoked."""
    async with pool.acquire() as conn:
        document = await register_store.find_by_code(conn, code)
    if document is None:
        raise NotFound(
            "not_found",
            "Tidak ada dokumen terdaftar dengan kode ini",
            "No document is registered under this code",
        )
    return document


async def find_document(pool: asyncpg.Pool, reference: str) -> IssuedDocument:
    """The register's entry for what the production desk holds: the entry's
    id (`document_id` of the job), the job's id or the document number."""
    async with pool.acquire() as conn:
        document = await register_store.find_for_print(conn, reference)
    if document is None:
        raise NotRegistered(reference)
    return document


@dataclass(frozen=True)
class RegisterFilters:
    """A supervisor's search of the register; every filter optional. Days are
    WIB days, both ends included."""

    number: str | None = None  # exactly this number (case does not matter)
    number_prefix: str | None = None  # numbers starting so, e.g. 3506-KTP-2026-
    service_code: str | None = None
    pickup_point: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    revoked: bool | None = None  # True: revoked only; False: valid only


@dataclass(frozen=True)
class RegisterEntry:
    document: IssuedDocument
    pickup_point: str | None  # the job's point: where it waits or waited


@dataclass(frozen=True)
class RegisterPage:
    entries: list[RegisterEntry]  # newest first
    total: int | None  # every entry the filters let through; None on a page by cursor
    next_cursor: str | None = None  # the page after this one; None on the last
    total_capped: bool = False  # more match than `total` (paging.COUNT_CAP)


def register_query(filters: RegisterFilters) -> RegisterQuery:
    """The store's query; refuses a range whose end comes before its start."""
    first, last = filters.issued_from, filters.issued_to
    if first is not None and last is not None and last < first:
        raise Invalid.field(
            "issued_to",
            "range",
            "tidak boleh sebelum issued_from",
            "must not be before issued_from",
        )
    return RegisterQuery(
        number=normalise_number(filters.number) if filters.number else None,
        number_prefix=normalise_number(filters.number_prefix) if filters.number_prefix else None,
        doc_type=filters.service_code or None,
        pickup_point=filters.pickup_point or None,
        since=datetime.combine(first, time.min, ZONE) if first else None,
        before=datetime.combine(last + timedelta(days=1), time.min, ZONE) if last else None,
        revoked=filters.revoked,
    )


async def search_register(
    pool: asyncpg.Pool,
    filters: RegisterFilters,
    *,
    page: int,
    page_size: int,
    cursor: str | None = None,
) -> RegisterPage:
    """One page of the register, newest first, and the count of all it matches
    (both from one snapshot); after `cursor` when given (keyset, no count),
    else page `page`. The holder is masked in every entry."""
    query = register_query(filters)
    after = None
    if cursor is not None:
        issued_at, after_id = paging.decode(cursor, REGISTER_SORT, (paging.TIMESTAMP, paging.UUID))
        after = (issued_at, after_id)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        counted = None if after is not None else await register_store.count(conn, query)
        found = await register_store.search(
            conn, query, limit=page_size + 1, offset=(page - 1) * page_size, after=after
        )
    shown, following = paging.page_of(
        found, page_size, REGISTER_SORT, lambda f: (f[0].issued_at, f[0].id)
    )
    return RegisterPage(
        entries=[RegisterEntry(document=d, pickup_point=p) for d, p in shown],
        total=None if counted is None else counted[0],
        total_capped=counted is not None and counted[1],
        next_cursor=following,
    )
