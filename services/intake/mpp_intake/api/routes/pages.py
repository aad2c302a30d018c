"""Intake's public pages, server-rendered, no script: tracking by code (the
twin of GET /v1/track/{code}) and the service catalog with its requirements
(the twin of GET /v1/services). Bahasa Indonesia unless the reader asks for
English; never a NIK, a name or a contact."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mpp_intake.api.catalog_schemas import ServicePublic
from mpp_intake.domain import tracking_code as codes
from mpp_intake.domain.wording import datetime_words, opening_hours_lines
from mpp_intake.usecases import catalog, tracking
from mpp_shared.errors import Invalid, Language, NotFound, Refusal
from mpp_shared.web import PoolDep
from mpp_shared.web.auth import PUBLIC
from mpp_shared.web.pages import SECURITY_HEADERS, PagesDep, page_language

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

# Where an application stands is never kept by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}
# The tone of the status box, by progress.
_TONES = {
    "incomplete": "warn",
    "returned": "warn",
    "on_hold": "warn",
    "uncollected": "warn",
    "rejected": "bad",
    "cancelled": "bad",
    "ready_for_pickup": "ok",
    "picked_up": "ok",
}


def _lang_query(language: Language) -> str:
    """Carried on the links between intake's pages so English stays English."""
    return "?lang=en" if language == "en" else ""


@router.get("/track", response_class=HTMLResponse)
async def track_form(request: Request, pages: PagesDep, code: str | None = None) -> Response:
    """The form; with `?code=` a redirect (303) to the code's page."""
    language = page_language(request)
    if code is not None:
        normalised = codes.normalise(code)
        if normalised:
            target = f"/track/{quote(normalised, safe='')}"
            if language == "en" and request.query_params.get("lang"):
                target += "?" + urlencode({"lang": "en"})
            return RedirectResponse(
                target, status_code=303, headers={**SECURITY_HEADERS, **NO_STORE}
            )
        return pages.render(
            request,
            "track_form.html",
            status_code=422,
            headers=NO_STORE,
            code="",
            error="Isi kode pelacakan." if language == "id" else "Enter a tracking code.",
        )
    return pages.render(request, "track_form.html", headers=NO_STORE, code="", error=None)


@router.get("/track/{tracking_code}", response_class=HTMLResponse)
async def track_page(
    tracking_code: str, request: Request, pool: PoolDep, pages: PagesDep
) -> Response:
    language = page_language(request)
    try:
        found = await tracking.track(pool, tracking_code, language)
    except NotFound as refusal:
        return _refused(request, pages, refusal, tracking_code, status_code=404)
    except Invalid as refusal:
        return _refused(request, pages, refusal, tracking_code, status_code=422)
    if found.expected_ready_at is not None:
        promise = datetime_words(found.expected_ready_at, language)
    elif found.status in ("incomplete", "returned"):
        promise = (
            "Set once the papers are complete"
            if language == "en"
            else "Ditetapkan setelah persyaratan lengkap"
        )
    else:
        promise = "-"
    return pages.render(
        request,
        "track.html",
        headers=NO_STORE,
        tr=found,
        tone=_TONES.get(found.status, ""),
        promise=promise,
        missing=[f"{m.name} ({m.note})" if m.note else m.name for m in found.missing_requirements],
        hours=opening_hours_lines(found.pickup_point_hours, language),
        steps=[
            {"label": s.label, "iso": s.at.isoformat(), "when": datetime_words(s.at, language)}
            for s in found.timeline
        ],
        lang_q=_lang_query(language),
        code="",
        error=None,
    )


def _refused(
    request: Request, pages: PagesDep, refusal: Refusal, asked: str, *, status_code: int
) -> HTMLResponse:
    en = page_language(request) == "en"
    if status_code == 404:
        heading = "Tracking code not found" if en else "Kode pelacakan tidak ditemukan"
        message = refusal.message_en if en else refusal.message_id
    else:
        heading = "This tracking code is not valid" if en else "Kode pelacakan tidak sah"
        errors: list[dict[str, Any]] = refusal.extra.get("errors") or [{}]
        message = errors[0].get("message_en" if en else "message_id") or (
            refusal.message_en if en else refusal.message_id
        )
        message = message[:1].upper() + message[1:]
    return pages.render(
        request,
        "track_refused.html",
        status_code=status_code,
        headers=NO_STORE,
        heading=heading,
        message=message,
        asked=asked[:40],
        code=asked[:40],
        error=None,
    )


@router.get("/services", response_class=HTMLResponse)
async def services_page(request: Request, pool: PoolDep, pages: PagesDep) -> Response:
    language = page_language(request)
    services = [ServicePublic.of(s, language) for s in await catalog.current_services(pool)]
    return pages.render(request, "services.html", services=services, lang_q=_lang_query(language))


@router.get("/services/{code}", response_class=HTMLResponse)
async def service_page(code: str, request: Request, pool: PoolDep, pages: PagesDep) -> Response:
    language = page_language(request)
    try:
        detail = await catalog.service_detail(pool, code)
    except NotFound as refusal:
        return pages.render(
            request,
            "service_unknown.html",
            status_code=404,
            message=refusal.message_en if language == "en" else refusal.message_id,
            lang_q=_lang_query(language),
        )
    points = [
        {
            "name": p.name,
            "address": p.address,
            "hours": opening_hours_lines(p.opening_hours, language),
        }
        for p in detail.points
    ]
    return pages.render(
        request,
        "service.html",
        s=ServicePublic.of(detail.service, language),
        points=points,
        lang_q=_lang_query(language),
    )
