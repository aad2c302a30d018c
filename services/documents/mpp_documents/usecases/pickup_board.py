"""The pickup board of one pickup point: what waits there to be collected,
with the point's counts, read from one snapshot.

Documents does not own the list of pickup points (intake does): a code in the
right format with no jobs has an empty board, not a refusal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time

import asyncpg

from mpp_documents.domain.handover import days_waiting, is_overdue, overdue_since
from mpp_documents.domain.register import ZONE
from mpp_documents.store import board as board_store
from mpp_shared import clock


@dataclass(frozen=True)
class Counts:
    ready: int
    in_transit: int
    collected_today: int  # handed over here since midnight (WIB)
    overdue: int  # ready for longer than the pickup window


@dataclass(frozen=True)
class Waiting:
    """A document ready at the point; the holder only masked."""

    job_id: uuid.UUID
    tracking_code: str
    service_code: str
    holder_masked: str | None
    ready_at: datetime
    days_waiting: int
    overdue: bool
    version: int


@dataclass(frozen=True)
class Board:
    pickup_point: str
    as_of: datetime
    window_days: int
    counts: Counts
    items: list[Waiting]  # newest first


async def read_board(
    pool: asyncpg.Pool, point: str, *, window_days: int, page: int, page_size: int
) -> Board:
    """The counts and one page of the waiting documents, as of now."""
    now = clock.now().astimezone(ZONE)
    midnight = datetime.combine(now.date(), time(), tzinfo=ZONE)
    # One snapshot: the page agrees with the counts.
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        counts = await board_store.counts(
            conn, point, since=midnight, overdue_before=overdue_since(now, window_days)
        )
        rows = await board_store.waiting(
            conn, point, limit=page_size, offset=(page - 1) * page_size
        )
    return Board(
        pickup_point=point,
        as_of=now,
        window_days=window_days,
        counts=Counts(**dict(counts)),
        items=[
            Waiting(
                job_id=r["id"],
                tracking_code=r["tracking_code"],
                service_code=r["service_code"],
                holder_masked=r["holder_masked"],
                ready_at=r["ready_at"],
                days_waiting=days_waiting(r["ready_at"], now),
                overdue=is_overdue(r["ready_at"], now, window_days),
                version=r["version"],
            )
            for r in rows
        ],
    )


@dataclass(frozen=True)
class ReadyCode:
    """A document ready at the point as the waiting room sees it: no holder."""

    tracking_code: str
    service_code: str
    ready_at: datetime


@dataclass(frozen=True)
class PublicBoard:
    pickup_point: str
    as_of: datetime  # WIB
    count: int  # all ready at the point
    items: list[ReadyCode]  # newest first, at most the limit asked for


async def read_public_board(pool: asyncpg.Pool, point: str, *, limit: int) -> PublicBoard:
    """What a waiting-room screen shows: the tracking codes ready at `point`
    and their services, newest first; nothing about the holder."""
    now = clock.now().astimezone(ZONE)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        count = await board_store.ready_count(conn, point)
        rows = await board_store.ready(conn, point, limit=limit)
    return PublicBoard(
        pickup_point=point,
        as_of=now,
        count=count,
        items=[
            ReadyCode(
                tracking_code=r["tracking_code"],
                service_code=r["service_code"],
                ready_at=r["ready_at"],
            )
            for r in rows
        ],
    )
