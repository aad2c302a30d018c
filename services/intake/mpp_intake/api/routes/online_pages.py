"""The online application as pages (mobile first, no script): the home of a
signed-in resident (`/online`), the services offered online
(`/online/layanan`), a service's requirements with one upload form per
requirement and the submission (`/online/ajukan/{service}`), and one
application like a receipt, with the correction of returned papers
(`/online/permohonan/{id}`). Plain form posts; each page calls the same use
case as its JSON twin under `/v1/citizen/...`. Sign-in pages: part of
`citizen_signin` (`/online/masuk`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mpp_intake.api.catalog_schemas import ServicePublic
from mpp_intake.api.deps import CipherDep, CitizenDep
from mpp_intake.api.routes.citizen_applications import file_response, intake_settings, read_upload
from mpp_intake.domain import identity
from mpp_intake.domain.wording import datetime_words, step_words
from mpp_intake.usecases import catalog, online_application, online_follow_up
from mpp_intake.usecases.online_views import DraftView
from mpp_shared.contacts import InvalidValue
from mpp_shared.errors import Language, Refusal
from mpp_shared.web import PoolDep
from mpp_shared.web.errors import status_of
from mpp_shared.web.pages import SECURITY_HEADERS, PagesDep, page_language

router = APIRouter(prefix="/online", include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}
FormText = Annotated[str, Form()]
FormFile = Annotated[UploadFile | None, File()]
_TONES = {"incomplete": "warn", "returned": "warn", "rejected": "bad", "verified": "ok"}


def _q(language: Language) -> str:
    return "?" + urlencode({"lang": "en"}) if language == "en" else ""


def _see(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303, headers={**SECURITY_HEADERS, **NO_STORE})


def _words(refusal: Refusal, language: Language) -> str:
    """A refusal in the reader's language, the field's own words when it names one."""
    errors: list[dict[str, Any]] = refusal.extra.get("errors") or []
    if errors and errors[0].get("message_id"):
        text = str(errors[0]["message_en" if language == "en" else "message_id"])
        return text[:1].upper() + text[1:]
    return refusal.message_en if language == "en" else refusal.message_id


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} kB"


@router.get("", response_class=HTMLResponse)
async def home(
    request: Request, citizen: CitizenDep, pool: PoolDep, cipher: CipherDep, pages: PagesDep
) -> Response:
    language = page_language(request)
    own = await online_follow_up.my_applications(pool, cipher, citizen, language)
    drafts = await online_application.my_drafts(pool, citizen, language)
    return pages.render(
        request,
        "online_home.html",
        headers=NO_STORE,
        applications=own,
        drafts=drafts,
        tones=_TONES,
        q=_q(language),
    )


@router.get("/layanan", response_class=HTMLResponse)
async def choose_service(
    request: Request, _citizen: CitizenDep, pool: PoolDep, pages: PagesDep
) -> Response:
    language = page_language(request)
    offered = [
        ServicePublic.of(s, language)
        for s in await catalog.current_services(pool)
        if "online" in s.channels
    ]
    return pages.render(
        request, "online_services.html", headers=NO_STORE, services=offered, q=_q(language)
    )


async def _apply_page(
    request: Request,
    pages: PagesDep,
    draft: DraftView,
    *,
    error: str | None = None,
    error_field: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    return pages.render(
        request,
        "online_apply.html",
        status_code=status_code,
        headers=NO_STORE,
        d=draft,
        error=error,
        error_field=error_field,
        values=values or {"full_name": "", "email": ""},
        size=_size,
        q=_q(language),
    )


@router.get("/ajukan/{service_code}", response_class=HTMLResponse)
async def apply_page(
    service_code: str, request: Request, citizen: CitizenDep, pool: PoolDep, pages: PagesDep
) -> Response:
    language = page_language(request)
    try:
        draft = await online_application.start_draft(
            pool,
            settings=intake_settings(request),
            citizen=citizen,
            service_code=service_code,
            language=language,
        )
    except Refusal as refusal:
        return pages.render(
            request,
            "message.html",
            status_code=404,
            headers=NO_STORE,
            title="Layanan tidak tersedia online",
            title_en="Service not available online",
            message=_words(refusal, language),
        )
    return await _apply_page(request, pages, draft)


@router.post("/ajukan/{service_code}/berkas", response_class=HTMLResponse)
async def upload_paper(
    service_code: str,
    request: Request,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    pages: PagesDep,
    document: FormText = "",
    file: FormFile = None,
) -> Response:
    language = page_language(request)
    settings = intake_settings(request)
    draft = await online_application.start_draft(
        pool, settings=settings, citizen=citizen, service_code=service_code, language=language
    )
    data = await read_upload(file, settings) if file is not None else b""
    try:
        await online_application.upload_to_draft(
            pool,
            settings=settings,
            cipher=cipher,
            citizen=citizen,
            draft_id=draft.id,
            document=document,
            data=data,
            language=language,
        )
    except Refusal as refusal:
        return await _apply_page(
            request,
            pages,
            draft,
            error=_words(refusal, language),
            error_field=f"file-{_requirement_of(draft, document)}",
            status_code=status_of(refusal),
        )
    return _see(f"/online/ajukan/{service_code}{_q(language)}#berkas")


def _requirement_of(draft: DraftView, document: str) -> str:
    for r in draft.requirements:
        if any(p.code == document for p in r.accepted):
            return r.code
    return "unknown"


@router.post("/ajukan/{service_code}/hapus", response_class=HTMLResponse)
async def remove_paper(
    service_code: str,
    request: Request,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    pages: PagesDep,
    file_id: FormText = "",
) -> Response:
    language = page_language(request)
    settings = intake_settings(request)
    draft = await online_application.start_draft(
        pool, settings=settings, citizen=citizen, service_code=service_code, language=language
    )
    try:
        await online_application.remove_from_draft(
            pool,
            settings=settings,
            cipher=cipher,
            citizen=citizen,
            draft_id=draft.id,
            file_id=uuid.UUID(file_id),
            language=language,
        )
    except (ValueError, Refusal):
        pass  # already gone: the page shows what is there
    return _see(f"/online/ajukan/{service_code}{_q(language)}")


@router.post("/ajukan/{service_code}/kirim", response_class=HTMLResponse)
async def submit(
    service_code: str,
    request: Request,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    pages: PagesDep,
    full_name: FormText = "",
    email: FormText = "",
    pickup_point: FormText = "",
) -> Response:
    language = page_language(request)
    settings = intake_settings(request)
    values = {"full_name": full_name[:120], "email": email[:120]}
    draft = await online_application.start_draft(
        pool, settings=settings, citizen=citizen, service_code=service_code, language=language
    )
    name = " ".join(full_name.split())
    problem: tuple[str, str] | None = None
    if not 2 <= len(name) <= 120:
        problem = (
            "full_name",
            "Isi nama lengkap sesuai KTP."
            if language == "id"
            else "Enter your full name as on your identity card.",
        )
    checked_email: str | None = None
    if problem is None and email.strip():
        try:
            checked_email = identity.validate_email(email.strip())
        except InvalidValue as error:
            pair = identity.MESSAGES[error.code]
            problem = ("email", pair[1] if language == "en" else pair[0])
    if problem is not None:
        return await _apply_page(
            request,
            pages,
            draft,
            error=problem[1],
            error_field=problem[0],
            values=values,
            status_code=422,
        )
    try:
        answer = await online_application.submit_draft(
            pool,
            settings=settings,
            cipher=cipher,
            citizen=citizen,
            draft_id=draft.id,
            command=online_application.SubmitDraft(
                full_name=name, email=checked_email, pickup_point=pickup_point or None
            ),
            language=language,
        )
    except Refusal as refusal:
        return await _apply_page(
            request,
            pages,
            draft,
            error=_words(refusal, language),
            error_field="submit",
            values=values,
            status_code=status_of(refusal),
        )
    return _see(f"/online/permohonan/{answer.id}{_q(language)}")


async def _application_page(
    request: Request,
    pages: PagesDep,
    pool: PoolDep,
    cipher: CipherDep,
    citizen: CitizenDep,
    application_id: uuid.UUID,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    language = page_language(request)
    try:
        found = await online_follow_up.my_application(
            pool, cipher=cipher, citizen=citizen, application_id=application_id, language=language
        )
    except Refusal as refusal:
        return pages.refusal(request, refusal, status_code=404)
    app = found.application
    return pages.render(
        request,
        "online_application.html",
        status_code=status_code,
        headers=NO_STORE,
        a=app,
        files=found.files,
        pending=found.pending,
        tone=_TONES.get(app.status, ""),
        status_words=step_words(app.progress, language),
        promise=datetime_words(app.expected_ready_at, language) if app.expected_ready_at else None,
        submitted=datetime_words(app.submitted_at, language),
        accepting=app.status in ("returned", "incomplete"),
        error=error,
        size=_size,
        q=_q(language),
    )


@router.get("/permohonan/{application_id}", response_class=HTMLResponse)
async def application_page(
    application_id: uuid.UUID,
    request: Request,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    pages: PagesDep,
) -> Response:
    return await _application_page(request, pages, pool, cipher, citizen, application_id)


@router.post("/permohonan/{application_id}/berkas", response_class=HTMLResponse)
async def upload_correction(
    application_id: uuid.UUID,
    request: Request,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    pages: PagesDep,
    document: FormText = "",
    file: FormFile = None,
) -> Response:
    language = page_language(request)
    settings = intake_settings(request)
    data = await read_upload(file, settings) if file is not None else b""
    try:
        await online_follow_up.upload_correction(
            pool,
            settings=settings,
            cipher=cipher,
            citizen=citizen,
            application_id=application_id,
            document=document,
            data=data,
            language=language,
        )
    except Refusal as refusal:
        return await _application_page(
            request,
            pages,
            pool,
            cipher,
            citizen,
            application_id,
            error=_words(refusal, language),
            status_code=status_of(refusal),
        )
    return _see(f"/online/permohonan/{application_id}{_q(language)}")


@router.post("/permohonan/{application_id}/kirim-ulang", response_class=HTMLResponse)
async def resubmit(
    application_id: uuid.UUID,
    request: Request,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
    pages: PagesDep,
) -> Response:
    language = page_language(request)
    try:
        await online_follow_up.resubmit(
            pool,
            settings=intake_settings(request),
            cipher=cipher,
            citizen=citizen,
            application_id=application_id,
            language=language,
        )
    except Refusal as refusal:
        return await _application_page(
            request,
            pages,
            pool,
            cipher,
            citizen,
            application_id,
            error=_words(refusal, language),
            status_code=status_of(refusal),
        )
    return _see(f"/online/permohonan/{application_id}{_q(language)}")


@router.get("/permohonan/{application_id}/berkas/{file_id}")
async def own_file(
    application_id: uuid.UUID,
    file_id: uuid.UUID,
    request: Request,
    citizen: CitizenDep,
    pool: PoolDep,
    cipher: CipherDep,
) -> Response:
    content = await online_follow_up.my_file(
        pool,
        settings=intake_settings(request),
        cipher=cipher,
        citizen=citizen,
        application_id=application_id,
        file_id=file_id,
    )
    return file_response(content)
