"""Keyset paging of the officers' lists on a real PostgreSQL: walking the
pages by `next_cursor` shows every row once, in the list's order, while new
rows arrive between pages (OFFSET would show a row twice when a newer one
pushes it to the next page); a cursor that is not one of the list's is a 422
naming `cursor`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from mpp_complaints.api.routes import queue as queue_routes
from mpp_complaints.domain.queue import QueueFilter, Sort
from mpp_complaints.store import queue as queue_store
from mpp_complaints.usecases import queue
from mpp_intake.api.routes import applications as application_routes
from mpp_intake.usecases import application_views
from mpp_shared import paging
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Invalid
from mpp_shared.settings import DEV_JWT_SECRET
from mpp_shared.web import get_pool, install_error_handlers
from tests.support.auth import auth

T0 = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)
OFFICER = Principal(subject="officer-1", roles=frozenset({Role.COMPLAINT_OFFICER}))

# --- applications ------------------------------------------------------------

APPLICATION = """
INSERT INTO applications (id, tracking_code, service_code, catalog_version, channel, status,
                          progress, nik_index, nik_masked, name_masked, submitted_by,
                          pickup_point, active, domicile_region, created_at, updated_at)
SELECT $1::uuid, 'MPP' || substr(md5($1::uuid::text), 1, 9), code, version, 'counter', 'submitted',
       'submitted', sha256($1::uuid::text::bytea), '35**', 'B***', 'officer-1', 'MPP-01', false,
       '350601', $2, $2
FROM catalog_service_versions ORDER BY code, version LIMIT 1
"""


async def add_application(pool: asyncpg.Pool, at: datetime) -> uuid.UUID:
    application_id = uuid.uuid4()
    await pool.execute(APPLICATION, application_id, at)
    return application_id


async def test_applications_walked_by_cursor_show_each_once_in_order(
    intake_pool: asyncpg.Pool,
) -> None:
    # 23 applications, every third sharing its moment with the one before
    # (ties are ordered by id).
    for i in range(23):
        await add_application(intake_pool, T0 - timedelta(minutes=i - i % 3))
    expected = [
        r["id"]
        for r in await intake_pool.fetch(
            "SELECT id FROM applications ORDER BY created_at DESC, id DESC"
        )
    ]
    seen: list[uuid.UUID] = []
    cursor: str | None = None
    old = None
    pages = 0
    while True:
        answer = await application_views.list_applications(
            intake_pool,
            application_views.ApplicationFilters(),
            page=1,
            page_size=5,
            language="id",
            cursor=cursor,
        )
        pages += 1
        assert answer.total == (23 if cursor is None else None)
        seen += [item.id for item in answer.items]
        # A newer application arrives between pages: it is before the cursor
        # and never shows; an older one shows once, at the end.
        await add_application(intake_pool, T0 + timedelta(minutes=pages))
        if pages == 2:
            old = await add_application(intake_pool, T0 - timedelta(days=30))
        if answer.next_cursor is None:
            break
        cursor = answer.next_cursor
    assert seen == [*expected, old]
    assert pages == 5  # 24 rows by 5; the last page is short, so no cursor after it


async def test_the_first_page_by_offset_and_by_cursor_agree(intake_pool: asyncpg.Pool) -> None:
    for i in range(12):
        await add_application(intake_pool, T0 - timedelta(minutes=i))
    first = await application_views.list_applications(
        intake_pool, application_views.ApplicationFilters(), page=1, page_size=4, language="en"
    )
    by_offset = await application_views.list_applications(
        intake_pool, application_views.ApplicationFilters(), page=2, page_size=4, language="en"
    )
    by_cursor = await application_views.list_applications(
        intake_pool,
        application_views.ApplicationFilters(),
        page=1,
        page_size=4,
        language="en",
        cursor=first.next_cursor,
    )
    assert [i.id for i in by_cursor.items] == [i.id for i in by_offset.items]
    assert by_offset.total == 12 and by_cursor.total is None


# --- the complaints queue ------------------------------------------------------

COMPLAINT = """
INSERT INTO complaints (id, complaint_code, category, description, channel, status, kind, opd,
                        step, step_due_at, created_at, updated_at)
VALUES ($1::uuid, 'ADU-' || substr(md5($1::uuid::text), 1, 8), 'lainnya', 'keluhan', 'web', $2,
        'pengaduan', 'DISDUKCAPIL', $3, $4, $5, $5)
"""


async def add_complaint(pool: asyncpg.Pool, i: int, *, at: datetime | None = None) -> uuid.UUID:
    """A complaint of a mix: overdue, running with a later deadline, or ended
    without a step (no deadline); some share a deadline or a moment."""
    complaint_id = uuid.uuid4()
    kind = i % 3
    status, step, due = (
        ("verified", "follow_up", T0 - timedelta(hours=i % 4))
        if kind == 0
        else ("received", "verification", T0 + timedelta(hours=i % 5))
        if kind == 1
        else ("closed", None, None)
    )
    created = at or T0 - timedelta(hours=i // 2)
    await pool.execute(COMPLAINT, complaint_id, status, step, due, created)
    return complaint_id


@pytest.mark.parametrize("sort", list(Sort))
async def test_the_queue_walked_by_cursor_shows_each_once_in_its_order(
    complaints_pool: asyncpg.Pool, sort: Sort
) -> None:
    await complaints_pool.execute(
        "INSERT INTO complaint_categories (code, name_id, name_en, opd) "
        "VALUES ('lainnya', 'Lainnya', 'Other', 'DISDUKCAPIL') ON CONFLICT DO NOTHING"
    )
    for i in range(31):
        await add_complaint(complaints_pool, i)
    # The reference: one query sorting the whole queue in the order `sort`.
    expected = [
        r["id"]
        for r in await complaints_pool.fetch(
            f"SELECT c.id, {queue_store.OVERDUE} AS overdue FROM complaints c "
            f"ORDER BY {queue_store.ORDER[sort]}",
            queue.now(),
        )
    ]
    seen: list[uuid.UUID] = []
    arrived: list[uuid.UUID] = []
    cursor: str | None = None
    for page in range(40):
        answer = await queue.list_queue(
            complaints_pool, QueueFilter(), viewer=OFFICER, sort=sort, page_size=6, cursor=cursor
        )
        seen += [item.id for item in answer.items]
        # New complaints between pages, of every kind and the newest of all.
        arrived.append(await add_complaint(complaints_pool, page, at=queue.now()))
        if answer.next_cursor is None:
            break
        cursor = answer.next_cursor
    assert len(seen) == len(set(seen)), "a complaint was shown twice"
    assert [i for i in seen if i not in arrived] == expected
    if sort is Sort.NEWEST:
        assert not set(arrived) & set(seen)


async def test_a_cursor_of_another_sort_is_refused(complaints_pool: asyncpg.Pool) -> None:
    newest = paging.encode("complaints.newest", (T0, uuid.uuid4()))
    with pytest.raises(Invalid) as refused:
        await queue.list_queue(
            complaints_pool, QueueFilter(), viewer=OFFICER, sort=Sort.OLDEST, cursor=newest
        )
    assert refused.value.extra["errors"][0]["field"] == "cursor"


# --- a bad cursor over HTTP ----------------------------------------------------


def _returning(pool: asyncpg.Pool) -> Any:
    async def the_pool() -> asyncpg.Pool:
        return pool

    return the_pool


@pytest.fixture
async def lists(
    intake_pool: asyncpg.Pool, complaints_pool: asyncpg.Pool
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The applications list and the complaints queue on their databases."""
    clients = {}
    for name, router, pool in (
        ("intake", application_routes.router, intake_pool),
        ("complaints", queue_routes.router, complaints_pool),
    ):
        app = FastAPI()
        app.state.settings = SimpleNamespace(jwt_secret=DEV_JWT_SECRET, jwt_issuer="mpp")
        install_error_handlers(app)
        app.include_router(router)
        app.dependency_overrides[get_pool] = _returning(pool)
        clients[name] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{name}"
        )
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


BAD_CURSORS = [
    "not-a-cursor!",
    paging.encode("audit.newest", (7,)),  # another list's
    paging.encode("applications.newest", ("yesterday", "x")),  # not a moment and an id
    "A" * 600,  # longer than any cursor
]


@pytest.mark.parametrize("bad", BAD_CURSORS)
async def test_a_bad_cursor_is_a_422_naming_the_field(
    lists: dict[str, httpx.AsyncClient], bad: str
) -> None:
    for service, path, role in (
        ("intake", "/v1/applications", "frontdesk"),
        ("complaints", "/v1/complaints", "complaint_officer"),
    ):
        messages = []
        for language in ("id", "en"):
            answer = await lists[service].get(
                path,
                params={"cursor": bad},
                headers={**auth(role), "Accept-Language": language},
            )
            assert answer.status_code == 422, (service, bad, answer.text)
            body: dict[str, Any] = answer.json()
            assert [e["field"] for e in body["errors"]] == ["cursor"], body
            messages.append(body["errors"][0]["message"])
        assert messages[0] != messages[1], "the same words in Indonesian and English"
