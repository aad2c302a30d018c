"""Cursors of the keyset-paged lists: what goes in comes out, for the list
and order it was made for only; anything else is refused naming `cursor`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mpp_shared import paging
from mpp_shared.errors import Invalid

AT = datetime(2026, 5, 4, 3, 0, 0, 123456, tzinfo=UTC)
ID = uuid.UUID("0e5b1a2c-3d4e-4f50-8a1b-2c3d4e5f6a7b")


def test_a_key_comes_back_as_it_went_in() -> None:
    cursor = paging.encode("things.newest", (AT, ID))
    assert paging.decode(cursor, "things.newest", (paging.TIMESTAMP, paging.UUID)) == (AT, ID)
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe


def test_a_moment_keeps_its_zone_and_a_missing_deadline_its_none() -> None:
    wib = AT.astimezone(timezone(timedelta(hours=7)))
    kinds = (paging.BOOL, paging.NULLABLE_TIMESTAMP, paging.TIMESTAMP, paging.INT)
    cursor = paging.encode("q.overdue_first", (False, None, wib, 42))
    assert paging.decode(cursor, "q.overdue_first", kinds) == (False, None, AT, 42)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # base64 of "not json"
        paging.encode("things.oldest", (AT, ID)),  # another order
        paging.encode("things.newest", (AT,)),  # a key too short
        paging.encode("things.newest", ("2026-05-04T03:00:00", str(ID))),  # no zone
        paging.encode("things.newest", (AT, "not-a-uuid")),
        paging.encode("things.newest", (7, str(ID))),
        "A" * (paging.MAX_CURSOR_LENGTH + 1),
    ],
)
def test_anything_else_is_refused_naming_the_field(cursor: str) -> None:
    with pytest.raises(Invalid) as refused:
        paging.decode(cursor, "things.newest", (paging.TIMESTAMP, paging.UUID))
    error = refused.value.extra["errors"][0]
    assert error["field"] == "cursor"
    assert error["message_id"] != error["message_en"]


def test_an_integer_key_is_not_a_boolean() -> None:
    with pytest.raises(Invalid):
        paging.decode(paging.encode("audit.newest", (True,)), "audit.newest", (paging.INT,))


def test_a_page_read_with_one_row_more_says_whether_another_follows() -> None:
    rows = [(AT - timedelta(minutes=i), uuid.uuid4()) for i in range(5)]
    shown, following = paging.page_of(rows, 4, "things.newest", lambda r: r)
    assert shown == rows[:4]
    assert following is not None
    assert paging.decode(following, "things.newest", (paging.TIMESTAMP, paging.UUID)) == rows[3]
    assert paging.page_of(rows[:4], 4, "things.newest", lambda r: r) == (rows[:4], None)
    assert paging.page_of([], 4, "things.newest", lambda r: r) == ([], None)


def test_a_total_is_counted_up_to_the_cap_and_says_when_more_match() -> None:
    statement = paging.capped_count("FROM things WHERE kind = $1")
    assert statement == (
        "SELECT count(*) FROM (SELECT 1 FROM things WHERE kind = $1 "
        f"LIMIT {paging.COUNT_CAP + 1}) AS matches"
    )
    assert paging.capped(0) == (0, False)
    assert paging.capped(None) == (None, False)  # a page by cursor counts nothing
    assert paging.capped(paging.COUNT_CAP) == (paging.COUNT_CAP, False)
    assert paging.capped(paging.COUNT_CAP + 1) == (paging.COUNT_CAP, True)
