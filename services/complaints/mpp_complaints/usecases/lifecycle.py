"""What every transition of a complaint shares: the lock that refuses a
missing, stale or illegal move (`mpp_shared.transitions`), the audit entry
and event that commit with the move, and who may act for the reporter."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg

from mpp_complaints.domain.complaints import SOURCE
from mpp_complaints.domain.lifecycle import Status, can_transition
from mpp_complaints.store.complaints import COMPLAINT
from mpp_shared import clock, codes
from mpp_shared.auth import Principal, Role
from mpp_shared.events import EventData
from mpp_shared.transitions import begin_transition, finish_transition

# Who acts as an officer on the reporter's own steps (closing, reopening).
OFFICER_ROLES = frozenset({Role.COMPLAINT_OFFICER, Role.SUPERVISOR, Role.ADMIN})

# Who is calling, asked only once the complaint is known to exist: on the
# reporter's steps a missing complaint is refused before an invalid token.
Caller = Callable[[], Principal | None]


def now() -> datetime:
    return clock.now()


def in_force(row: asyncpg.Record) -> dict[str, Any]:
    """The state and version in force, for a refusal's body."""
    return {"current_state": row["status"], "current_version": row["version"]}


async def begin(
    conn: asyncpg.Connection, complaint_id: uuid.UUID, target: Status, expected_version: int | None
) -> asyncpg.Record:
    """Lock the complaint; NotFound, or Conflict when stale or not allowed to
    become `target`."""
    return await begin_transition(
        conn,
        COMPLAINT,
        complaint_id,
        target=target.value,
        expected_version=expected_version,
        allowed=lambda row: can_transition(row["status"], target.value),
    )


async def finish(
    conn: asyncpg.Connection,
    actor: Principal | None,
    complaint_id: uuid.UUID,
    *,
    action: str,
    event: EventData | None = None,
    **detail: Any,
) -> None:
    """The officer's audit entry (the given `detail`, none for the reporter)
    and the event, keyed by the complaint."""
    await finish_transition(
        conn,
        actor,
        action=action,
        target_type="complaint",
        target_id=str(complaint_id),
        detail={k: v for k, v in detail.items() if v is not None},
        event=event,
        source=SOURCE,
        key=str(complaint_id),
    )


def officer_or_reporter(
    caller: Caller, row: asyncpg.Record, complaint_code: str | None
) -> Principal | None:
    """An officer (by token), or None for the reporter, who proves it with
    the complaint code; a wrong code is answered as not found."""
    principal = caller()
    if principal is not None and principal.has_any(OFFICER_ROLES):
        return principal
    if complaint_code is None or codes.normalise(complaint_code) != row["complaint_code"]:
        raise COMPLAINT.not_found()
    return None
