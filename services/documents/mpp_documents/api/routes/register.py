"""The register for staff: the supervisors' search, and the QR code printed
on or with every produced document (it opens the public verification page).

Neither is audited: like every other read of the register and the jobs, they
reveal no personal data (the holder is masked; a QR code carries the public
verification URL the job answer already shows). What changes the register
(issue, revocation) is audited where it happens."""

from __future__ import annotations

import io
from datetime import date
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Path, Query, Response

from mpp_documents.api.deps import PublicDocumentsUrl, Staff, Supervisor
from mpp_documents.api.register_schemas import RegisterEntryOut, RegisterPageOut
from mpp_documents.api.routes.verify import staff_record
from mpp_documents.domain.register import verification_url
from mpp_documents.usecases import register
from mpp_documents.usecases.register import RegisterFilters
from mpp_shared.web import MAX_PAGE, LanguageDep, PoolDep
from mpp_shared.web.paging import CursorQuery
from mpp_shared.web.qr import qr_png

router = APIRouter(prefix="/v1/documents", tags=["register"])

MAX_PAGE_SIZE = 200
QR_CONTENT = {
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/svg+xml": {"schema": {"type": "string"}},
}


def qr_svg(text: str, *, scale: int = 8) -> bytes:
    """SVG bytes of the same QR code as `qr_png` (for a document template)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=scale, border=4)
    return buffer.getvalue()


@router.get(
    "",
    response_model=RegisterPageOut,
    summary="Search the register of issued documents (supervisors)",
    description=(
        "Newest first by issue moment. Every filter is optional and they combine: `number` "
        "(exactly this number), `number_prefix` (numbers starting so, e.g. 3506-KTP-2026-), "
        "`service_code` (the document type, a catalog service code), `pickup_point` (the "
        "job's point), `issued_from` / `issued_to` (WIB days, both included), `status` "
        "(valid or revoked). The holder is masked in every entry."
    ),
)
async def search_register(
    pool: PoolDep,
    public_url: PublicDocumentsUrl,
    language: LanguageDep,
    _supervisor: Supervisor,
    number: Annotated[str | None, Query(max_length=80, description="Exact number")] = None,
    number_prefix: Annotated[
        str | None, Query(min_length=1, max_length=80, description="Start of the number")
    ] = None,
    service_code: Annotated[str | None, Query(max_length=63)] = None,
    pickup_point: Annotated[str | None, Query(max_length=100)] = None,
    issued_from: Annotated[
        date | None, Query(description="First day of issue (WIB), YYYY-MM-DD")
    ] = None,
    issued_to: Annotated[
        date | None, Query(description="Last day of issue (WIB, included), YYYY-MM-DD")
    ] = None,
    status: Annotated[Literal["valid", "revoked"] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: CursorQuery = None,
) -> Any:
    filters = RegisterFilters(
        number=number,
        number_prefix=number_prefix,
        service_code=service_code,
        pickup_point=pickup_point,
        issued_from=issued_from,
        issued_to=issued_to,
        revoked=None if status is None else status == "revoked",
    )
    found = await register.search_register(
        pool, filters, page=page, page_size=page_size, cursor=cursor
    )
    return RegisterPageOut(
        items=[
            RegisterEntryOut(
                **staff_record(
                    entry.document, language, public_documents_url=public_url
                ).model_dump(),
                pickup_point=entry.pickup_point,
            )
            for entry in found.entries
        ],
        total=found.total,
        total_capped=found.total_capped,
        page=page,
        page_size=page_size,
        next_cursor=found.next_cursor,
    )


@router.get(
    "/{number_or_id}/qr",
    response_class=Response,
    summary="The QR code to print with a document: it opens its verification page",
    description=(
        "By the register's id (`document_id` of the job), the job's id, or the document "
        "number. The code holds `{PUBLIC_DOCUMENTS_URL}/verify/{verification_code}` "
        "(`verification_url` of the job). PNG unless `format=svg`."
    ),
    responses={
        200: {"content": QR_CONTENT, "description": "The QR code"},
        404: {"description": "No such document"},
    },
)
async def document_qr(
    number_or_id: Annotated[str, Path(max_length=80)],
    pool: PoolDep,
    public_url: PublicDocumentsUrl,
    _staff: Staff,
    format_: Annotated[Literal["png", "svg"], Query(alias="format")] = "png",
) -> Response:
    document = await register.find_document(pool, number_or_id)
    url = verification_url(public_url, document.verification_code)
    headers = {
        "Content-Disposition": f'inline; filename="{document.number}.{format_}"',
        "Cache-Control": "private, max-age=3600",
    }
    if format_ == "svg":
        return Response(qr_svg(url), media_type="image/svg+xml", headers=headers)
    return Response(qr_png(url), media_type="image/png", headers=headers)
