"""Open311 service requests: filing a complaint with an api_key (form
fields, rate limited per client and key), finding complaints and reading
one, public fields only."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import Request, Response

from mpp_complaints.api import ratelimit
from mpp_complaints.api.errors import error_response
from mpp_complaints.api.routes.open311.format import answer, locale, shape_request, wants_xml
from mpp_complaints.api.routes.open311.schemas import (
    Open311Receipt,
    Open311Request,
    documented,
    open311_router,
)
from mpp_complaints.domain.open311 import Open311Error, request_filter
from mpp_complaints.usecases import open311
from mpp_complaints.usecases.open311 import PublicComplaint
from mpp_shared import clock
from mpp_shared.web import PoolDep, get_pool

router = open311_router()

FILED_NOTICES = {
    "pengaduan": {
        "id": "Pengaduan diterima; akan diverifikasi dan diteruskan ke OPD terkait",
        "en": "Complaint received; it will be verified and forwarded to the responsible agency",
    },
    "aspirasi": {
        "id": "Aspirasi diterima; akan diteruskan ke OPD terkait dan dijawab",
        "en": "Suggestion received; it will be passed to the responsible agency and answered",
    },
    "permintaan_informasi": {
        "id": "Permintaan informasi diterima; dijawab paling lambat 10 hari kerja",
        "en": "Request for information received; it will be answered within 10 working days",
    },
}
TOO_MANY = {
    "id": "Terlalu banyak permintaan; coba lagi sebentar lagi",
    "en": "Too many requests; try again shortly",
}


def _shaped(complaints: list[PublicComplaint], language: str) -> list[dict[str, object]]:
    return [shape_request(vars(c), language) for c in complaints]


async def _form(request: Request) -> dict[str, str]:
    """The form fields (the first of each); Open311Error unless form-encoded."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise Open311Error(400, "send the fields as application/x-www-form-urlencoded")
    raw = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in raw.items()}


def _refuse_unknown_key(request: Request, api_key: str) -> None:
    keys = request.app.state.settings.open311_keys()
    if not api_key or not any(hmac.compare_digest(api_key.encode(), k.encode()) for k in keys):
        raise Open311Error(403, "api_key is missing or not valid")


@router.post(
    "/requests.xml",
    status_code=201,
    summary="Open311: file a complaint, XML answer",
    **documented(True, None, 400, 403, 404, 429, status=201, form=True),
)
@router.post(
    "/requests.json",
    status_code=201,
    summary="Open311: file a complaint (form-encoded, api_key required)",
    **documented(False, list[Open311Receipt], 400, 403, 404, 429, form=True),
)
async def create_request(request: Request) -> Response:
    form = await _form(request)
    api_key = form.get("api_key", "")
    _refuse_unknown_key(request, api_key)
    language = locale(request)
    if (wait := await ratelimit.filing_wait(request, api_key)) > 0:
        refusal = error_response(429, TOO_MANY[language], wants_xml(request))
        refusal.headers["Retry-After"] = str(ratelimit.retry_after(wait))
        return refusal
    pool = await get_pool(request)  # only once the request is acceptable
    complaint_code, kind = await open311.file_request(
        pool,
        form,
        language,
        settings=request.app.state.settings,
        cipher=request.app.state.cipher,
    )
    data = [
        {
            "service_request_id": complaint_code,
            "service_notice": FILED_NOTICES[kind][language],
            "account_id": None,
        }
    ]
    return answer(request, data, "service_requests", "request", status_code=201)


@router.get(
    "/requests.xml",
    summary="Open311: find complaints, as XML",
    **documented(True, None, 400, 404),
)
@router.get(
    "/requests.json",
    summary="Open311: find complaints (public fields only)",
    **documented(False, list[Open311Request], 400, 404),
)
async def list_requests(
    request: Request,
    pool: PoolDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    language = locale(request)
    wanted = request_filter(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        now=clock.now(),
    )
    found = await open311.find_requests(pool, wanted)
    return answer(request, _shaped(found, language), "service_requests", "request")


@router.get(
    "/requests/{service_request_id}.xml",
    summary="Open311: one complaint, as XML",
    **documented(True, None, 404),
)
@router.get(
    "/requests/{service_request_id}.json",
    summary="Open311: one complaint",
    **documented(False, list[Open311Request], 404),
)
async def get_request(service_request_id: str, request: Request, pool: PoolDep) -> Response:
    found = await open311.one_request(pool, service_request_id)
    return answer(request, _shaped([found], locale(request)), "service_requests", "request")
