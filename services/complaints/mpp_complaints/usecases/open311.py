"""The Open311 facade's use cases: filing a complaint from the
specification's form, and finding public complaints. Only public facts leave
here: never the reporter's contact, the linked tracking code or a
confidential complaint. Refusals are `Open311Error`s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from mpp_complaints.domain.open311 import Open311Error, RequestFilter, form_to_complaint
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store import categories, complaints
from mpp_complaints.usecases import filing
from mpp_shared.pii import FieldCipher


@dataclass(frozen=True)
class PublicComplaint:
    """What the facade may show of a complaint."""

    complaint_code: str
    category: str
    kind: str
    description: str
    status: str
    created_at: datetime
    updated_at: datetime
    opd: str | None
    step_due_at: str | None  # ISO 8601, as the database writes it
    rejection_reason: str | None


async def file_request(
    pool: asyncpg.Pool,
    form: Mapping[str, str],
    language: str,
    *,
    settings: ComplaintsSettings,
    cipher: FieldCipher,
) -> tuple[str, str]:
    """The code and kind of the report filed from the form. Open311Error 400 for a
    missing or malformed field, 404 for a service code that is neither an
    active category nor a kind of report (domain.open311.KIND_SERVICES)."""
    async with pool.acquire() as conn:
        complaint = form_to_complaint(form, language, await categories.active_codes(conn))
        try:
            async with conn.transaction():
                filed = await filing.file(conn, complaint, settings=settings, cipher=cipher)
        except filing.UnknownCategory as exc:  # deactivated since it was read above
            raise Open311Error(404, f"service_code not found: {complaint.category}") from exc
    return filed.complaint_code, filed.kind


async def find_requests(pool: asyncpg.Pool, wanted: RequestFilter) -> list[PublicComplaint]:
    """The public complaints the search asks for, the newest first."""
    async with pool.acquire() as conn:
        rows = await complaints.find_public(conn, wanted)
    return [PublicComplaint(**dict(r)) for r in rows]


async def one_request(pool: asyncpg.Pool, service_request_id: str) -> PublicComplaint:
    """One public complaint by its code; Open311Error 404 when there is none."""
    async with pool.acquire() as conn:
        row = await complaints.public_by_code(conn, service_request_id.strip().upper())
    if row is None:
        raise Open311Error(404, f"service_request_id not found: {service_request_id}")
    return PublicComplaint(**dict(row))
