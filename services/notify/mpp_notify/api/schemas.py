from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class NotificationPublic(BaseModel):
    """One message in the delivery log; the recipient only masked."""

    id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str
    provider: str
    recipient_masked: str
    language: str
    subject: str | None = None
    body: str
    status: str  # queued | held | sending | retrying | delivered | dead
    urgent: bool = True
    attempts: int = 0
    next_attempt_at: datetime | None = None
    provider_message_id: str | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    dead_at: datetime | None = None
    resends: int = 0
    application_id: uuid.UUID | None
    complaint_id: uuid.UUID | None
    tracking_code: str | None
    trace_id: str | None
    created_at: datetime
    updated_at: datetime | None = None


class AttemptPublic(BaseModel):
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # delivered | transient | permanent | interrupted
    status_code: int | None
    provider_message_id: str | None
    error: str | None


class NotificationDetail(NotificationPublic):
    attempts_log: list[AttemptPublic]


class NotificationList(BaseModel):
    items: list[NotificationPublic]
    count: int


class RecipientSearch(BaseModel):
    """A recipient's phone number or e-mail address, in the body (never in a URL)."""

    model_config = ConfigDict(extra="forbid")
    recipient: str = Field(min_length=3, max_length=254)
    limit: int = Field(default=100, ge=1, le=500)


# --- message templates --------------------------------------------------------


class TemplatePublic(BaseModel):
    """The template in force for one event type, channel and language."""

    event_type: str
    channel: str  # sms | whatsapp | email
    language: str  # id | en
    subject: str | None  # e-mail only
    body: str
    source: str  # default (shipped) | custom (changed over the API)
    version: int  # 0 for the shipped default
    updated_by: str | None
    updated_at: datetime | None
    variables: list[str]  # what the template may use
    filters: list[str]  # the MPP filters (Jinja2's built-in ones work too)
    # The shipped text, when the template is customised (one template only).
    default_subject: str | None = None
    default_body: str | None = None


class TemplateList(BaseModel):
    items: list[TemplatePublic]
    count: int


class TemplateUpdate(BaseModel):
    """A new text; checked before it is saved. `expected_version` is the
    version read (0 for the shipped default): a stale one is refused."""

    model_config = ConfigDict(extra="forbid")
    subject: str | None = Field(default=None, max_length=1000)
    body: str = Field(max_length=50_000)
    expected_version: int | None = Field(default=None, ge=0)


class TemplatePreviewRequest(BaseModel):
    """Render a draft (`subject` / `body`) or, without them, the template in
    force, with `data` (a full event payload) or the event's example."""

    model_config = ConfigDict(extra="forbid")
    event_type: str
    channel: str  # sms | whatsapp | email
    language: str = "id"  # id | en
    subject: str | None = Field(default=None, max_length=1000)
    body: str | None = Field(default=None, max_length=50_000)
    data: dict[str, object] | None = None


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
