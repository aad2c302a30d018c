"""A template's preview for supervisors and admins: a draft, or the template in
force, checked as if it were saved and rendered with the event data given or
the event's example. Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from mpp_notify import templates
from mpp_notify.domain.template_check import check_target
from mpp_notify.domain.template_preview import preview
from mpp_notify.domain.template_rendering import TemplateKey, TemplateText
from mpp_notify.store import message_templates
from mpp_shared.events.envelope import EventData, registered_types


class TemplatePreview(BaseModel):
    event_type: str
    channel: str
    language: str
    source: str  # draft | default | custom
    subject: str | None
    body: str
    characters: int
    sms_segments: int  # as an SMS: GSM-7 160/153, else UCS-2 70/67 per segment
    variables_used: list[str]


@dataclass(frozen=True)
class PreviewDraft:
    """What to render: `subject` / `body` of a draft (those not given come
    from the template in force) with `data`, a full event payload, or the
    event's example."""

    event_type: str
    channel: str
    language: str
    subject: str | None = None
    body: str | None = None
    data: dict[str, Any] | None = None


class EventDataInvalid(Exception):
    """The event data given does not fit its event type; `errors` are
    pydantic's, located inside the data."""

    def __init__(self, errors: list[Any]) -> None:
        super().__init__(f"{len(errors)} invalid field(s) in the event data")
        self.errors = errors


async def preview_template(pool: asyncpg.Pool, draft: PreviewDraft) -> TemplatePreview:
    """The draft rendered (TemplateRefused when it could not be saved,
    EventDataInvalid when the data does not fit the event type)."""
    check_target(draft.event_type, draft.channel, draft.language)
    data = _event_data(draft)
    subject, body, source = draft.subject, draft.body, "draft"
    if body is None or (draft.channel == "email" and subject is None):
        in_force, saved = await _in_force(pool, draft)
        if draft.subject is None and draft.body is None:
            source = "custom" if saved else "default"
        subject = in_force.subject if subject is None else subject
        body = in_force.body if body is None else body
    shown = preview(
        draft.event_type, draft.channel, draft.language, TemplateText(subject, body), data
    )
    return TemplatePreview(
        event_type=draft.event_type,
        channel=draft.channel,
        language=draft.language,
        source=source,
        subject=shown.subject,
        body=shown.body,
        characters=shown.characters,
        sms_segments=shown.sms_segments,
        variables_used=shown.variables_used,
    )


def _event_data(draft: PreviewDraft) -> EventData | None:
    if draft.data is None:
        return None
    try:
        return registered_types()[draft.event_type].model_validate(draft.data)
    except ValidationError as exc:
        raise EventDataInvalid(list(exc.errors())) from None


async def _in_force(pool: asyncpg.Pool, draft: PreviewDraft) -> tuple[TemplateText, bool]:
    """The template in force, and whether officers saved it."""
    key = TemplateKey(draft.event_type, draft.channel, draft.language)
    async with pool.acquire() as conn:
        saved = await message_templates.find(conn, key)
    if saved is None:
        return templates.default_text(*key), False
    return TemplateText(saved.subject, saved.body), True
