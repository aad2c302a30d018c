"""The complaints service's public pages (server-rendered, no script,
Bahasa Indonesia unless `?lang=en` or the browser prefers English):

- /complaints/new: the form of a report of any kind (aspirasi, pengaduan,
  permintaan informasi; GET), filed (POST, an ordinary HTML
  form) through the same use case, validation and rate limit as
  POST /v1/complaints (channel web); 303 to the status page, or the form again
  (422) with each error next to its field;
- /complaints/status: a form asking for the complaint code (GET ?code=...
  redirects 303 to the status page);
- /complaints/status/{code}: where the complaint stands (the JSON twin is
  GET /v1/complaint-status/{code}); an unknown code gets a friendly 404 page.

No page shows the reporter's name or contact, nor the complaint's
description."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mpp_complaints.api import ratelimit
from mpp_complaints.api.complaint_form import (
    FIELDS,
    KIND_CHOICES,
    kept_values,
    read_form,
    refusal_errors,
)
from mpp_complaints.api.deps import Settings
from mpp_complaints.usecases import categories, filing, status
from mpp_shared import codes
from mpp_shared.errors import Invalid, NotFound, TooManyRequests
from mpp_shared.idempotency import StoredAnswer
from mpp_shared.web import PoolDep
from mpp_shared.web.auth import PUBLIC
from mpp_shared.web.pages import app_pages, page_language

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

FormField = Annotated[str, Form()]
FIELD_LIMIT = 8000  # characters kept of any field shown again


def _lang_query(request: Request) -> str:
    """`?lang=..` to keep on the next address, when the reader chose it."""
    asked = request.query_params.get("lang", "").lower()
    return f"?lang={asked}" if asked in ("id", "en") else ""


def render_page(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: object,
) -> HTMLResponse:
    return app_pages(request).render(
        request,
        template,
        status_code=status_code,
        headers=headers,
        lang_query=_lang_query(request),
        **context,
    )


async def _form_page(
    request: Request,
    pool: PoolDep,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    active = await categories.list_categories(pool)
    return render_page(
        request,
        "complaint_new.html",
        status_code=status_code,
        categories=active,
        kinds=KIND_CHOICES,
        values=values or kept_values({}),
        errors=errors or {},
    )


def _too_many(request: Request, refusal: TooManyRequests) -> HTMLResponse:
    language = page_language(request)
    return render_page(
        request,
        "complaint_message.html",
        status_code=429,
        headers={"Retry-After": str(refusal.extra["retry_after"])},
        title=("Terlalu banyak permintaan", "Too many requests"),
        message=refusal.message_en if language == "en" else refusal.message_id,
    )


@router.get("/complaints/new", response_class=HTMLResponse)
async def complaint_form(request: Request, pool: PoolDep) -> HTMLResponse:
    return await _form_page(request, pool)


@router.post("/complaints/new", response_class=HTMLResponse)
async def file_from_form(
    request: Request,
    pool: PoolDep,
    settings: Settings,
    kind: FormField = "",
    category: FormField = "",
    description: FormField = "",
    tracking_code: FormField = "",
    anonymous: FormField = "",
    confidential: FormField = "",
    reporter_name: FormField = "",
    phone: FormField = "",
    email: FormField = "",
    publication_consent: FormField = "",
) -> Response:
    typed = (kind, category, description, tracking_code, anonymous, confidential, reporter_name)
    given = dict(zip(FIELDS, (*typed, phone, email, publication_consent), strict=True))
    language = page_language(request)
    reading = read_form(given, language)
    values = {k: v[:FIELD_LIMIT] if isinstance(v, str) else v for k, v in reading.values.items()}
    if reading.complaint is None:
        return await _form_page(
            request, pool, values=values, errors=reading.errors, status_code=422
        )
    if (wait := await ratelimit.filing_wait(request)) > 0:
        return _too_many(request, ratelimit.too_many(wait))
    try:
        filed = await filing.file_complaint(
            pool,
            reading.complaint,
            idempotency_key=None,
            settings=settings,
            cipher=request.app.state.cipher,
        )
    except Invalid as refused:  # e.g. a category deactivated meanwhile
        errors = refusal_errors(refused, language)
        return await _form_page(request, pool, values=values, errors=errors, status_code=422)
    # No Idempotency-Key here, so never a stored answer; read it all the same.
    code = filed.body["complaint_code"] if isinstance(filed, StoredAnswer) else filed.complaint_code
    return RedirectResponse(f"/complaints/status/{quote(code, safe='')}{_lang_query(request)}", 303)


@router.get("/complaints/status", response_class=HTMLResponse)
async def status_form(request: Request, code: str | None = None) -> Response:
    if code is None:
        return render_page(request, "complaint_lookup.html", code="", message=None)
    wanted = codes.normalise(code)[:40]
    if not wanted:
        language = page_language(request)
        return render_page(
            request,
            "complaint_lookup.html",
            status_code=422,
            code="",
            message="Isi kode pengaduan Anda" if language == "id" else "Enter your complaint code",
        )
    return RedirectResponse(
        f"/complaints/status/{quote(wanted, safe='')}{_lang_query(request)}", 303
    )


@router.get("/complaints/status/{code}", response_class=HTMLResponse)
async def status_page(code: str, request: Request, pool: PoolDep) -> HTMLResponse:
    if (wait := await ratelimit.lookup_wait(request)) > 0:
        return _too_many(request, ratelimit.too_many_lookups(wait))
    language = page_language(request)
    try:
        found = await status.status_by_code(pool, code[:40], language)
    except NotFound as unknown:
        return render_page(
            request,
            "complaint_lookup.html",
            status_code=404,
            code=codes.normalise(code)[:40],
            message=unknown.message_en if language == "en" else unknown.message_id,
        )
    return render_page(request, "complaint_status.html", s=found)
