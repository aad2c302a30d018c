"""Events of `mpp.notifications`, published by notify: what it sent to
citizens and officers, with masked recipients only."""

from __future__ import annotations

import uuid
from datetime import datetime

from mpp_shared.events.envelope import EventData
from mpp_shared.events.topics import Topic


class NotificationEvent(EventData):
    """Fields every notification event starts with (the base itself is not
    published). Each model ends with `application_id` and `complaint_id`,
    declared there: pydantic places a base's fields first, never last."""

    topic = Topic.NOTIFICATIONS

    notification_id: uuid.UUID
    source_event_id: uuid.UUID
    source_event_type: str
    channel: str


# No docstring: a model's docstring is its description in the published
# contract, and adding one would change the contract.
class NotificationRecordedV1(NotificationEvent):
    event_type = "mpp.notification.recorded.v1"

    recipient_masked: str
    status: str
    application_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None


class NotificationDeliveredV1(NotificationEvent):
    """The message reached the citizen: delivered to the handset where the provider
    reports it (WhatsApp status callbacks, SMS delivery reports), else accepted
    by the provider (SMS gateway without reports, SMTP)."""

    event_type = "mpp.notification.delivered.v1"

    provider: str
    provider_message_id: str | None = None
    recipient_masked: str
    attempts: int
    delivered_at: datetime
    application_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None


class NotificationDeadV1(NotificationEvent):
    """A message that could not be delivered: refused by the provider, or still
    failing after the last retry. It stays in the delivery log for a resend."""

    event_type = "mpp.notification.dead.v1"

    provider: str
    recipient_masked: str
    attempts: int
    error: str
    dead_at: datetime
    application_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None
