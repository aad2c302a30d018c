"""The inbox forgets handled events once no topic can deliver them again,
a batch at a time, and keeps parked ones (mpp_shared.messaging.inbox)."""

from __future__ import annotations

import asyncpg

from mpp_shared import migrate
from mpp_shared.db import create_pool
from mpp_shared.messaging import inbox

DAY = 24 * 3600


async def test_handled_rows_older_than_the_window_are_forgotten_in_batches(
    database: str,
) -> None:
    pool = await create_pool(database, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await migrate.apply_migrations(conn, {"shared": migrate.SHARED_MIGRATIONS})
        rows = [
            # (consumer, age in days, outcome)
            *[("notify", 20 + n, "handled") for n in range(7)],
            ("notify", 13, "handled"),
            ("complaints", 30, "dead_lettered"),
            ("complaints", 0, "handled"),
        ]
        await pool.executemany(
            """
            INSERT INTO inbox (consumer, event_id, event_type, topic, partition, "offset",
                               outcome, handled_at)
            VALUES ($1, gen_random_uuid(), 'mpp.thing.done.v1', 'mpp.things', 0, 1, $3,
                    now() - make_interval(days => $2))
            """,
            rows,
        )
        # Seven old handled rows, three per statement: three statements.
        assert await inbox.purge_handled(pool, 14 * DAY, batch=3) == 7
        left: list[asyncpg.Record] = await pool.fetch(
            "SELECT consumer, outcome, floor(extract(epoch FROM now() - handled_at) / 86400)::int"
            " AS days FROM inbox ORDER BY days"
        )
        assert [tuple(r) for r in left] == [
            ("complaints", "handled", 0),
            ("notify", "handled", 13),
            ("complaints", "dead_lettered", 30),
        ]
        assert await inbox.purge_handled(pool, 14 * DAY, batch=3) == 0
    finally:
        await pool.close()
