"""Notify's reaction to every citizen-facing event: one message per event and
recipient, recorded in the delivery log (the "log" provider only records;
real channels plug in behind it)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from mpp_notify.domain import templates
from mpp_notify.domain.recipients import Recipient, choose
from mpp_shared.events import CloudEvent, EventData, build_event
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.schemas import ComplaintEscalatedV1, NotificationRecordedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, open_sealed
from mpp_shared.telemetry import current_trace_id

SOURCE = "/mpp/notify"
PROVIDER = "log"


class Notifier:
    def __init__(
        self, cipher: FieldCipher, seal_private_key: str, supervisor_email: str | None = None
    ) -> None:
        self.cipher = cipher
        self.seal_private_key = seal_private_key
        self.supervisor_email = supervisor_email

    @property
    def handlers(self) -> dict[str, Any]:
        found = {t: self.handle for t, model in registered_types().items() if model.citizen_facing}
        found[ComplaintEscalatedV1.event_type] = self.handle_escalation
        return found

    async def handle_escalation(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        """A missed complaint deadline goes to the supervisor, once, by e-mail."""
        data = event.typed_data()
        if not isinstance(data, ComplaintEscalatedV1) or not self.supervisor_email:
            return
        supervisor = Recipient("email", self.supervisor_email, "id")
        await self._record(conn, event, data, supervisor, "complaint", data.complaint_id)

    async def handle(self, conn: asyncpg.Connection, event: CloudEvent) -> None:
        data = event.typed_data()
        subject_type, subject_id = _subject(data)
        sealed = getattr(data, "contact_sealed", None)
        if sealed:
            contact = open_sealed(sealed, self.seal_private_key)
            await conn.execute(
                "INSERT INTO recipients (subject_type, subject_id, contact_enc) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING",
                subject_type,
                subject_id,
                self.cipher.encrypt(json.dumps(contact), context="contact"),
            )
        else:
            blob = await conn.fetchval(
                "SELECT contact_enc FROM recipients WHERE subject_type = $1 AND subject_id = $2",
                subject_type,
                subject_id,
            )
            if blob is None:
                return  # nobody to tell (anonymous, or no contact given)
            contact = json.loads(self.cipher.decrypt(blob, context="contact"))
        recipient = choose(contact)
        if recipient is None:
            return
        await self._record(conn, event, data, recipient, subject_type, subject_id)

    async def _record(
        self,
        conn: asyncpg.Connection,
        event: CloudEvent,
        data: EventData,
        recipient: Recipient,
        subject_type: str,
        subject_id: uuid.UUID,
    ) -> None:
        variables = data.model_dump(mode="json")
        variables["service"] = templates.service_label(variables, recipient.language)
        body = templates.render(event.type, recipient.language, variables)
        notification_id = uuid.uuid4()
        application_id = subject_id if subject_type == "application" else None
        complaint_id = subject_id if subject_type == "complaint" else None
        inserted = await conn.fetchval(
            """
            INSERT INTO delivery_log (id, source_event_id, source_event_type, channel, provider,
                recipient_index, recipient_masked, language, body, status,
                application_id, complaint_id, tracking_code, trace_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'delivered', $10, $11, $12, $13)
            ON CONFLICT (source_event_id, channel, recipient_index) DO NOTHING
            RETURNING true
            """,
            notification_id,
            event.id,
            event.type,
            recipient.channel,
            PROVIDER,
            self.cipher.blind_index(
                f"{recipient.channel}:{recipient.address}", context="recipient"
            ),
            recipient.masked,
            recipient.language,
            body,
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
            status="delivered",
            application_id=application_id,
            complaint_id=complaint_id,
        )
        await enqueue(
            conn,
            build_event(recorded, source=SOURCE, subject=str(notification_id)),
            topic=recorded.topic,
            key=str(subject_id),
        )


def _subject(data: EventData) -> tuple[str, uuid.UUID]:
    complaint_id = getattr(data, "complaint_id", None)  # every complaint event names it
    if isinstance(complaint_id, uuid.UUID):
        return "complaint", complaint_id
    application_id = getattr(data, "application_id", None)
    if isinstance(application_id, uuid.UUID):
        return "application", application_id
    raise TypeError(f"{type(data).__name__} names no application or complaint")
