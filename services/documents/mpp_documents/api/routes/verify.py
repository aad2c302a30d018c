"""Document register over HTTP: public verification of a document's code and
its revocation by a supervisor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from mpp_documents.api.deps import PublicDocumentsUrl, Supervisor
from mpp_documents.api.register_schemas import (
    DocumentVerification,
    IssuedDocumentRecord,
    RevocationRequest,
)
from mpp_documents.domain.register import (
    IssuedDocument,
    is_valid_code,
    issue_date,
    normalise_code,
    type_name,
    verification_url,
)
from mpp_documents.usecases import register
from mpp_shared.web import ApiError, Language, LanguageDep, PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/verify", tags=["register"], dependencies=[PUBLIC])
documents_router = APIRouter(prefix="/v1/documents", tags=["register"])
routers = [router, documents_router]


def verification_answer(document: IssuedDocument, language: Language) -> DocumentVerification:
    """The public answer: status, type, number, dates, office and masked holder only."""
    return DocumentVerification(
        verification_code=document.verification_code,
        status=document.status,
        valid=not document.revoked,
        document_type=document.doc_type,
        document_type_name=type_name(document.doc_type, language),
        number=document.number,
        issued_on=issue_date(document.issued_at),
        office=document.office,
        holder=document.holder_masked,
        revoked_on=issue_date(document.revoked_at) if document.revoked_at else None,
    )


def staff_record(
    document: IssuedDocument, language: Language = "id", *, public_documents_url: str = ""
) -> IssuedDocumentRecord:
    """The register's entry as staff see it; its verification URL on
    `public_documents_url` (the setting; without it, a path on this service)."""
    return IssuedDocumentRecord(
        id=document.id,
        job_id=document.job_id,
        application_id=document.application_id,
        document_type=document.doc_type,
        document_type_name=type_name(document.doc_type, language),
        office=document.office,
        year=document.year,
        seq=document.seq,
        number=document.number,
        verification_code=document.verification_code,
        verification_url=verification_url(public_documents_url, document.verification_code),
        holder_masked=document.holder_masked,
        issued_at=document.issued_at,
        status=document.status,
        revoked_at=document.revoked_at,
        revoked_by=document.revoked_by,
        revoke_reason=document.revoke_reason,
    )


def check_code(code: str) -> str:
    """The normalised code, or a 422 on `code` when its check character does not fit."""
    normalised = normalise_code(code)
    if not is_valid_code(normalised):
        raise ApiError.invalid(
            "code",
            "check_character",
            "kode verifikasi tidak sah; periksa kembali setiap karakternya",
            "is not a valid verification code; check every character",
        )
    return normalised


@router.get(
    "/{code}",
    response_model=DocumentVerification,
    summary="Is this document genuine? (public, by the code printed on it)",
    responses={404: {"description": "No document has this code"}},
)
async def verify_document(
    code: Annotated[str, Path(max_length=40)],
    pool: PoolDep,
    language: LanguageDep,
    response: Response,
) -> Any:
    document = await register.look_up_code(pool, check_code(code))
    response.headers["Cache-Control"] = "no-store"  # a revocation must show at once
    return verification_answer(document, language)


@documents_router.post(
    "/{number_or_id}/revocation",
    response_model=IssuedDocumentRecord,
    summary="Revoke an issued document (by its number or register id)",
    responses={
        404: {"description": "No such document"},
        409: {"description": "Already revoked; the body carries the current state"},
    },
)
async def revoke_document(
    number_or_id: Annotated[str, Path(max_length=80)],
    body: RevocationRequest,
    pool: PoolDep,
    supervisor: Supervisor,
    language: LanguageDep,
    public_url: PublicDocumentsUrl,
) -> Any:
    document = await register.revoke_document(
        pool, supervisor, number_or_id=number_or_id, reason=body.reason
    )
    return staff_record(document, language, public_documents_url=public_url)
