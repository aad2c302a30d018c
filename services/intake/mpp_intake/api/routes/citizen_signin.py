"""Citizen sign-in for the online application: a one-time code sent by SMS
or WhatsApp, exchanged for a short-lived citizen session. The JSON API
(`/v1/citizen/...`) and its page twins (`/online/masuk`, `/online/kode`,
`/online/keluar`); after sign-in the pages go on to `/online`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, field_validator, model_validator

from mpp_intake.api.citizen_auth import CITIZEN_COOKIE
from mpp_intake.api.deps import CipherDep, CitizenDep
from mpp_intake.domain import identity
from mpp_intake.settings import IntakeSettings
from mpp_intake.usecases import citizen_signin
from mpp_shared.contacts import InvalidValue, checked
from mpp_shared.errors import Invalid, Language, TooManyRequests
from mpp_shared.pii import mask_nik, mask_phone
from mpp_shared.web import LanguageDep, PoolDep
from mpp_shared.web.auth import PUBLIC
from mpp_shared.web.pages import SECURITY_HEADERS, PagesDep, page_language

router = APIRouter(prefix="/v1/citizen", tags=["citizen sign-in"])
pages_router = APIRouter(prefix="/online", include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store"}
FormField = Annotated[str, Form()]


def _settings(request: Request) -> IntakeSettings:
    settings: IntakeSettings = request.app.state.settings
    return settings


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- the JSON API -------------------------------------------------------------


class SignInCodeRequest(BaseModel):
    nik: str = Field(description="The resident's 16-digit NIK", examples=["3506042602660001"])
    phone: str = Field(
        description="The mobile number the code is sent to", examples=["081234567890"]
    )
    channel: Literal["sms", "whatsapp"] = "sms"
    language: Literal["id", "en"] | None = Field(
        default=None, description="Language of the message; default: the request's"
    )

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str) -> str:
        return str(checked(identity.validate_nik, value))

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return str(checked(identity.normalise_phone, value))


class SignInCodeSent(BaseModel):
    request_id: uuid.UUID
    channel: Literal["sms", "whatsapp"]
    expires_at: datetime
    detail: str


class SessionRequest(BaseModel):
    """The code, with the request it answers (or the NIK and phone it was sent for)."""

    code: str = Field(pattern=r"^\s*\d{6}\s*$", description="The 6-digit code received")
    request_id: uuid.UUID | None = None
    nik: str | None = None
    phone: str | None = None

    @field_validator("nik")
    @classmethod
    def _nik(cls, value: str | None) -> str | None:
        return None if value is None else str(checked(identity.validate_nik, value))

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else str(checked(identity.normalise_phone, value))

    @model_validator(mode="after")
    def _which_code(self) -> SessionRequest:
        if self.request_id is None and (self.nik is None or self.phone is None):
            raise ValueError(
                "give request_id, or nik and phone / isi request_id, atau nik dan phone"
            )
        return self


class SessionOpened(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class SessionPublic(BaseModel):
    nik_masked: str
    phone_masked: str
    channel: Literal["sms", "whatsapp"]
    expires_at: datetime


def _sent_words(channel: str, language: Language) -> str:
    via = "WhatsApp" if channel == "whatsapp" else "SMS"
    if language == "en":
        return f"If the details are right, a sign-in code is on its way by {via}."
    return f"Bila data benar, kode masuk sedang dikirim lewat {via}."


@router.post(
    "/signin-codes",
    status_code=202,
    response_model=SignInCodeSent,
    dependencies=[PUBLIC],
    summary="Ask for a one-time sign-in code (sent by SMS or WhatsApp)",
    description=(
        "Always the same answer, whether or not the NIK has applied before. "
        "429 with Retry-After past the limits per NIK, per phone and per address."
    ),
)
async def request_signin_code(
    body: SignInCodeRequest,
    request: Request,
    pool: PoolDep,
    cipher: CipherDep,
    language: LanguageDep,
) -> Any:
    words = body.language or language
    sent = await citizen_signin.request_code(
        pool,
        settings=_settings(request),
        cipher=cipher,
        nik=body.nik,
        phone=body.phone,
        channel=body.channel,
        language=words,
        client_address=_client(request),
    )
    return SignInCodeSent(
        request_id=sent.request_id,
        channel=sent.channel,
        expires_at=sent.expires_at,
        detail=_sent_words(sent.channel, language),
    )


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOpened,
    dependencies=[PUBLIC],
    summary="Exchange a sign-in code for a citizen session token",
    description="One answer (422 on `code`) for a wrong, expired, used or unknown code; "
    "the 5th wrong try ends the code.",
)
async def open_session(
    body: SessionRequest, request: Request, pool: PoolDep, cipher: CipherDep
) -> Any:
    opened = await citizen_signin.open_session(
        pool,
        settings=_settings(request),
        cipher=cipher,
        request_id=body.request_id,
        nik=body.nik,
        phone=body.phone,
        code=body.code.strip(),
        client_address=_client(request),
    )
    return SessionOpened(token=opened.token, expires_at=opened.expires_at)


@router.get("/sessions/current", response_model=SessionPublic, summary="Who is signed in")
async def current_session(citizen: CitizenDep) -> Any:
    return SessionPublic(
        nik_masked=mask_nik(citizen.nik),
        phone_masked=mask_phone(citizen.phone),
        channel=citizen.channel,
        expires_at=citizen.expires_at,
    )


@router.delete("/sessions/current", status_code=204, summary="Sign out (end the session)")
async def end_session(citizen: CitizenDep, pool: PoolDep) -> Response:
    await citizen_signin.end_session(pool, citizen)
    return Response(status_code=204)


# --- the pages ------------------------------------------------------------------


def _lang_query(language: Language, **more: str) -> str:
    query = {**more, **({"lang": "en"} if language == "en" else {})}
    return "?" + urlencode(query) if query else ""


def _signin_form(
    request: Request,
    pages: PagesDep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return pages.render(
        request,
        "online_signin.html",
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        lang_query=_lang_query(page_language(request)),
        values=values or {"nik": "", "phone": "", "channel": "sms"},
        errors=errors or {},
    )


def _message(error: InvalidValue, language: Language) -> str:
    pair = identity.MESSAGES[error.code]
    return pair[1] if language == "en" else pair[0]


def _refusal_words(refusal: Invalid | TooManyRequests, language: Language) -> str:
    return refusal.message_en if language == "en" else refusal.message_id


@pages_router.get("/masuk", response_class=HTMLResponse, dependencies=[PUBLIC])
async def signin_page(request: Request, pages: PagesDep) -> Response:
    return _signin_form(request, pages)


@pages_router.post("/masuk", response_class=HTMLResponse, dependencies=[PUBLIC])
async def signin_from_form(
    request: Request,
    pages: PagesDep,
    pool: PoolDep,
    cipher: CipherDep,
    nik: FormField = "",
    phone: FormField = "",
    channel: FormField = "sms",
) -> Response:
    language = page_language(request)
    values = {"nik": nik[:40], "phone": phone[:40], "channel": channel}
    errors: dict[str, str] = {}
    checked_nik = checked_phone = ""
    try:
        checked_nik = identity.validate_nik(nik)
    except InvalidValue as error:
        errors["nik"] = _message(error, language)
    try:
        checked_phone = identity.normalise_phone(phone)
    except InvalidValue as error:
        errors["phone"] = _message(error, language)
    if channel not in ("sms", "whatsapp"):
        errors["channel"] = (
            "Pilih SMS atau WhatsApp" if language == "id" else "Choose SMS or WhatsApp"
        )
    if errors:
        return _signin_form(request, pages, values=values, errors=errors, status_code=422)
    try:
        sent = await citizen_signin.request_code(
            pool,
            settings=_settings(request),
            cipher=cipher,
            nik=checked_nik,
            phone=checked_phone,
            channel="whatsapp" if channel == "whatsapp" else "sms",
            language=language,
            client_address=_client(request),
        )
    except TooManyRequests as refusal:
        return _signin_form(
            request,
            pages,
            values=values,
            errors={"form": _refusal_words(refusal, language)},
            status_code=429,
            headers={"Retry-After": str(refusal.extra["retry_after"])},
        )
    target = "/online/kode" + _lang_query(language, request=str(sent.request_id), via=sent.channel)
    return RedirectResponse(target, status_code=303, headers={**SECURITY_HEADERS, **NO_STORE})


def _code_form(
    request: Request,
    pages: PagesDep,
    *,
    request_id: str,
    via: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return pages.render(
        request,
        "online_signin_code.html",
        status_code=status_code,
        headers=NO_STORE,
        lang_query=_lang_query(page_language(request)),
        request_id=request_id,
        via="WhatsApp" if via == "whatsapp" else "SMS",
        minutes=_settings(request).citizen_code_ttl_seconds // 60,
        error=error,
    )


@pages_router.get("/kode", response_class=HTMLResponse, dependencies=[PUBLIC])
async def code_page(request: Request, pages: PagesDep) -> Response:
    request_id = request.query_params.get("request", "")
    try:
        uuid.UUID(request_id)
    except ValueError:
        return RedirectResponse(
            "/online/masuk" + _lang_query(page_language(request)),
            status_code=303,
            headers={**SECURITY_HEADERS, **NO_STORE},
        )
    return _code_form(
        request, pages, request_id=request_id, via=request.query_params.get("via", "")
    )


@pages_router.post("/kode", response_class=HTMLResponse, dependencies=[PUBLIC])
async def code_from_form(
    request: Request,
    pages: PagesDep,
    pool: PoolDep,
    cipher: CipherDep,
    request_id: FormField = "",
    code: FormField = "",
    via: FormField = "",
) -> Response:
    language = page_language(request)
    try:
        asked = uuid.UUID(request_id)
    except ValueError:
        return RedirectResponse("/online/masuk" + _lang_query(language), status_code=303)
    typed = "".join(code.split())
    settings = _settings(request)
    try:
        if not (len(typed) == 6 and typed.isdigit()):
            raise citizen_signin.wrong_code()
        opened = await citizen_signin.open_session(
            pool,
            settings=settings,
            cipher=cipher,
            request_id=asked,
            nik=None,
            phone=None,
            code=typed,
            client_address=_client(request),
        )
    except (Invalid, TooManyRequests) as refusal:
        return _code_form(
            request,
            pages,
            request_id=str(asked),
            via=via,
            error=_refusal_words(refusal, language),
            status_code=429 if isinstance(refusal, TooManyRequests) else 422,
        )
    answer = RedirectResponse(
        "/online" + _lang_query(language), status_code=303, headers={**SECURITY_HEADERS, **NO_STORE}
    )
    answer.set_cookie(
        CITIZEN_COOKIE,
        opened.token,
        max_age=settings.citizen_session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_intake_url.startswith("https://"),
    )
    return answer


@pages_router.post("/keluar", response_class=HTMLResponse)
async def signout_from_form(request: Request, citizen: CitizenDep, pool: PoolDep) -> Response:
    await citizen_signin.end_session(pool, citizen)
    answer = RedirectResponse(
        "/online/masuk" + _lang_query(page_language(request)),
        status_code=303,
        headers={**SECURITY_HEADERS, **NO_STORE},
    )
    answer.delete_cookie(CITIZEN_COOKIE, path="/", httponly=True, samesite="lax")
    return answer
