"""Answers and requests of the document register (public verification,
revocation, the supervisors' search)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from mpp_documents.domain.register import DocumentStatus


class DocumentVerification(BaseModel):
    """What anyone holding a verification code may learn: nothing personal but
    the masked holder."""

    verification_code: str = Field(description="The code asked about, normalised")
    status: DocumentStatus = Field(description="valid, or revoked by the issuing office")
    valid: bool = Field(description="true while the document is not revoked")
    document_type: str = Field(description="Catalog service code, e.g. akta_kelahiran")
    document_type_name: str = Field(
        description="Name of the document type, in the caller's language"
    )
    number: str = Field(description="Register number, e.g. 3506-AKL-2026-000123")
    issued_on: date = Field(description="Date of issue (WIB)")
    office: str = Field(description="Issuing office code")
    holder: str = Field(description="Masked name or NIK of the holder")
    revoked_on: date | None = Field(
        default=None, description="Date of revocation (WIB), if revoked"
    )


class RevocationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=500, description="Why the document is revoked")


class IssuedDocumentRecord(BaseModel):
    """The register's entry as staff see it."""

    id: uuid.UUID
    job_id: uuid.UUID
    application_id: uuid.UUID
    document_type: str
    document_type_name: str
    office: str
    year: int
    seq: int
    number: str
    verification_code: str
    verification_url: str = Field(
        description="The public page the document's QR code opens (print it with the document)"
    )
    holder_masked: str
    issued_at: datetime
    status: DocumentStatus
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


class RegisterEntryOut(IssuedDocumentRecord):
    """An entry of the register as a supervisor's search lists it."""

    pickup_point: str | None = Field(
        description="The job's pickup point: where the document waits or waited"
    )


class RegisterPageOut(BaseModel):
    items: list[RegisterEntryOut] = Field(description="Newest first (by issue moment)")
    total: int | None = Field(
        description="Every entry the filters let through; null on the pages a cursor leads "
        "to; with filters other than the type, counted up to 10 000 (see `total_capped`)"
    )
    total_capped: bool = Field(
        default=False,
        description="More entries match than `total` says (it stops counting at 10 000)",
    )
    page: int
    page_size: int
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page (keyset); null on the last page",
    )
