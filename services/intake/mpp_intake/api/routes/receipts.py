"""The receipt (tanda terima) of an application, as the counter prints it: a
page for an 80 mm thermal printer, an A4 page, or a PDF. Each print is
counted and audited by the use case; this route only renders."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from mpp_intake.api.deps import ReceiptPrinter, SettingsDep
from mpp_intake.api.receipt_pdf import receipt_pdf
from mpp_intake.api.receipt_view import receipt_view
from mpp_intake.usecases import receipts
from mpp_shared.web import PoolDep
from mpp_shared.web.pages import SECURITY_HEADERS, PagesDep, page_language
from mpp_shared.web.qr import qr_svg_data_uri

router = APIRouter(prefix="/v1/applications", tags=["applications"])

# A receipt names where a citizen's application stands: no cache keeps it.
NO_STORE = {"Cache-Control": "no-store"}


@router.get(
    "/{application_id:uuid}/receipt",
    response_class=HTMLResponse,
    summary="The application's receipt (tanda terima): thermal or A4 page, or PDF",
    description=(
        "The tracking code (also as a QR code opening the public tracking page), the "
        "service, the papers handed in and those still missing, the promised date, the "
        "pickup point, the fee (Rp 0) and where to report a request for money, the "
        "counter; never a NIK or a name. Every print is audited "
        "(`application.receipt_printed`, then `application.receipt_reprinted`). "
        "Bahasa Indonesia unless `lang=en` or Accept-Language asks for English."
    ),
    responses={
        200: {
            "description": "The receipt: HTML for `thermal` and `a4`, a PDF for `pdf`",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def print_receipt(
    application_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    settings: SettingsDep,
    pages: PagesDep,
    officer: ReceiptPrinter,
    receipt_format: Annotated[
        receipts.ReceiptFormat,
        Query(alias="format", description="thermal (80 mm), a4, or pdf"),
    ] = "thermal",
    lang: Annotated[Literal["id", "en"] | None, Query(description="The receipt's language")] = None,
) -> Response:
    language = lang or page_language(request)
    receipt = await receipts.print_receipt(
        pool,
        settings=settings,
        officer=officer,
        command=receipts.PrintReceipt(application_id, receipt_format, language),
    )
    view = receipt_view(receipt, settings.office_name)
    if receipt_format == "pdf":
        return Response(
            receipt_pdf(view),
            media_type="application/pdf",
            headers={
                **SECURITY_HEADERS,
                **NO_STORE,
                "Content-Disposition": f'inline; filename="tanda-terima-{view.code}.pdf"',
            },
        )
    return pages.render(
        request,
        "receipt_thermal.html" if receipt_format == "thermal" else "receipt_a4.html",
        headers=NO_STORE,
        v=view,
        qr=qr_svg_data_uri(view.tracking_url),
    )
