"""A subscription's deliveries as its client works with them: send again the
journaled events of a time range (a redelivery, honouring Idempotency-Key)
and read the delivery log with every attempt.

A redelivery reaches back as far as the event journal's retention window,
also to events from before the subscription existed, and only to the types
the subscription takes. It is queued and audited in one transaction; the
dispatcher is woken after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from pydantic_core import to_jsonable_python

from mpp_notify.domain.subscriptions import DeliveryStatus
from mpp_notify.store import subscriptions, webhook_deliveries
from mpp_notify.usecases.subscription_views import (
    DeliveryPublic,
    RedeliveryAccepted,
    delivery_public,
)
from mpp_notify.usecases.subscriptions import not_found, read_subscription
from mpp_notify.webhooks import fanout
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid
from mpp_shared.idempotency import Idempotency, StoredAnswer


@dataclass(frozen=True)
class Redelivery:
    """Send again the events that occurred in [from_, to): of `event_types`
    (types or patterns among the subscription's), else of all its types."""

    subscription_id: uuid.UUID
    from_: datetime
    to: datetime
    event_types: list[str] | None = None

    def fingerprint(self) -> dict[str, object]:
        """What an Idempotency-Key is held to (the request as JSON)."""
        return {
            "subscription_id": str(self.subscription_id),
            "from_": to_jsonable_python(self.from_),
            "to": to_jsonable_python(self.to),
            "event_types": self.event_types,
        }


async def redeliver(
    pool: asyncpg.Pool,
    client: Principal,
    redelivery: Redelivery,
    *,
    retention_days: int,
    idempotency_key: str | None,
    wake_dispatcher: Callable[[], None],
) -> RedeliveryAccepted | StoredAnswer:
    """How many events were queued again; a retry with the same
    Idempotency-Key gets the first answer back (a StoredAnswer)."""
    if redelivery.to - redelivery.from_ > timedelta(days=retention_days):
        raise Invalid.field(
            "to",
            "time_range_too_long",
            f"rentang waktu maksimal {retention_days} hari",
            f"the time range may span at most {retention_days} days",
        )
    owner, subscription_id = client.subject, redelivery.subscription_id
    async with pool.acquire() as conn, conn.transaction():
        once = Idempotency(conn, f"subscriptions:{owner}:redeliveries", idempotency_key)
        if (stored := await once.replay(redelivery.fingerprint())) is not None:
            return stored
        subscribed = await subscriptions.lock_event_types(conn, subscription_id, owner)
        if subscribed is None:
            raise not_found()
        wanted = redelivery.event_types or subscribed
        _refuse_unsubscribed(subscribed, wanted)
        queued = await webhook_deliveries.queue_replays(
            conn,
            subscription_id,
            start=redelivery.from_,
            end=redelivery.to,
            retention_days=retention_days,
            event_types=wanted,
        )
        answer = RedeliveryAccepted(
            subscription_id=subscription_id,
            from_=redelivery.from_,
            to=redelivery.to,
            event_types=wanted,
            queued=queued,
        )
        await audit.record(
            conn,
            client,
            action="subscription.redelivery",
            target_type="subscription",
            target_id=str(subscription_id),
            detail=answer.model_dump(mode="json", exclude={"subscription_id"}),
        )
        await once.remember(answer, status_code=202)
    wake_dispatcher()
    return answer


def _refuse_unsubscribed(subscribed: list[str], wanted: list[str]) -> None:
    for entry in wanted:
        if not fanout.covers(subscribed, entry):
            raise Invalid.field(
                "event_types",
                "event_type_not_subscribed",
                f"{entry} tidak termasuk jenis peristiwa langganan ini",
                f"{entry} is not among this subscription's event types",
            )


async def list_deliveries(
    pool: asyncpg.Pool,
    subscription_id: uuid.UUID,
    *,
    owner: str | None,
    status: DeliveryStatus | None,
    limit: int,
) -> list[DeliveryPublic]:
    """Newest first, each with its attempts; with `owner`, only of their
    subscription (else NotFound)."""
    async with pool.acquire() as conn:
        await read_subscription(conn, subscription_id, owner)
        rows = await webhook_deliveries.find_page(conn, subscription_id, status, limit)
        attempts: dict[uuid.UUID, list[asyncpg.Record]] = {row["id"]: [] for row in rows}
        for attempt in await webhook_deliveries.attempts(conn, list(attempts)):
            attempts[attempt["delivery_id"]].append(attempt)
    return [delivery_public(row, attempts[row["id"]]) for row in rows]
