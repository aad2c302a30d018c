"""Keyset paging for the officers' lists: a page ends with an opaque
`next_cursor` (base64url of the last row's sort key and the sort it belongs
to); the next page asks for the rows after that key, so page 1 000 costs an
index range scan like page 1 instead of reading and dropping every row before
it (OFFSET).

A cursor is only ever decoded for the sort it was made under: a cursor from
another list or another sort order is refused (422 naming `cursor`), never
silently misread."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from mpp_shared.errors import Invalid

T = TypeVar("T")
# How a key value is written into a cursor and read back out of it.
Kind = Callable[[Any], Any]


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("timestamp without a zone")
    return moment


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a uuid")
    return uuid.UUID(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not a boolean")
    return value


def _nullable(kind: Kind) -> Kind:
    def read(value: Any) -> Any:
        return None if value is None else kind(value)

    return read


TIMESTAMP: Kind = _timestamp
UUID: Kind = _uuid
INT: Kind = _int
BOOL: Kind = _bool
NULLABLE_TIMESTAMP: Kind = _nullable(_timestamp)

# The most a cursor may weigh: a sort name and a few keys.
MAX_CURSOR_LENGTH = 512

# A list's `total` is counted up to this many matches; past it the answer
# says `total_capped` (and `total` is the cap): counting every match of a
# district's years would cost what OFFSET did, for a figure nobody pages to.
COUNT_CAP = 10_000


def capped_count(from_where: str) -> str:
    """The statement counting the rows of `from_where` (a `FROM ... WHERE
    ...` clause) up to one past COUNT_CAP."""
    return f"SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {COUNT_CAP + 1}) AS matches"


def capped(counted: int | None) -> tuple[int | None, bool]:
    """`total` and `total_capped` of a count made by `capped_count`; no
    total (a page by cursor) for no count."""
    if counted is None:
        return None, False
    return min(counted, COUNT_CAP), counted > COUNT_CAP


def bad_cursor() -> Invalid:
    return Invalid.field(
        "cursor",
        "cursor_invalid",
        "penanda halaman tidak dikenal; mulai lagi dari halaman pertama",
        "unknown page cursor; start again from the first page",
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def encode(sort: str, key: Sequence[Any]) -> str:
    """The cursor of the row whose sort key is `key`, under the order `sort`."""
    raw = json.dumps([sort, *(_plain(v) for v in key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, sort: str, kinds: Sequence[Kind]) -> tuple[Any, ...]:
    """The sort key a cursor carries, each value read by its kind; Invalid
    (field `cursor`) when it is not a cursor of this list under `sort`."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(parts, list) or len(parts) != len(kinds) + 1 or parts[0] != sort:
            raise ValueError("another list or sort")
        return tuple(kind(value) for kind, value in zip(kinds, parts[1:], strict=True))
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise bad_cursor() from None


def page_of(
    rows: Sequence[T], page_size: int, sort: str, key: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None]:
    """The page and the cursor of the next one, from `rows` read with one
    more than `page_size` (`LIMIT page_size + 1`): the extra row only says
    there is a next page; None when there is none."""
    shown = list(rows[:page_size])
    if len(rows) <= page_size or not shown:
        return shown, None
    return shown, encode(sort, key(shown[-1]))
