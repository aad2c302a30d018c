"""Notify's reaction to every consumed event, in the consumer's inbox
transaction (so a redelivered event changes nothing):

- every domain event is journalled and fanned out to the OPD webhooks that
  subscribe to it;
- a citizen-facing event becomes one message on the citizen's channel, in
  their language, queued in the delivery log (at most one per event, channel
  and recipient); the dispatcher sends it after the commit;
- a missed complaint deadline becomes one e-mail to the supervisor's desk;
- a village's report not followed up in time becomes one e-mail to its
  kecamatan's supervisor (KECAMATAN_SUPERVISOR_EMAILS, else SUPERVISOR_EMAIL).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from mpp_notify.assistant.templates import template_message
from mpp_notify.channels.base import Channel
from mpp_notify.delivery import quiet_hours
from mpp_notify.domain.recipients import Recipient, choose
from mpp_notify.domain.template_variables import variables_for
from mpp_notify.settings import NotifySettings
from mpp_notify.store import delivery_log, recipients
from mpp_notify.usecases import signin_codes
from mpp_notify.usecases.message_text import render_message
from mpp_notify.webhooks.fanout import SUBSCRIBABLE_TOPICS, record_and_fan_out
from mpp_shared import clock
from mpp_shared.events import CloudEvent, EventData, build_event
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.schemas import (
    ComplaintEscalatedV1,
    ComplaintFiledV1,
    NotificationRecordedV1,
    PopulationFollowUpOverdueV1,
    SignInCodeRequestedV1,
)
from mpp_shared.events.topics import Topic
from mpp_shared.messaging import outbox
from mpp_shared.pii import FieldCipher, open_sealed
from mpp_shared.sql_rows import Row
from mpp_shared.telemetry import current_trace_id

SOURCE = "/mpp/notify"
# Every domain stream: each event is journalled for webhooks, some become
# messages; and `mpp.citizen` (sign-in codes), only sent, never journalled.
CONSUMED_TOPICS = sorted(SUBSCRIBABLE_TOPICS | {Topic.CITIZEN})


def _now() -> datetime:
    return clock.now()


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
            **{
                event_type: self.handle
                for event_type, model in registered_types().items()
                if model.topic in SUBSCRIBABLE_TOPICS
            },
            SignInCodeRequestedV1.event_type: self.send_signin_code,
        }

    async def send_signin_code(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        """A one-time sign-in code, by SMS or WhatsApp (usecases.signin_codes)."""
        data = event.typed_data()
        assert isinstance(data, SignInCodeRequestedV1)
        queued = await signin_codes.queue_signin_code(
            conn,
            event,
            data,
            cipher=self.cipher,
            seal_private_key=self.settings.seal_private_ring(),
            provider=self.channels[data.channel].provider,
            now=self.clock(),
            templates=self.settings.whatsapp_templates,
        )
        if queued is not None:
            self.on_message_queued()

    async def handle(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        if await record_and_fan_out(conn, event):
            self.on_webhook_queued()
        data = event.typed_data()
        if isinstance(data, ComplaintEscalatedV1):
            await self.tell_supervisor(conn, event, data)
        elif isinstance(data, PopulationFollowUpOverdueV1):
            await self.tell_kecamatan(conn, event, data)
        elif type(data).citizen_facing:
            await self.tell_citizen(conn, event, data)

    async def tell_supervisor(
        self, conn: asyncpg.Connection, event: CloudEvent, data: ComplaintEscalatedV1
    ) -> None:
        """A missed complaint deadline goes to the supervisor, once, by e-mail."""
        if self.settings.supervisor_email:
            supervisor = Recipient("email", self.settings.supervisor_email, "id")
            await self.queue(conn, event, data, supervisor, "complaint", data.complaint_id)

    async def tell_kecamatan(
        self, conn: asyncpg.Connection, event: CloudEvent, data: PopulationFollowUpOverdueV1
    ) -> None:
        """A village's report not followed up in time goes to the supervisor of
        its kecamatan, once, by e-mail."""
        address = (
            self.settings.kecamatan_supervisor_emails.get(data.kecamatan_code)
            or self.settings.supervisor_email
        )
        if address:
            supervisor = Recipient("email", address, "id")
            await self.queue(conn, event, data, supervisor, "population_report", data.report_id)

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
        await recipients.lock_subject(conn, subject)
        if "contact_sealed" in type(data).model_fields:
            await self.meet_contact(conn, event, data, subject_type, subject_id)
            return
        known = await recipients.known_subject(conn, subject_type, subject_id)
        if known is None:
            await recipients.await_contact(conn, event.id, subject)
            return
        if known.contact_enc is None:
            return  # nobody to tell (anonymous, or no contact given)
        contact = json.loads(self.cipher.decrypt(known.contact_enc, context="contact"))
        recipient = choose(contact)
        if recipient is not None:
            await self.queue(conn, event, data, recipient, subject_type, subject_id)

    async def meet_contact(
        self,
        conn: asyncpg.Connection,
        event: CloudEvent,
        data: EventData,
        subject_type: str,
        subject_id: uuid.UUID,
    ) -> None:
        """The subject's first event: keep the contact it names (or that it
        names none), tell it, then the events that overtook it."""
        sealed = getattr(data, "contact_sealed", None)
        contact = open_sealed(sealed, self.settings.seal_private_ring()) if sealed else None
        contact_enc = (
            self.cipher.encrypt(json.dumps(contact), context="contact") if contact else None
        )
        waiting = await recipients.keep_contact(conn, subject_type, subject_id, contact_enc)
        recipient = choose(contact) if contact else None
        if recipient is None:
            return  # nobody to tell (anonymous, or no contact given)
        if not (isinstance(data, ComplaintFiledV1) and data.channel == "whatsapp"):
            # (A complaint filed over WhatsApp was answered with its code there.)
            await self.queue(conn, event, data, recipient, subject_type, subject_id)
        # Those that overtook it, in the order they happened.
        for waited in sorted(
            (CloudEvent.model_validate(envelope) for envelope in waiting), key=lambda e: e.time
        ):
            await self.queue(conn, waited, waited.typed_data(), recipient, subject_type, subject_id)

    def hold_until(self, event_type: str, variables: dict[str, Any]) -> datetime | None:
        """The end of quiet hours at the pickup point, for a message that can wait."""
        if quiet_hours.is_urgent(event_type):
            return None
        point = variables.get("pickup_point")
        zone = self.settings.point_time_zones.get(point or "", self.settings.time_zone)
        return quiet_hours.held_until(
            self.clock(), ZoneInfo(zone), self.quiet_start, self.quiet_end
        )

    def whatsapp_template(
        self, event_type: str, recipient: Recipient, variables: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The approved template a WhatsApp message goes as outside the 24-hour
        window (the dispatcher decides when it sends)."""
        if recipient.channel != "whatsapp":
            return None
        return template_message(
            self.settings.whatsapp_templates,
            self.settings.whatsapp_default_templates,
            event_type,
            recipient.language,
            variables,
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
        """Log the event's message to `recipient` (once per event, channel and
        recipient) and announce it; due now, or held until quiet hours end."""
        variables = variables_for(data, recipient.language)
        rendered = await render_message(
            conn, event.type, recipient.channel, recipient.language, variables
        )
        held = self.hold_until(event.type, variables)
        message = delivery_log.NewMessage(
            id=uuid.uuid4(),
            source_event_id=event.id,
            source_event_type=event.type,
            channel=recipient.channel,
            provider=self.channels[recipient.channel].provider,
            recipient_index=self.cipher.blind_index(
                f"{recipient.channel}:{recipient.address}", context="recipient"
            ),
            recipient_masked=recipient.masked,
            recipient_enc=self.cipher.encrypt(recipient.address, context="recipient-address"),
            language=recipient.language,
            subject=rendered.subject,
            body=rendered.body,
            status="held" if held else "queued",
            urgent=quiet_hours.is_urgent(event.type),
            next_attempt_at=held or self.clock(),
            application_id=subject_id if subject_type == "application" else None,
            complaint_id=subject_id if subject_type == "complaint" else None,
            tracking_code=variables.get("tracking_code"),
            trace_id=current_trace_id(),
            template=self.whatsapp_template(event.type, recipient, variables),
        )
        announced = _announcement(message, key=str(subject_id))
        if not await delivery_log.insert(conn, message, along=(announced,)):
            return
        if not held:
            self.on_message_queued()


def _announcement(message: delivery_log.NewMessage, *, key: str) -> Row:
    """The message's notification event, for the outbox with it."""
    recorded = NotificationRecordedV1(
        notification_id=message.id,
        source_event_id=message.source_event_id,
        source_event_type=message.source_event_type,
        channel=message.channel,
        recipient_masked=message.recipient_masked,
        status=message.status,
        application_id=message.application_id,
        complaint_id=message.complaint_id,
    )
    return outbox.row(
        build_event(recorded, source=SOURCE, subject=str(message.id)),
        topic=recorded.topic,
        key=key,
    )


def _subject(data: EventData) -> tuple[str, uuid.UUID]:
    complaint_id = getattr(data, "complaint_id", None)  # every complaint event names it
    if isinstance(complaint_id, uuid.UUID):
        return "complaint", complaint_id
    application_id = getattr(data, "application_id", None)
    if isinstance(application_id, uuid.UUID):
        return "application", application_id
    raise TypeError(f"{type(data).__name__} names no application or complaint")
