"""How a change of an application ends: the officer's audit entry and, when
the change moved the application along, the event and the timeline step it
comes from (the step keeps the event's id, `source_event_id`), all in the
change's transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from mpp_intake.store import applications
from mpp_shared.auth import Principal
from mpp_shared.events import EventData
from mpp_shared.transitions import finish_transition

# The `source` of every event intake publishes.
SOURCE = "/mpp/intake"


async def finish_change(
    conn: asyncpg.Connection,
    officer: Principal,
    application_id: uuid.UUID,
    *,
    action: str,
    detail: dict[str, Any],
    step: tuple[str, EventData] | None,
    pickup_point: str | None,
    at: datetime,
) -> None:
    """The audit entry, and for a `step` (its name and its event) the event,
    keyed by the application, and the timeline step at `pickup_point`."""
    key = str(application_id)
    event = await finish_transition(
        conn,
        officer,
        action=action,
        target_type="application",
        target_id=key,
        detail=detail,
        event=step[1] if step is not None else None,
        source=SOURCE,
        key=key,
    )
    if step is not None and event is not None:
        await applications.add_step(conn, application_id, step[0], at, pickup_point, event.id)
