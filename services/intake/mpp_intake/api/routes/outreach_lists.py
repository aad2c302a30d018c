"""Outreach lists ("jemput bola"): Dukcapil uploads residents who lack a
document as a CSV file; the answer reports every refused row.

The edge reads the file itself: a body that is not CSV is refused (415), and
one larger than the limit (413) before it is read whole.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from mpp_intake.api.deps import CipherDep, Supervisor
from mpp_intake.api.schemas import OutreachListPublic
from mpp_intake.domain import outreach as rules
from mpp_intake.usecases import outreach_lists
from mpp_shared.errors import Invalid
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import ApiError, IdempotencyKey, LanguageDep, PoolDep, replayed

router = APIRouter(prefix="/v1/outreach", tags=["outreach"])
_CSV_TYPES = {
    "text/csv",
    "application/csv",
    "text/plain",
    "application/vnd.ms-excel",  # what some browsers send for a .csv file
    "application/octet-stream",
}
_CSV_EXAMPLE = (
    "nik,full_name,desa_code,service_code,phone,address\n"
    "3506172602660001,Siti Rahayu,3506172001,akta_kelahiran,085712345678,RT 02 RW 01\n"
)


async def _read_csv(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in _CSV_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Kirim berkas CSV (Content-Type: text/csv), bukan {media_type}",
            f"Send a CSV file (Content-Type: text/csv), not {media_type}",
        )
    too_large = ApiError(
        413,
        "too_large",
        f"Berkas terlalu besar: paling besar {rules.MAX_BYTES // (1024 * 1024)} MB; "
        "bagi menjadi beberapa berkas",
        f"The file is too large: at most {rules.MAX_BYTES // (1024 * 1024)} MB; "
        "split it into several files",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > rules.MAX_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > rules.MAX_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/lists",
    status_code=201,
    response_model=OutreachListPublic,
    summary="Upload an outreach list (CSV) of residents who lack a document (Dukcapil)",
    description=(
        "Body: a UTF-8 CSV (`,` or `;`), header row "
        "`nik,full_name,desa_code,service_code,phone,address` (phone and address optional). "
        f"At most {rules.MAX_BYTES // (1024 * 1024)} MB and {rules.MAX_ROWS} rows. Good rows "
        "are stored; every refused row is reported with its line number and the reason. "
        "Honours Idempotency-Key."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
        }
    },
)
async def upload_list(
    request: Request,
    pool: PoolDep,
    cipher: CipherDep,
    officer: Supervisor,
    language: LanguageDep,
    name: Annotated[
        str, Query(min_length=1, max_length=200, description="e.g. 'Belum akta - Pare 2026-11'")
    ],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    name = " ".join(name.split())
    if not name:
        raise Invalid.field("name", "missing", "wajib diisi", "is required")
    answer = await outreach_lists.upload_list(
        pool,
        cipher=cipher,
        officer=officer,
        name=name,
        data=await _read_csv(request),
        language=language,
        idempotency_key=idempotency_key,
    )
    return replayed(answer) if isinstance(answer, StoredAnswer) else answer


@router.get(
    "/lists/{list_id}",
    response_model=OutreachListPublic,
    summary="An uploaded list: counts and the refused rows (masked)",
)
async def get_list(
    list_id: uuid.UUID, pool: PoolDep, _officer: Supervisor, language: LanguageDep
) -> Any:
    return await outreach_lists.get_list(pool, list_id, language)
