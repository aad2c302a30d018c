"""Message templates over the API (supervisors and admins): read the template
in force for every event type, channel and language; change one (checked
before it is saved, audited, with a version check); put the shipped default
back; preview a draft with an event's data or its example.

A template that would fail or leak at send time is refused here with a 422
that names the line, the variable or the filter, never accepted and found
out when a citizen's message is due.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from mpp_notify.api.schemas import (
    TemplateList,
    TemplatePreview,
    TemplatePreviewRequest,
    TemplatePublic,
    TemplateUpdate,
)
from mpp_notify.domain import templates
from mpp_notify.domain.templates import TemplateRefused, TemplateText
from mpp_shared import audit
from mpp_shared.auth import Principal, Role, require_roles
from mpp_shared.events.envelope import registered_types
from mpp_shared.transitions import refuse_stale_or_illegal
from mpp_shared.web import ApiError, PoolDep

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Editor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
Channel = Literal["sms", "whatsapp", "email"]
Language = Literal["id", "en"]
NOUN = ("Templat", "The template")
ONE = "/{event_type}/{channel}/{language}"

UPSERT = """
INSERT INTO message_templates (event_type, channel, language, subject, body, version, updated_by)
VALUES ($1, $2, $3, $4, $5, 1, $6)
ON CONFLICT (event_type, channel, language) DO UPDATE
    SET subject = EXCLUDED.subject, body = EXCLUDED.body,
        version = message_templates.version + 1,
        updated_by = EXCLUDED.updated_by, updated_at = now()
    WHERE $7::integer IS NULL OR message_templates.version = $7
RETURNING event_type, channel, language, subject, body, version, updated_by, updated_at
"""
DELETE = "DELETE FROM message_templates WHERE event_type = $1 AND channel = $2 AND language = $3"


@router.get("", response_model=TemplateList, summary="Every template in force, with its source")
async def list_templates(
    pool: PoolDep,
    _editor: Editor,
    event_type: str | None = None,
    channel: Channel | None = None,
    language: Language | None = None,
) -> Any:
    if event_type is not None and event_type not in templates.TEMPLATES:
        known = templates.template_event_types()
        raise ApiError.invalid(
            "event_type",
            "unknown_event_type",
            f"tidak punya templat pesan; yang ada: {', '.join(known)}",
            f"has no message templates; these do: {', '.join(known)}",
        )
    stored = {
        (r["event_type"], r["channel"], r["language"]): r
        for r in await pool.fetch(templates.SELECT_TEMPLATES)
    }
    items = [
        _public(t, c, lang, stored.get((t, c, lang)), with_default=False)
        for t in templates.template_event_types()
        for c in templates.CHANNELS
        for lang in templates.LANGUAGES
        if event_type in (None, t) and channel in (None, c) and language in (None, lang)
    ]
    return TemplateList(items=items, count=len(items))


@router.post(
    "/preview",
    response_model=TemplatePreview,
    summary="Render a draft or the template in force with an event's data or its example",
)
async def preview_template(body: TemplatePreviewRequest, pool: PoolDep, _editor: Editor) -> Any:
    try:
        templates.check_target(body.event_type, body.channel, body.language)
    except TemplateRefused as exc:
        raise _refused(exc) from None
    data = None
    if body.data is not None:
        try:
            data = registered_types()[body.event_type].model_validate(body.data)
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", "data", *e["loc"])} for e in exc.errors()]
            ) from None
    subject, text, source = body.subject, body.body, "draft"
    if text is None or (body.channel == "email" and subject is None):
        row = await pool.fetchrow(
            templates.SELECT_TEMPLATE, body.event_type, body.channel, body.language
        )
        in_force = (
            TemplateText(row["subject"], row["body"])
            if row is not None
            else templates.default_text(body.event_type, body.channel, body.language)
        )
        if body.subject is None and body.body is None:
            source = "default" if row is None else "custom"
        subject = in_force.subject if subject is None else subject
        text = in_force.body if text is None else text
    try:
        shown = templates.preview(
            body.event_type, body.channel, body.language, TemplateText(subject, text), data
        )
    except TemplateRefused as exc:
        raise _refused(exc) from None
    return TemplatePreview(
        event_type=body.event_type,
        channel=body.channel,
        language=body.language,
        source=source,
        subject=shown.subject,
        body=shown.body,
        characters=shown.characters,
        sms_segments=shown.sms_segments,
        variables_used=shown.variables_used,
    )


@router.get(ONE, response_model=TemplatePublic, summary="One template in force")
async def get_template(
    event_type: str, channel: Channel, language: Language, pool: PoolDep, _editor: Editor
) -> Any:
    _known(event_type)
    row = await pool.fetchrow(templates.SELECT_TEMPLATE, event_type, channel, language)
    return _public(event_type, channel, language, row, with_default=True)


@router.put(
    ONE,
    response_model=TemplatePublic,
    summary="Change a template (checked against the event's example before it is saved)",
    responses={409: {"description": "expected_version is stale; the current version is given"}},
)
async def update_template(
    event_type: str,
    channel: Channel,
    language: Language,
    body: TemplateUpdate,
    pool: PoolDep,
    editor: Editor,
) -> Any:
    _known(event_type)
    subject = (body.subject or "").strip() or None
    try:
        templates.check(event_type, channel, language, subject, body.body)
    except TemplateRefused as exc:
        raise _refused(exc) from None
    key = (event_type, channel, language)
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow(templates.SELECT_TEMPLATE + " FOR UPDATE", *key)
        _refuse_stale(current, body.expected_version)
        saved = await conn.fetchrow(
            UPSERT, *key, subject, body.body, editor.subject, body.expected_version
        )
        if saved is None:  # created or changed meanwhile: 409 with the version in force
            _refuse_stale(await conn.fetchrow(templates.SELECT_TEMPLATE, *key), -1)
        await audit.record(
            conn,
            editor,
            action="template.updated",
            target_type="message_template",
            target_id="/".join(key),
            detail={
                "version": saved["version"],
                "subject": subject,
                "body": body.body,
                **_previous(current),
            },
        )
    return _public(event_type, channel, language, saved, with_default=True)


@router.delete(
    ONE,
    response_model=TemplatePublic,
    summary="Put the shipped default back",
    responses={409: {"description": "expected_version is stale; the current version is given"}},
)
async def reset_template(
    event_type: str,
    channel: Channel,
    language: Language,
    pool: PoolDep,
    editor: Editor,
    expected_version: Annotated[int | None, Query(ge=0)] = None,
) -> Any:
    _known(event_type)
    key = (event_type, channel, language)
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow(templates.SELECT_TEMPLATE + " FOR UPDATE", *key)
        _refuse_stale(current, expected_version)
        if current is not None:
            await conn.execute(DELETE, *key)
            await audit.record(
                conn,
                editor,
                action="template.reset",
                target_type="message_template",
                target_id="/".join(key),
                detail=_previous(current),
            )
    return _public(event_type, channel, language, None, with_default=False)


# --- helpers ------------------------------------------------------------------


def _known(event_type: str) -> None:
    if event_type not in templates.TEMPLATES:
        known = templates.template_event_types()
        raise ApiError(
            404,
            "not_found",
            f"Jenis peristiwa {event_type} tidak punya templat pesan; yang ada: {', '.join(known)}",
            f"Event type {event_type} has no message templates; these do: {', '.join(known)}",
            {"event_types": known},
        )


def _public(
    event_type: str,
    channel: str,
    language: str,
    row: asyncpg.Record | None,
    *,
    with_default: bool,
) -> TemplatePublic:
    default = templates.default_text(event_type, channel, language)
    shown = with_default and row is not None
    return TemplatePublic(
        event_type=event_type,
        channel=channel,
        language=language,
        subject=default.subject if row is None else row["subject"],
        body=default.body if row is None else row["body"],
        source="default" if row is None else "custom",
        version=0 if row is None else row["version"],
        updated_by=None if row is None else row["updated_by"],
        updated_at=None if row is None else row["updated_at"],
        variables=templates.allowed_variables(event_type),
        filters=list(templates.MPP_FILTERS),
        default_subject=default.subject if shown else None,
        default_body=default.body if shown else None,
    )


def _refuse_stale(current: asyncpg.Record | None, expected_version: int | None) -> None:
    """409 with the version in force (0: the shipped default) when the writer read another."""
    refuse_stale_or_illegal(
        noun=NOUN,
        current="default" if current is None else "custom",
        target="custom",
        version=0 if current is None else current["version"],
        expected_version=expected_version,
        allowed=True,
    )


def _previous(current: asyncpg.Record | None) -> dict[str, Any]:
    if current is None:
        return {"previous_version": 0}
    return {
        "previous_version": current["version"],
        "previous_subject": current["subject"],
        "previous_body": current["body"],
    }


def _refused(exc: TemplateRefused) -> ApiError:
    """One 422 listing every problem, each naming its field."""
    errors = [
        {
            "field": p.field,
            "type": p.type,
            "message_id": p.message_id,
            "message_en": p.message_en,
            **p.detail,
        }
        for p in exc.problems
    ]
    return ApiError(
        422,
        "invalid",
        "Data tidak valid: " + "; ".join(f"{p.field}: {p.message_id}" for p in exc.problems),
        "The request is not valid: "
        + "; ".join(f"{p.field}: {p.message_en}" for p in exc.problems),
        {"errors": errors},
    )
