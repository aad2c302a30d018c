"""Documents' reactions to application events: a verified application becomes
a queued job (`mpp_documents.usecases.jobs.queue_job`), in the consumer's
transaction with the inbox record of the event."""

from __future__ import annotations

import asyncpg

from mpp_documents.settings import DocumentsSettings
from mpp_documents.usecases.jobs import queue_job
from mpp_shared.events import CloudEvent
from mpp_shared.events.schemas import ApplicationVerifiedV1
from mpp_shared.messaging.consumer import EventHandler


def make_handlers(settings: DocumentsSettings) -> dict[str, EventHandler]:
    async def application_verified(conn: asyncpg.Connection, event: CloudEvent) -> None:
        await queue_job(conn, ApplicationVerifiedV1.model_validate(event.data), settings)

    return {ApplicationVerifiedV1.event_type: application_verified}
