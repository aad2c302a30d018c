"""The OPD webhook deliveries as a lease queue (`delivery.lease_queue`), and
how an attempt's outcome is written.

Due are ``pending`` / ``retrying`` deliveries whose ``next_attempt_at`` has
come and ``sending`` ones whose lease ran out, of ACTIVE subscriptions only
(a disabled subscription's deliveries wait for its client), oldest first.
An outcome moves the delivery to ``delivered``, ``retrying`` or ``dead``
only while the claim it answers is current; the subscription's
``consecutive_failures`` counts every failed attempt and disables it at
``webhook_disable_after`` or at once on ``410 Gone``. An attempt whose
address the guard refused (`webhooks.addresses`) ends the delivery ``dead``
at once (outcome ``permanent``, the reason as its error): the address is
not going to become acceptable by waiting; the refusal counts as a failure.
"""

from __future__ import annotations

import logging

import asyncpg

from mpp_notify.delivery.lease_queue import Attempt, LeaseQueue
from mpp_notify.delivery.policy import retry_delay
from mpp_notify.settings import NotifySettings
from mpp_notify.webhooks.sender import Claimed, Outcome

log = logging.getLogger(__name__)

WEBHOOKS = LeaseQueue(
    table="webhook_deliveries",
    kind="webhook",
    waiting=("pending", "retrying"),
    columns=("id", "subscription_id", "event_id", "event_type", "replay", "attempts", "created_at"),
    interrupted_error="lease expired: the dispatcher sending it stopped before recording an answer",
    joins="JOIN subscriptions s ON s.id = q.subscription_id "
    "JOIN event_journal j ON j.event_id = q.event_id",
    carried=("s.url", "s.secret_enc", "s.signature_scheme", "j.envelope", "j.occurred_at"),
    ready="s.status = 'active'",
    order_by="q.created_at, j.occurred_at, q.id",
)

_DELIVERED = WEBHOOKS.outcome(
    "status = 'delivered', delivered_at = now(), last_status_code = $3, last_error = NULL, "
    "updated_at = now()"
)

# $3: dead (no attempt left), $4: seconds until the next one.
_FAILED = WEBHOOKS.outcome(
    "status = CASE WHEN $3::boolean THEN 'dead' ELSE 'retrying' END, "
    "next_attempt_at = now() + $4::float8 * interval '1 second', "
    "last_status_code = $5, last_error = $6, updated_at = now()"
)

_SUBSCRIPTION_OK = """
UPDATE subscriptions SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0
"""

# $2: disable now (410 Gone); $3: the consecutive failures that disable.
_SUBSCRIPTION_FAILED = """
UPDATE subscriptions s
SET consecutive_failures = s.consecutive_failures + 1,
    status = CASE WHEN s.status = 'active' AND ($2::boolean OR s.consecutive_failures + 1 >= $3::int)
                  THEN 'disabled' ELSE s.status END,
    disabled_at = CASE WHEN s.status = 'active' AND ($2::boolean OR s.consecutive_failures + 1 >= $3::int)
                       THEN now() ELSE s.disabled_at END,
    disabled_reason = CASE WHEN s.status = 'active' AND ($2::boolean OR s.consecutive_failures + 1 >= $3::int)
                           THEN $4::text || ' (' || (s.consecutive_failures + 1) ||
                                ' consecutive failed deliveries; last: ' || $5::text || ')'
                           ELSE s.disabled_reason END,
    updated_at = now()
WHERE s.id = $1
RETURNING s.status, s.disabled_at = now() AS just_disabled
"""


async def claim(pool: asyncpg.Pool, limit: int, lease_seconds: float) -> list[Claimed]:
    """Claim up to `limit` due deliveries (committed), oldest first."""
    rows = await WEBHOOKS.claim(pool, now=None, limit=limit, lease_seconds=lease_seconds)
    rows = sorted(rows, key=lambda r: (r["created_at"], r["occurred_at"], r["id"]))
    return [
        Claimed(
            id=r["id"],
            subscription_id=r["subscription_id"],
            event_id=r["event_id"],
            event_type=r["event_type"],
            replay=r["replay"],
            attempt=r["attempts"],
            url=r["url"],
            secret_enc=r["secret_enc"],
            envelope=r["envelope"],
            signature_scheme=r["signature_scheme"],
        )
        for r in rows
    ]


async def record(conn: asyncpg.Connection, outcome: Outcome, settings: NotifySettings) -> None:
    """Write one attempt and its outcome, in the caller's transaction."""
    d = outcome.delivery
    attempt = Attempt(
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        outcome="delivered"
        if outcome.delivered
        else ("permanent" if outcome.gone or outcome.refused else "transient"),
        status_code=outcome.status_code,
        error=outcome.error,
    )
    await WEBHOOKS.record_attempt(conn, d.id, d.attempt, attempt)
    if outcome.delivered:
        await _DELIVERED(conn, d.id, d.attempt, outcome.status_code)
        await conn.execute(_SUBSCRIPTION_OK, d.subscription_id)
        return
    s = settings
    delay = retry_delay(
        d.attempt, s.webhook_backoff_base, s.webhook_backoff_max, outcome.retry_after
    )
    dead = outcome.refused or d.attempt >= s.webhook_max_attempts
    current = await _FAILED(conn, d.id, d.attempt, dead, delay, outcome.status_code, outcome.error)
    # A stale attempt's failure still counts against the receiver: it did fail.
    row = await conn.fetchrow(
        _SUBSCRIPTION_FAILED,
        d.subscription_id,
        outcome.gone,
        s.webhook_disable_after,
        "receiver answered 410 Gone" if outcome.gone else "too many failed deliveries",
        outcome.error or "unknown error",
    )
    if row is not None and row["just_disabled"]:
        log.warning("webhook subscription %s disabled: %s", d.subscription_id, outcome.error)
    if dead and current:
        log.warning(
            "webhook delivery %s of event %s dead after %d attempts", d.id, d.event_id, d.attempt
        )
