"""The WhatsApp assistant's use cases: an inbound message answered once, and
the providers' status reports applied to the delivery log.

An inbound message is handled exactly once: a repeat of its id (WhatsApp
retries webhooks) is dropped before anything is asked of the other
services, and the id is inserted in the transaction that queues the reply,
so two deliveries racing each other queue one reply. The internal calls
(intake's catalog and tracking, complaints' filing, see assistant.clients)
happen before that transaction, never inside it; filing a complaint carries
the message id as Idempotency-Key. The reply goes out through the normal
delivery queue (logged like every message) on WhatsApp, inside the 24-hour
window the message just opened.

Per sender: the conversation (language, last menu) expires after
ASSISTANT_IDLE_MINUTES; past ASSISTANT_MESSAGES_PER_HOUR messages are kept
(and deduplicated) but not answered; ASSISTANT_COMPLAINTS_PER_DAY complaints
at most, of every kind (complaints itself has no per-address limit for this
channel). A report filed here never carries a publication consent."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from mpp_notify.assistant import conversation as words
from mpp_notify.assistant.clients import NotFoundThere, Refused, ServiceClients, Unavailable
from mpp_notify.assistant.conversation import Intent, Language
from mpp_notify.assistant.payload import InboundMessage, StatusReport
from mpp_notify.delivery import reports
from mpp_notify.settings import NotifySettings
from mpp_notify.store import conversations, delivery_log, inbound_messages
from mpp_shared import clock
from mpp_shared.events import build_event
from mpp_shared.events.schemas import NotificationRecordedV1
from mpp_shared.messaging.outbox import enqueue
from mpp_shared.pii import FieldCipher, mask_phone
from mpp_shared.telemetry import current_trace_id

SOURCE = "/mpp/notify"
REPLY_TYPE = "mpp.whatsapp.assistant.reply"
# A reply's "source event" id: derived from the inbound message id.
REPLY_NAMESPACE = uuid.UUID("5b0c7d0e-8f7a-4f7e-9a51-0c1d6f1e2a16")

log = logging.getLogger(__name__)


@dataclass
class Answer:
    text: str | None
    kind: str  # what was done, kept with the inbound message
    language: Language
    state: str = "start"
    menu: list[str] = field(default_factory=list)
    tracking_code: str | None = None
    complaint_id: uuid.UUID | None = None


class Assistant:
    def __init__(
        self,
        settings: NotifySettings,
        cipher: FieldCipher,
        clients: ServiceClients,
        *,
        provider: str,
        on_queued: Callable[[], None] = lambda: None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.settings = settings
        self.cipher = cipher
        self.clients = clients
        self.provider = provider
        self.on_queued = on_queued
        self.now = now

    def sender_index(self, sender: str) -> bytes:
        """The sender's blind index: the recipient index of the delivery log."""
        return self.cipher.blind_index(f"whatsapp:{sender}", context="recipient")

    def sender_indexes(self, sender: str) -> list[bytes]:
        """Under every configured index key, the active one first (searches)."""
        return self.cipher.blind_indexes(f"whatsapp:{sender}", context="recipient")

    async def handle(self, pool: asyncpg.Pool, message: InboundMessage) -> bool:
        """Answer one inbound message; False when it was handled before."""
        if await inbound_messages.seen(pool, message.message_id):
            return False
        index = self.sender_index(message.sender)
        indexes = self.sender_indexes(message.sender)
        now = self.now()
        known = await conversations.find(pool, indexes)
        fresh = (
            known is not None
            and known.updated_at is not None
            and now - known.updated_at <= timedelta(minutes=self.settings.assistant_idle_minutes)
        )
        language: Language = "en" if known is not None and known.language == "en" else "id"
        menu = known.menu if known is not None and fresh else []
        recent = await inbound_messages.count_since(pool, indexes, now - timedelta(hours=1))
        if recent >= self.settings.assistant_messages_per_hour:
            answer = Answer(None, "limited", language, menu=menu)
        else:
            answer = await self.answer(
                pool, words.understand(message.text), message, menu, language
            )
        async with pool.acquire() as conn, conn.transaction():
            if not await inbound_messages.insert(conn, message.message_id, index, answer.kind):
                return False
            await conversations.save(
                conn,
                sender_indexes=indexes,
                sender_enc=self.cipher.encrypt(message.sender, context="whatsapp-sender"),
                language=answer.language,
                state=answer.state,
                menu=answer.menu,
                at=min(message.sent_at, now),
            )
            if answer.text is not None:
                await self.queue_reply(conn, message, index, answer)
        if answer.text is not None:
            self.on_queued()
        return True

    async def answer(
        self,
        pool: asyncpg.Pool,
        intent: Intent,
        message: InboundMessage,
        menu: list[str],
        language: Language,
    ) -> Answer:
        """The reply to an intent; the fallback when a service does not answer."""
        if intent.kind == "language" and intent.language is not None:
            language = intent.language
        try:
            return await self._answer(pool, intent, message, menu, language)
        except Unavailable as exc:
            log.warning("WhatsApp assistant: %s", exc)
            return Answer(words.try_again_later(language), f"{intent.kind}_unavailable", language)

    async def _answer(
        self,
        pool: asyncpg.Pool,
        intent: Intent,
        message: InboundMessage,
        menu: list[str],
        language: Language,
    ) -> Answer:
        if intent.kind == "status":
            return await self._status(intent, language, menu)
        if intent.kind == "complaint":
            return await self._complaint(pool, intent, message, language, menu)
        if intent.kind == "online":
            url = self.settings.public_intake_url
            return Answer(words.online_link(url, language), "online", language, menu=menu)
        services = await self.clients.services(language)
        codes = [str(s["code"]) for s in services]
        if intent.kind == "service" and intent.number is not None:
            shown = menu or codes
            by_code = {str(s["code"]): s for s in services}
            chosen = shown[intent.number - 1] if 1 <= intent.number <= len(shown) else None
            if chosen in by_code:
                points = await self.clients.point_names(language)
                text = words.service_details(by_code[chosen], points, language)
                return Answer(text, "service", language, state="service", menu=shown)
        text = words.menu(services, language)
        if intent.kind == "language":
            text = (
                words.language_switched(language)
                + "\n\n"
                + words.menu(services, language, greet=False)
            )
        return Answer(text, intent.kind, language, state="menu", menu=codes)

    async def _status(self, intent: Intent, language: Language, menu: list[str]) -> Answer:
        if not intent.code:
            return Answer(words.status_needs_code(language), "status", language, menu=menu)
        try:
            found = await self.clients.track(intent.code, language)
        except NotFoundThere:
            text = words.status_unknown(intent.code, language)
        except Refused:
            text = words.status_invalid(intent.code, language)
        else:
            text = words.tracking_state(found, language)
        return Answer(text, "status", language, menu=menu, tracking_code=intent.code)

    async def _complaint(
        self,
        pool: asyncpg.Pool,
        intent: Intent,
        message: InboundMessage,
        language: Language,
        menu: list[str],
    ) -> Answer:
        said = intent.text or ""
        if intent.code:
            said = said.rsplit(maxsplit=1)[0] if len(said.split()) > 1 else ""
        kind = intent.report_kind
        if len(said) < words.MIN_COMPLAINT_LENGTH:
            return Answer(words.report_too_short(kind, language), "complaint_refused", language)
        since = self.now() - timedelta(days=1)
        filed_today = await inbound_messages.count_since(
            pool, self.sender_indexes(message.sender), since, "complaint"
        )
        if filed_today >= self.settings.assistant_complaints_per_day:
            return Answer(words.complaint_limit(language), "complaint_refused", language)
        try:
            filed = await self.clients.file_complaint(
                description=said,
                tracking_code=intent.code,
                phone=message.sender,
                language=language,
                message_id=message.message_id,
                kind=kind,
            )
        except (Refused, NotFoundThere):
            return Answer(words.report_too_short(kind, language), "complaint_refused", language)
        code = str(filed["complaint_code"])
        status_url = f"{self.settings.public_complaints_url.rstrip('/')}/complaints/status/{code}"
        return Answer(
            words.report_filed(kind, code, status_url, language),
            "complaint",
            language,
            menu=menu,
            tracking_code=intent.code,
            complaint_id=uuid.UUID(str(filed["id"])),
        )

    async def queue_reply(
        self, conn: asyncpg.Connection, message: InboundMessage, index: bytes, answer: Answer
    ) -> None:
        """The reply into the delivery log (due now) and its recorded event."""
        assert answer.text is not None
        reply = delivery_log.NewMessage(
            id=uuid.uuid4(),
            source_event_id=uuid.uuid5(REPLY_NAMESPACE, message.message_id),
            source_event_type=REPLY_TYPE,
            channel="whatsapp",
            provider=self.provider,
            recipient_index=index,
            recipient_masked=mask_phone(message.sender),
            recipient_enc=self.cipher.encrypt(message.sender, context="recipient-address"),
            language=answer.language,
            subject=None,
            body=answer.text,
            status="queued",
            urgent=True,
            next_attempt_at=self.now(),
            application_id=None,
            complaint_id=answer.complaint_id,
            tracking_code=answer.tracking_code,
            trace_id=current_trace_id(),
        )
        if not await delivery_log.insert(conn, reply):
            return
        recorded = NotificationRecordedV1(
            notification_id=reply.id,
            source_event_id=reply.source_event_id,
            source_event_type=reply.source_event_type,
            channel=reply.channel,
            recipient_masked=reply.recipient_masked,
            status=reply.status,
            complaint_id=reply.complaint_id,
        )
        await enqueue(
            conn,
            build_event(recorded, source=SOURCE, subject=str(reply.id)),
            topic=recorded.topic,
            key=str(reply.id),
        )


async def record_status_reports(
    pool: asyncpg.Pool, provider: str, found: list[StatusReport]
) -> int:
    """Apply each report to its message, one transaction each; how many
    messages changed (delivered or dead)."""
    changed = 0
    for report in found:
        async with pool.acquire() as conn, conn.transaction():
            if await reports.report(
                conn,
                provider=provider,
                provider_message_id=report.provider_message_id,
                status=report.status,
                at=report.at,
                error=report.error,
            ):
                changed += 1
    return changed


async def receive_webhook(
    pool: asyncpg.Pool,
    assistant: Assistant,
    messages: list[InboundMessage],
    found: list[StatusReport],
) -> dict[str, int]:
    """One webhook call: its status reports applied, its messages answered."""
    changed = await record_status_reports(pool, assistant.provider, found)
    answered = 0
    for message in messages:
        answered += int(await assistant.handle(pool, message))
    return {
        "messages": len(messages),
        "answered": answered,
        "statuses": len(found),
        "changed": changed,
    }
