"""Rows as a resident's export shows them (`mpp_shared.personal_data.Record`):
every column in clear, the ciphertexts the service opened for the resident
in place of their encrypted columns, and no blind index or other binary
value (those mean nothing to a reader)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mpp_shared.personal_data import Record


def record(
    kind: str,
    row: Mapping[str, Any],
    *,
    clear: Mapping[str, Any] | None = None,
    id_column: str = "id",
    at_column: str | None = "created_at",
    leave_out: frozenset[str] = frozenset(),
) -> Record:
    """One exported record of `row`: its plain columns and `clear` (the
    opened values, by the name the resident reads, e.g. "phone")."""
    data: dict[str, Any] = {
        name: value
        for name, value in row.items()
        if not isinstance(value, bytes | bytearray | memoryview) and name not in leave_out
    }
    data.update(clear or {})
    at = row.get(at_column) if at_column else None
    return Record(
        kind=kind,
        id=str(row[id_column]),
        at=at if isinstance(at, datetime) else None,
        data=data,
    )
