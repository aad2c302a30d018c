"""A complaint's status as its reporter reads it, by the complaint code
(the public status page and its JSON twin): the category, the status and the
running step in words, the step's deadline, the answer once given, the
progress of the request it names. Never the reporter's identity or contact,
nor the description (the code may be shown to someone else)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel, Field

from mpp_complaints.domain.complaints import CODE_LENGTH, CODE_PREFIX
from mpp_complaints.domain.kinds import KIND_WORDS
from mpp_complaints.domain.words import (
    PROGRESS_WORDS,
    REJECTION_WORDS,
    STATUS_WORDS,
    STEP_WORDS,
    words,
)
from mpp_complaints.store import complaints
from mpp_shared import codes
from mpp_shared.errors import Language, NotFound
from mpp_shared.wording import datetime_words

UNKNOWN_CODE = (
    "Kode pengaduan tidak ditemukan. Periksa kembali kode pada bukti pengaduan Anda.",
    "No complaint has this code. Please check the code on your complaint's receipt.",
)
MISTYPED_CODE = (
    "Kode pengaduan ini tampaknya salah ketik (huruf pemeriksanya tidak cocok). "
    "Periksa kembali kode Anda, misalnya P2345ABCDE.",
    "This complaint code looks mistyped (its check character does not match). "
    "Please check your code, e.g. P2345ABCDE.",
)


class ComplaintStatus(BaseModel):
    """Where a complaint stands, for its reporter; texts in the caller's language."""

    complaint_code: str
    kind: str = Field(description="aspirasi, pengaduan or permintaan_informasi")
    kind_text: str
    category: str
    category_name: str
    status: str
    status_text: str
    step: str | None = Field(
        description="The running step: verification, follow_up, information, auto_close"
    )
    step_text: str | None
    step_due_at: datetime | None = Field(description="The running step's deadline")
    step_due_text: str | None = Field(description="The deadline as a date and time in WIB")
    opd: str | None = Field(description="The office (OPD) the complaint is with")
    response_text: str | None = Field(description="The answer, once the complaint is answered")
    responded_at: datetime | None
    extension_reason: str | None = Field(
        description="Why a request for information's deadline was extended (once)"
    )
    rejection_text: str | None = Field(description="Why a rejected complaint was not taken up")
    linked_request_progress: str | None = Field(
        description="The progress of the request the complaint names, when known"
    )
    linked_request_progress_text: str | None
    created_at: datetime
    updated_at: datetime


def normalised_code(raw: str) -> str:
    """The code as stored; NotFound for one that cannot be a complaint code."""
    code = codes.normalise(raw)
    if len(code) != len(CODE_PREFIX) + CODE_LENGTH or not code.startswith(CODE_PREFIX):
        raise NotFound("not_found", *UNKNOWN_CODE)
    if not codes.is_valid(code, CODE_LENGTH, CODE_PREFIX):
        raise NotFound("not_found", *MISTYPED_CODE)
    return code


async def status_by_code(pool: asyncpg.Pool, raw_code: str, language: Language) -> ComplaintStatus:
    """The complaint's status; NotFound for an unknown or mistyped code."""
    code = normalised_code(raw_code)
    async with pool.acquire() as conn:
        row = await complaints.status_by_code(conn, code)
    if row is None:
        raise NotFound("not_found", *UNKNOWN_CODE)
    names = (row["category_name_id"], row["category_name_en"])
    due = row["step_due_at"]
    shown_response = row["response_text"] if row["responded_at"] is not None else None
    return ComplaintStatus(
        complaint_code=row["complaint_code"],
        kind=row["kind"],
        kind_text=words(KIND_WORDS, row["kind"], language) or row["kind"],
        category=row["category"],
        category_name=(names[1] if language == "en" else names[0]) or row["category"],
        status=row["status"],
        status_text=words(STATUS_WORDS, row["status"], language) or row["status"],
        step=row["step"],
        step_text=words(STEP_WORDS, row["step"], language),
        step_due_at=due,
        step_due_text=datetime_words(due, language) if due is not None else None,
        opd=row["opd"],
        response_text=shown_response,
        responded_at=row["responded_at"],
        extension_reason=row["extension_reason"],
        rejection_text=words(REJECTION_WORDS, row["rejection_reason"], language),
        linked_request_progress=row["linked_request_progress"],
        linked_request_progress_text=words(
            PROGRESS_WORDS, row["linked_request_progress"], language
        ),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
