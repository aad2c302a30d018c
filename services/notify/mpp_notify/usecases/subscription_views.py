"""Subscriptions and their deliveries as the subscription use cases answer:
never the secret. These are the answers an Idempotency-Key retry gets back
byte for byte, so the use cases that remember them own them."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from mpp_notify.domain.subscriptions import WAITING, DeliveryStatus, SubscriptionStatus
from mpp_notify.webhooks.signing import SignatureScheme


class DeliveryCounts(BaseModel):
    pending: int = Field(description="Waiting, being sent or to be retried")
    delivered: int
    dead: int = Field(description="Given up after the maximum number of attempts")


class SubscriptionPublic(BaseModel):
    id: uuid.UUID
    owner: str
    url: str
    event_types: list[str]
    description: str | None
    signature_scheme: SignatureScheme = Field(
        description="How deliveries are signed: mpp_v1 (X-MPP-Signature) or standard_webhooks "
        "(webhook-id, webhook-timestamp, webhook-signature)"
    )
    status: SubscriptionStatus
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    deliveries: DeliveryCounts


class RedeliveryAccepted(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, populate_by_name=True)

    subscription_id: uuid.UUID
    from_: datetime = Field(alias="from")
    to: datetime
    event_types: list[str]
    queued: int = Field(description="Events queued to be delivered again")


class DeliveryAttemptPublic(BaseModel):
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    status_code: int | None
    error: str | None


class DeliveryPublic(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    replay: bool
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[DeliveryAttemptPublic]


def subscription_public(row: asyncpg.Record) -> SubscriptionPublic:
    """A `subscriptions` row read with its delivery counts."""
    return SubscriptionPublic(
        id=row["id"],
        owner=row["owner"],
        url=row["url"],
        event_types=row["event_types"],
        description=row["description"],
        signature_scheme=row["signature_scheme"],
        status=row["status"],
        consecutive_failures=row["consecutive_failures"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deliveries=DeliveryCounts(
            pending=row["pending"], delivered=row["delivered"], dead=row["dead"]
        ),
    )


def delivery_public(row: asyncpg.Record, attempts: list[asyncpg.Record]) -> DeliveryPublic:
    """A delivery with its attempts; when it is next tried only while it waits."""
    return DeliveryPublic(
        id=row["id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        replay=row["replay"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"] if row["status"] in WAITING else None,
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
        attempt_log=[
            DeliveryAttemptPublic(
                attempt=a["attempt"],
                started_at=a["started_at"],
                finished_at=a["finished_at"],
                outcome=a["outcome"],
                status_code=a["status_code"],
                error=a["error"],
            )
            for a in attempts
        ],
    )
