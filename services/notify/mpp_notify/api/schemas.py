"""Request models of the delivery log and template routes, and the lists
they answer with (the items are the use cases' own models)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mpp_notify.usecases.notifications import NotificationPublic
from mpp_notify.usecases.templates import TemplatePublic


class NotificationList(BaseModel):
    items: list[NotificationPublic]
    count: int
    next_cursor: str | None = Field(
        default=None,
        description="The listing only: pass as `cursor` for the next page (keyset, "
        "`offset` is then ignored); null on the last page",
    )


class RecipientSearch(BaseModel):
    """A recipient's phone number or e-mail address, in the body (never in a URL)."""

    model_config = ConfigDict(extra="forbid")
    recipient: str = Field(min_length=3, max_length=254)
    limit: int = Field(default=100, ge=1, le=500)


# --- message templates --------------------------------------------------------


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
