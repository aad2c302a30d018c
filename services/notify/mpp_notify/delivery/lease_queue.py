"""The lease queue under both dispatchers: citizen messages (`delivery_log`)
and OPD webhook deliveries (`webhook_deliveries`), one mechanism for both.

A queue table has `id`, `status`, `attempts`, `next_attempt_at`,
`lease_until` and `updated_at`; its rows wait in the queue's `waiting`
statuses until `next_attempt_at`. The queue keeps these guarantees:

- A claim takes due rows with ``FOR UPDATE SKIP LOCKED`` (any number of
  dispatchers share the work, none waits on another), makes them `sending`
  under a lease, counts the attempt, and commits before anything is sent: a
  second dispatcher never sends a row while a live one holds it.
- A `sending` row whose lease ran out was left by a dispatcher that stopped;
  the claim that takes it again records that attempt as `interrupted` (from
  the moment it was claimed to now), in the same statement.
- An outcome is written only while the claim it answers is the row's current
  one (still `sending`, attempt number unchanged): a dispatcher whose lease
  ran out and whose row was claimed again can never write over the newer
  attempt's outcome. Its attempt is still logged; it happened.
- Every attempt lands in `delivery_attempts` under the queue's kind.

"Now" is the caller's clock when it passes one (the message dispatcher's,
which tests move through quiet hours), else the database's, so notify
processes on several hosts agree on what is due.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal

import asyncpg

from mpp_shared.sql_rows import Row, renumbered, with_rows

DeliveryKind = Literal["message", "webhook"]
AttemptOutcome = Literal["delivered", "transient", "permanent", "interrupted"]

# $1 in every statement of the queue: the caller's clock, or NULL for the database's.
NOW = "coalesce($1::timestamptz, now())"

_ATTEMPT = """
INSERT INTO delivery_attempts (delivery_kind, delivery_id, attempt, started_at, finished_at,
                               outcome, status_code, provider_message_id, error)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
WHERE EXISTS (SELECT 1 FROM {table} WHERE id = $2)
"""


@dataclass(frozen=True)
class Attempt:
    """One attempt at a claimed row, as `delivery_attempts` logs it."""

    started_at: datetime
    finished_at: datetime | None
    outcome: AttemptOutcome
    status_code: int | None = None
    provider_message_id: str | None = None
    error: str | None = None

    def values(self, kind: DeliveryKind, row_id: uuid.UUID, number: int) -> tuple[object, ...]:
        """The arguments of `_ATTEMPT`, in its order."""
        return (
            kind,
            row_id,
            number,
            self.started_at,
            self.finished_at,
            self.outcome,
            self.status_code,
            self.provider_message_id,
            self.error,
        )


@dataclass(frozen=True)
class GuardedUpdate:
    """An UPDATE of a claimed row's outcome that applies only while the claim
    is current: ``$1`` the row's id, ``$2`` the attempt that was claimed."""

    sql: str

    async def __call__(
        self, conn: asyncpg.Connection, row_id: uuid.UUID, attempt: int, *values: object
    ) -> bool:
        """True when the outcome was written; False when the claim was stale
        (the lease ran out and the row was claimed again, or it is gone)."""
        status: str = await conn.execute(self.sql, row_id, attempt, *values)
        return status == "UPDATE 1"


@dataclass(frozen=True)
class LeaseQueue:
    """One table of deliveries worked off under leases.

    `columns` are the table's columns a claim hands the sender; `carried` are
    columns of the `joins` (``table.column`` with their alias) handed along;
    `ready` is a condition on the joined rows that must hold for a row to be
    due; `order_by` says which due rows go first."""

    table: str
    kind: DeliveryKind
    waiting: tuple[str, ...]
    columns: tuple[str, ...]
    interrupted_error: str
    order_by: str = "q.next_attempt_at"
    joins: str = ""
    carried: tuple[str, ...] = ()
    ready: str = "true"

    @cached_property
    def claim_sql(self) -> str:
        waiting = ", ".join(f"'{status}'" for status in self.waiting)
        carried = "".join(f", {column}" for column in self.carried)
        handed = ", ".join(
            [f"q.{c}" for c in self.columns] + [f"due.{c.split('.')[-1]}" for c in self.carried]
        )
        return f"""
WITH due AS (
    SELECT q.id, q.status AS was_status, q.attempts AS was_attempts,
           q.updated_at AS was_claimed_at{carried}
    FROM {self.table} q {self.joins}
    WHERE ({self.ready})
      AND ((q.status IN ({waiting}) AND q.next_attempt_at <= {NOW})
           OR (q.status = 'sending' AND q.lease_until <= {NOW}))
    ORDER BY {self.order_by}
    LIMIT $2
    FOR UPDATE OF q SKIP LOCKED
),
claimed AS (
    UPDATE {self.table} q
    SET status = 'sending', attempts = q.attempts + 1, updated_at = {NOW},
        lease_until = {NOW} + $3::float8 * interval '1 second'
    FROM due WHERE q.id = due.id
    RETURNING {handed}, due.was_status, due.was_attempts, due.was_claimed_at
),
interrupted AS (
    INSERT INTO delivery_attempts (delivery_kind, delivery_id, attempt, started_at,
                                   finished_at, outcome, error)
    SELECT $4, id, was_attempts, was_claimed_at, {NOW}, 'interrupted', $5
    FROM claimed WHERE was_status = 'sending'
)
SELECT * FROM claimed
"""

    @cached_property
    def next_due_sql(self) -> str:
        statuses = ", ".join(f"'{status}'" for status in (*self.waiting, "sending"))
        return f"""
SELECT extract(epoch FROM min(CASE WHEN q.status = 'sending' THEN q.lease_until
                                   ELSE q.next_attempt_at END) - {NOW})::float8
FROM {self.table} q {self.joins}
WHERE ({self.ready}) AND q.status IN ({statuses})
"""

    @cached_property
    def attempt_sql(self) -> str:
        return _ATTEMPT.format(table=self.table)

    def outcome(self, assignments: str) -> GuardedUpdate:
        """The guarded UPDATE that records an outcome: `assignments` (values
        from ``$3`` on) plus the end of the lease."""
        return GuardedUpdate(
            f"UPDATE {self.table} SET {assignments}, lease_until = NULL "
            "WHERE id = $1 AND status = 'sending' AND attempts = $2"
        )

    async def claim(
        self, pool: asyncpg.Pool, *, now: datetime | None, limit: int, lease_seconds: float
    ) -> list[asyncpg.Record]:
        """Claim up to `limit` due rows for `lease_seconds`; each row carries
        its new `attempts` and `was_status`. One statement, committed on its
        own with the interrupted attempts it logs: the claim must be visible
        before anything is sent."""
        args = (now, limit, lease_seconds, self.kind, self.interrupted_error)
        rows: list[asyncpg.Record] = await pool.fetch(self.claim_sql, *args)
        return rows

    async def seconds_to_next_due(
        self, pool: asyncpg.Pool, now: datetime | None = None
    ) -> float | None:
        """Seconds until the next row comes due (negative when one is due and
        held by another dispatcher), None when nothing waits."""
        seconds: float | None = await pool.fetchval(self.next_due_sql, now)
        return seconds

    async def record_attempt(
        self, conn: asyncpg.Connection, row_id: uuid.UUID, number: int, attempt: Attempt
    ) -> None:
        """Log attempt `number` at the row (not for a row deleted meanwhile)."""
        await conn.execute(self.attempt_sql, *attempt.values(self.kind, row_id, number))

    async def record_outcome(
        self,
        conn: asyncpg.Connection,
        row_id: uuid.UUID,
        number: int,
        attempt: Attempt,
        *,
        update: GuardedUpdate,
        values: Sequence[object],
        along: Sequence[Row] = (),
    ) -> bool:
        """Log attempt `number` and write its outcome (`update` with `values`
        from ``$3`` on) while the claim is current, with the rows `along`
        written only then (the outcome's event): one statement, atomic on its
        own. True when the outcome was written; False when the claim was
        stale (the attempt is logged all the same)."""
        logged = attempt.values(self.kind, row_id, number)
        ctes = (
            f"attempt_logged AS ({self.attempt_sql}),\n"
            f"outcome AS ({renumbered(update.sql, len(logged))} RETURNING id)"
        )
        sql, args = with_rows(
            ctes,
            [*logged, row_id, number, *values],
            along,
            when="outcome",
            final="SELECT count(*) FROM outcome",
        )
        return bool(await conn.fetchval(sql, *args))
