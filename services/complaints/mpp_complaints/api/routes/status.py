"""A complaint's status by its code, for its reporter (public, rate limited):
the JSON twin of the status page /complaints/status/{code}. The Open311
facade's /open311/v2/requests/{code}.json shows public complaints only
(never a confidential one) and neither the running step nor the answer; this
one shows the reporter what the page shows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from mpp_complaints.api import ratelimit
from mpp_complaints.usecases import status
from mpp_complaints.usecases.status import ComplaintStatus
from mpp_shared.web import LanguageDep, PoolDep, refusal_response
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/complaint-status", tags=["complaints"])


@router.get(
    "/{complaint_code}",
    response_model=ComplaintStatus,
    dependencies=[PUBLIC],
    summary="Where a complaint stands, by its complaint code (no token)",
    description="The category, the status and the running step in words, the step's "
    "deadline, the answer once given, the progress of the request it names. Never the "
    "reporter's name or contact. Texts in the caller's language (Accept-Language).",
    responses={429: {"description": "Too many look-ups from this client (Retry-After)"}},
)
async def complaint_status(
    complaint_code: Annotated[str, Path(max_length=40)],
    request: Request,
    pool: PoolDep,
    language: LanguageDep,
) -> Any:
    if (wait := await ratelimit.lookup_wait(request)) > 0:
        return refusal_response(ratelimit.too_many_lookups(wait), language)
    return await status.status_by_code(pool, complaint_code, language)
