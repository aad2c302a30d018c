"""(placeholder, being written)"""

from __future__ import annotations

import asyncpg

from mpp_shared.events import CloudEvent


async def record_and_fan_out(conn: asyncpg.Connection, event: CloudEvent) -> bool:
    """Journal the event and queue one delivery per matching active
    subscription, in the caller's transaction; True when any was queued."""
    return False
