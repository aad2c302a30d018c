"""The WhatsApp Cloud API webhook (public: Meta calls it, authenticated by
its signature, not a token) and the SMS gateway's delivery reports.

- `GET /v1/whatsapp/webhook`: Meta's subscription check (`hub.mode=subscribe`,
  `hub.verify_token` = WHATSAPP_VERIFY_TOKEN) answered with `hub.challenge`.
- `POST /v1/whatsapp/webhook`: inbound messages (the assistant answers each
  once) and status callbacks (sent/delivered/read/failed, applied to the
  delivery log). `X-Hub-Signature-256` is checked over the raw body with
  WHATSAPP_APP_SECRET in constant time before anything is read; unsigned or
  wrongly signed calls are refused (401) and counted
  (`mpp.notify.provider_callbacks.refused`).
- `POST /v1/providers/sms/reports`: the SMS gateway's delivery reports,
  `Authorization: Bearer <SMS_REPORT_TOKEN>`,
  `{"message_id": "...", "status": "delivered" | "failed" | "sent", "error": "..."}`."""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse
from opentelemetry import metrics
from pydantic import BaseModel, Field

from mpp_notify.assistant.payload import StatusReport, parse
from mpp_notify.assistant.signature import signature_valid
from mpp_notify.usecases import whatsapp_assistant
from mpp_notify.usecases.whatsapp_assistant import Assistant
from mpp_shared import clock
from mpp_shared.web import ApiError, PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(tags=["whatsapp"], dependencies=[PUBLIC])
MAX_BODY = 1_000_000  # bytes; Meta's payloads are a few kB

_refused = metrics.get_meter("mpp.notify.callbacks").create_counter(
    "mpp.notify.provider_callbacks.refused",
    unit="{call}",
    description="Provider webhook calls refused: unsigned, wrongly signed, wrong token",
)


def _refuse(provider: str, reason: str, status_code: int = 401) -> ApiError:
    _refused.add(1, {"provider": provider, "reason": reason})
    return ApiError(
        status_code,
        "unauthorized" if status_code == 401 else "forbidden",
        "Permintaan tidak ditandatangani dengan benar",
        "The request is not correctly signed",
    )


@router.get(
    "/v1/whatsapp/webhook",
    response_class=PlainTextResponse,
    summary="WhatsApp webhook verification (Meta's subscription check)",
    responses={403: {"description": "Not a subscription check with the verify token"}},
)
async def verify_webhook(
    request: Request,
    mode: Annotated[str, Query(alias="hub.mode")] = "",
    token: Annotated[str, Query(alias="hub.verify_token")] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)] = "",
) -> PlainTextResponse:
    expected: str = request.app.state.notify_settings.whatsapp_verify_token
    if mode != "subscribe" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise _refuse("whatsapp_cloud", "verify_token", 403)
    return PlainTextResponse(challenge)


@router.post(
    "/v1/whatsapp/webhook",
    summary="WhatsApp inbound messages and status callbacks (signed by Meta)",
    responses={
        400: {"description": "The signed body is not JSON"},
        401: {"description": "Missing or wrong X-Hub-Signature-256"},
        413: {"description": "The body is larger than 1 MB"},
    },
)
async def receive_webhook(
    request: Request,
    pool: PoolDep,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", "Isi permintaan terlalu besar", "The body is too large")
    secret: str = request.app.state.notify_settings.whatsapp_app_secret
    if not signature_valid(raw, signature, secret):
        raise _refuse("whatsapp_cloud", "missing" if not signature else "bad_signature")
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "bad_json", "Isi bukan JSON", "The body is not JSON") from exc
    messages, reports = parse(doc, clock.now())
    assistant: Assistant = request.app.state.whatsapp_assistant
    return await whatsapp_assistant.receive_webhook(pool, assistant, messages, reports)


class SmsReport(BaseModel):
    message_id: str = Field(min_length=1, max_length=200)
    status: Literal["sent", "delivered", "failed"]
    error: str | None = Field(default=None, max_length=500)


@router.post(
    "/v1/providers/sms/reports",
    summary="The SMS gateway's delivery report of one message (Bearer SMS_REPORT_TOKEN)",
    responses={401: {"description": "Missing or wrong token"}},
)
async def sms_report(
    body: SmsReport,
    request: Request,
    pool: PoolDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    expected: str = request.app.state.notify_settings.sms_report_token
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _refuse("sms_gateway", "missing" if not given else "bad_token")
    report = StatusReport(body.message_id, body.status, clock.now(), body.error)
    changed = await whatsapp_assistant.record_status_reports(pool, "sms_gateway", [report])
    return {"changed": changed}
