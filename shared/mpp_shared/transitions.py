"""The one shape of a state change on an aggregate row, used by every
service's use cases:

    row = await begin_transition(conn, JOBS, job_id, target=..., expected_version=..., allowed=...)
    ... update the row (the service's own SQL) ...
    event = await finish_transition(conn, actor, action=..., target_id=..., event=..., source=..., key=...)
    ... write its history, which may keep `event.id` ...

`begin_transition` locks the row (`FOR UPDATE`) and refuses a missing row
(`NotFound`), a stale `expected_version` or an illegal move (`Conflict` with
the state and version in force). `finish_transition` writes the officer's
audit entry and the event into the outbox. Both run inside the caller's
transaction, so the change, its history, its audit entry and its event
commit together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict, NotFound
from mpp_shared.events import CloudEvent, EventData, build_event
from mpp_shared.messaging.outbox import enqueue


@dataclass(frozen=True)
class Aggregate:
    """How to find and name one kind of row that moves through states."""

    table: str
    noun: tuple[str, str]  # in refusals, e.g. ("Pekerjaan", "The job")
    missing: tuple[str, str]  # e.g. ("Pekerjaan tidak ditemukan", "Job not found")
    state_column: str = "status"
    lock_query: str | None = None  # default: SELECT * FROM <table> WHERE id = $1 FOR UPDATE

    def not_found(self) -> NotFound:
        return NotFound("not_found", *self.missing)


def refuse_stale_or_illegal(
    *,
    noun: tuple[str, str],
    current: str,
    target: str,
    version: int,
    expected_version: int | None,
    allowed: bool,
) -> None:
    """`Conflict` with the current state when a write is stale or a transition illegal.

    `noun` names the thing in both languages, e.g. ("Permohonan", "The application").
    """
    in_force = {"current_state": current, "current_version": version}
    if expected_version is not None and expected_version != version:
        raise Conflict(
            "stale_version",
            f"{noun[0]} sudah diubah orang lain; muat ulang lalu coba lagi",
            f"{noun[1]} changed since you read it; reload and retry",
            **in_force,
        )
    if not allowed:
        raise Conflict(
            "illegal_transition",
            f"{noun[0]} berstatus {current} dan tidak dapat menjadi {target}",
            f"{noun[1]} is {current} and cannot become {target}",
            **in_force,
        )


async def begin_transition(
    conn: asyncpg.Connection,
    aggregate: Aggregate,
    row_id: uuid.UUID,
    *,
    target: str,
    expected_version: int | None,
    allowed: Callable[[asyncpg.Record], bool],
    authorize: Callable[[asyncpg.Record], None] | None = None,
) -> asyncpg.Record:
    """Lock the row and refuse a missing, stale or illegal move; the locked row.

    `authorize` refuses a caller who may not touch this row at all (it
    raises); it runs before the version and state are compared, so such a
    caller never learns them."""
    query = aggregate.lock_query or f"SELECT * FROM {aggregate.table} WHERE id = $1 FOR UPDATE"
    row = await conn.fetchrow(query, row_id)
    if row is None:
        raise aggregate.not_found()
    if authorize is not None:
        authorize(row)
    refuse_stale_or_illegal(
        noun=aggregate.noun,
        current=row[aggregate.state_column],
        target=target,
        version=row["version"],
        expected_version=expected_version,
        allowed=allowed(row),
    )
    return row


async def finish_transition(
    conn: asyncpg.Connection,
    actor: Principal | None,
    *,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict[str, Any] | None = None,
    event: EventData | None = None,
    source: str,
    key: str,
    subject: str | None = None,
) -> CloudEvent | None:
    """The officer's audit entry (none for a citizen acting alone) and the
    event, keyed by `key` so one request's events stay in order; the event
    enqueued (a history row may keep its id)."""
    if actor is not None:
        await audit.record(
            conn,
            actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=detail,
        )
    if event is None:
        return None
    envelope = build_event(event, source=source, subject=subject or target_id)
    await enqueue(conn, envelope, topic=event.topic, key=key)
    return envelope
