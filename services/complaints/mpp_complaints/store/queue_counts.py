"""The counts per status the work queue reads instead of the complaints
(migration 013): triggers on complaints append +1/-1 rows to
`complaint_queue_deltas` whenever a complaint is filed, deleted, or changes
status, category, OPD, channel or kind; `fold` adds them into
`complaint_queue_counts` (`mpp_shared.kept_counts`)."""

from __future__ import annotations

import asyncpg

from mpp_shared.kept_counts import FOLD_BATCH, taken

FOLD_SQL = f"""
WITH {taken("complaint_queue_deltas")}, added AS (
    INSERT INTO complaint_queue_counts AS q (status, category, opd, channel, kind, complaints)
    SELECT status, category, opd, channel, kind, sum(complaints)
    FROM taken
    GROUP BY status, category, opd, channel, kind
    HAVING sum(complaints) <> 0
    ORDER BY status, category, opd, channel, kind
    ON CONFLICT (status, category, opd, channel, kind) DO UPDATE SET
        complaints = q.complaints + excluded.complaints
)
SELECT count(*) FROM taken
"""


async def fold(db: asyncpg.Pool | asyncpg.Connection, batch: int = FOLD_BATCH) -> int:
    """Fold up to `batch` deltas; how many were folded."""
    return int(await db.fetchval(FOLD_SQL, batch))
