"""Notify's reaction to every consumed event, in the consumer's inbox
transaction (so a redelivered event changes nothing):

- every domain event is journalled and fanned out to the OPD webhooks that
  subscribe to it;
- a citizen-facing event becomes one message on the citizen's channel, in
  their language, queued in the delivery log (at most one per event, channel
  and recipient); the dispatcher sends it after the commit;
- a missed complaint deadline becomes one e-mail to the supervisor's desk.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from mpp_notify.channels.base import Channel
from mpp_notify.delivery import quiet_hours
from mpp_notify.domain import templates
from mpp_notify.domain.recipients import Recipient, choose
from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks.fanout import SUBSCRIBABLE_TOPICS, record_and_fan_out
from mpp_shared.events import CloudEvent, EventData, build_event
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.schemas import ComplaintEscalatedV1, NotificationRecordedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, open_sealed
from mpp_shared.telemetry import current_trace_id

SOURCE = "/mpp/notify"
# Every domain stream: each event is journalled for webhooks, some become messages.
CONSUMED_TOPICS = sorted(SUBSCRIBABLE_TOPICS)


def _now() -> datetime:
    return datetime.now(UTC)


class Notifier:
    def __init__(
        self,
        settings: NotifySettings,
        cipher: FieldCipher,
        channels: dict[str, Channel],
        *,
        on_message_queued: Callable[[], None] = lambda: None,
        on_webhook_queued: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.settings = settings
        self.cipher = cipher
        self.channels = channels
        self.on_message_queued = on_message_queued
        self.on_webhook_queued = on_webhook_queued
        self.clock = clock
        self.quiet_start = quiet_hours.parse_clock(settings.quiet_hours_start)
        self.quiet_end = quiet_hours.parse_clock(settings.quiet_hours_end)

    @property
    def handlers(self) -> dict[str, Any]:
        return {
            event_type: self.handle
            for event_type, model in registered_types().items()
            if model.topic in CONSUMED_TOPICS
        }

    async def handle(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        if await record_and_fan_out(conn, event):
            self.on_webhook_queued()
        data = event.typed_data()
        if isinstance(data, ComplaintEscalatedV1):
            await self.tell_supervisor(conn, event, data)
        elif type(data).citizen_facing:
            await self.tell_citizen(conn, event, data)

    async def tell_supervisor(
        self, conn: asyncpg.Connection, event: CloudEvent, data: ComplaintEscalatedV1
    ) -> None:
        """A missed complaint deadline goes to the supervisor, once, by e-mail."""
        if self.settings.supervisor_email:
            supervisor = Recipient("email", self.settings.supervisor_email, "id")
            await self.queue(conn, event, data, supervisor, "complaint", data.complaint_id)

    async def tell_citizen(
        self, conn: asyncpg.Connection, event: CloudEvent, data: EventData
    ) -> None:
        """One message to the subject's citizen.

        The subject's first event (submitted / incomplete / filed) names the
        contact, or says there is none; later events find it in `recipients`.
        Topics are not ordered with each other, so a later event may arrive
        first (notify lagging on one topic after a restart or a rebalance): it
        then waits in the journal for the contact, and is told when it comes.
        """
        subject_type, subject_id = _subject(data)
        subject = f"{subject_type}:{subject_id}"
        # A contact arriving and an event waiting for it never miss each other,
        # even in two notify processes at once.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", subject)
        if "contact_sealed" in type(data).model_fields:
            sealed = getattr(data, "contact_sealed", None)
            contact = open_sealed(sealed, self.settings.notify_seal_private_key) if sealed else None
            await conn.execute(
                "INSERT INTO recipients (subject_type, subject_id, contact_enc) VALUES ($1, $2, $3) "
                "ON CONFLICT (subject_type, subject_id) DO UPDATE SET contact_enc = "
                "excluded.contact_enc WHERE recipients.contact_enc IS NULL",
                subject_type,
                subject_id,
                self.cipher.encrypt(json.dumps(contact), context="contact") if contact else None,
            )
            waiting = await conn.fetch(
                "UPDATE event_journal SET awaits_contact = NULL WHERE awaits_contact = $1 "
                "RETURNING envelope",
                subject,
            )
            recipient = choose(contact) if contact else None
            if recipient is None:
                return  # nobody to tell (anonymous, or no contact given)
            await self.queue(conn, event, data, recipient, subject_type, subject_id)
            # Those that overtook it, in the order they happened.
            for waited in sorted(
                (CloudEvent.model_validate(w["envelope"]) for w in waiting), key=lambda e: e.time
            ):
                await self.queue(
                    conn, waited, waited.typed_data(), recipient, subject_type, subject_id
                )
            return
        row = await conn.fetchrow(
            "SELECT contact_enc FROM recipients WHERE subject_type = $1 AND subject_id = $2",
            subject_type,
            subject_id,
        )
        if row is None:
            await conn.execute(
                "UPDATE event_journal SET awaits_contact = $2 WHERE event_id = $1",
                event.id,
                subject,
            )
            return
        if row["contact_enc"] is None:
            return  # nobody to tell (anonymous, or no contact given)
        contact = json.loads(self.cipher.decrypt(row["contact_enc"], context="contact"))
        recipient = choose(contact)
        if recipient is not None:
            await self.queue(conn, event, data, recipient, subject_type, subject_id)

    def hold_until(self, event_type: str, variables: dict[str, Any]) -> datetime | None:
        """The end of quiet hours at the pickup point, for a message that can wait."""
        if quiet_hours.is_urgent(event_type):
            return None
        point = variables.get("pickup_point")
        zone = self.settings.point_time_zones.get(point or "", self.settings.time_zone)
        return quiet_hours.held_until(
            self.clock(), ZoneInfo(zone), self.quiet_start, self.quiet_end
        )

    async def queue(
        self,
        conn: asyncpg.Connection,
        event: CloudEvent,
        data: EventData,
        recipient: Recipient,
        subject_type: str,
        subject_id: uuid.UUID,
    ) -> None:
        variables = templates.variables_for(data, recipient.language)
        rendered = await templates.render_message(
            conn, event.type, recipient.channel, recipient.language, variables
        )
        held = self.hold_until(event.type, variables)
        status = "held" if held else "queued"
        notification_id = uuid.uuid4()
        application_id = subject_id if subject_type == "application" else None
        complaint_id = subject_id if subject_type == "complaint" else None
        channel = self.channels[recipient.channel]
        inserted = await conn.fetchval(
            """
            INSERT INTO delivery_log (id, source_event_id, source_event_type, channel, provider,
                recipient_index, recipient_masked, recipient_enc, language, subject, body, status,
                urgent, next_attempt_at, application_id, complaint_id, tracking_code, trace_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                    $14, $15, $16, $17, $18)
            ON CONFLICT (source_event_id, channel, recipient_index) DO NOTHING
            RETURNING true
            """,
            notification_id,
            event.id,
            event.type,
            recipient.channel,
            channel.provider,
            self.cipher.blind_index(
                f"{recipient.channel}:{recipient.address}", context="recipient"
            ),
            recipient.masked,
            self.cipher.encrypt(recipient.address, context="recipient-address"),
            recipient.language,
            rendered.subject,
            rendered.body,
            status,
            quiet_hours.is_urgent(event.type),
            held or self.clock(),
            application_id,
            complaint_id,
            variables.get("tracking_code"),
            current_trace_id(),
        )
        if not inserted:
            return
        recorded = NotificationRecordedV1(
            notification_id=notification_id,
            source_event_id=event.id,
            source_event_type=event.type,
            channel=recipient.channel,
            recipient_masked=recipient.masked,
            status=status,
            application_id=application_id,
            complaint_id=complaint_id,
        )
        await enqueue(
            conn,
            build_event(recorded, source=SOURCE, subject=str(notification_id)),
            topic=recorded.topic,
            key=str(subject_id),
        )
        if not held:
            self.on_message_queued()


def _subject(data: EventData) -> tuple[str, uuid.UUID]:
    complaint_id = getattr(data, "complaint_id", None)  # every complaint event names it
    if isinstance(complaint_id, uuid.UUID):
        return "complaint", complaint_id
    application_id = getattr(data, "application_id", None)
    if isinstance(application_id, uuid.UUID):
        return "application", application_id
    raise TypeError(f"{type(data).__name__} names no application or complaint")
