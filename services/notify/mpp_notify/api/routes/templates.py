"""Message templates over the API (supervisors and admins): read the template
in force for every event type, channel and language; change one (checked
before it is saved, audited, with a version check); put the shipped default
back; preview a draft with an event's data or its example.

A template that would fail or leak at send time is refused with a 422 that
names the line, the variable or the filter, never accepted and found out when
a citizen's message is due.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from mpp_notify.api.errors import invalid_event_data
from mpp_notify.api.schemas import TemplateList, TemplatePreviewRequest, TemplateUpdate
from mpp_notify.domain.template_rendering import Channel, TemplateKey
from mpp_notify.usecases import template_preview, templates
from mpp_notify.usecases.template_preview import EventDataInvalid, PreviewDraft, TemplatePreview
from mpp_notify.usecases.templates import TemplatePublic
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Language
from mpp_shared.web import PoolDep
from mpp_shared.web.auth import require_roles

router = APIRouter(prefix="/v1/templates", tags=["templates"])
Editor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]
ONE = "/{event_type}/{channel}/{language}"
STALE: dict[int | str, dict[str, Any]] = {
    409: {"description": "expected_version is stale; the current version is given"}
}


@router.get("", response_model=TemplateList, summary="Every template in force, with its source")
async def list_templates(
    pool: PoolDep,
    _editor: Editor,
    event_type: str | None = None,
    channel: Channel | None = None,
    language: Language | None = None,
) -> Any:
    items = await templates.list_templates(
        pool, event_type=event_type, channel=channel, language=language
    )
    return TemplateList(items=items, count=len(items))


@router.post(
    "/preview",
    response_model=TemplatePreview,
    summary="Render a draft or the template in force with an event's data or its example",
)
async def preview_template(body: TemplatePreviewRequest, pool: PoolDep, _editor: Editor) -> Any:
    draft = PreviewDraft(
        event_type=body.event_type,
        channel=body.channel,
        language=body.language,
        subject=body.subject,
        body=body.body,
        data=body.data,
    )
    try:
        return await template_preview.preview_template(pool, draft)
    except EventDataInvalid as exc:
        raise invalid_event_data(exc) from None


@router.get(ONE, response_model=TemplatePublic, summary="One template in force")
async def get_template(
    event_type: str, channel: Channel, language: Language, pool: PoolDep, _editor: Editor
) -> Any:
    return await templates.show_template(pool, TemplateKey(event_type, channel, language))


@router.put(
    ONE,
    response_model=TemplatePublic,
    summary="Change a template (checked against the event's example before it is saved)",
    responses=STALE,
)
async def update_template(
    event_type: str,
    channel: Channel,
    language: Language,
    body: TemplateUpdate,
    pool: PoolDep,
    editor: Editor,
) -> Any:
    return await templates.change_template(
        pool,
        editor,
        TemplateKey(event_type, channel, language),
        subject=body.subject,
        body=body.body,
        expected_version=body.expected_version,
    )


@router.delete(
    ONE,
    response_model=TemplatePublic,
    summary="Put the shipped default back",
    responses=STALE,
)
async def reset_template(
    event_type: str,
    channel: Channel,
    language: Language,
    pool: PoolDep,
    editor: Editor,
    expected_version: Annotated[int | None, Query(ge=0)] = None,
) -> Any:
    return await templates.reset_template(
        pool, editor, TemplateKey(event_type, channel, language), expected_version=expected_version
    )
