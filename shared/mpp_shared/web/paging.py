"""The `cursor` query parameter of the lists that page by keyset
(`mpp_shared.paging`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from mpp_shared.paging import MAX_CURSOR_LENGTH

CursorQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="The `next_cursor` of the previous page: the page after it, as cheap "
        "at any depth as the first (`page` is then ignored)",
    ),
]
