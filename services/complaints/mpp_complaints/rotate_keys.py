"""`python -m mpp_complaints.rotate_keys`: move complaints's encrypted columns and blind
indexes to the active keys, in batches, while the service runs; stop it and
run it again to carry on (`--check` only counts what is left). Reads the
service's settings (DATABASE_URL, PII_ENCRYPTION_KEYS, PII_INDEX_KEYS).
`make rotate-keys` runs it for the four services of `make run`.

Before moving keys it writes the reporter indexes (phone, e-mail) of the
complaints filed before those indexes existed, in batches too, resumable:
the same command fills them once after an upgrade."""

from __future__ import annotations

import asyncio
import sys

from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store.encrypted_columns import REGISTRY
from mpp_complaints.usecases.reporter_contact import fill_missing_indexes
from mpp_shared.db import create_pool
from mpp_shared.keyrotation import main
from mpp_shared.pii import cipher_from_settings


async def fill_indexes(settings: ComplaintsSettings, database_url: str) -> int:
    """0 when every complaint's reporter is indexed, 1 if some did not open."""
    pool = await create_pool(database_url, min_size=1, max_size=2, command_timeout=60)
    try:
        _, failed = await fill_missing_indexes(pool, cipher_from_settings(settings))
    finally:
        await pool.close()
    return 1 if failed else 0


def run(argv: list[str]) -> int:
    settings = ComplaintsSettings()
    if "--check" not in argv and "-h" not in argv and "--help" not in argv:
        url = settings.database_url
        for n, arg in enumerate(argv):
            if arg == "--database-url" and n + 1 < len(argv):
                url = argv[n + 1]
            elif arg.startswith("--database-url="):
                url = arg.partition("=")[2]
        try:
            filled = asyncio.run(fill_indexes(settings, url))
        except KeyboardInterrupt:
            print("complaints: stopped; run it again to carry on", flush=True)
            return 130
        moved = main(REGISTRY, settings, argv)
        return moved or filled
    return main(REGISTRY, settings, argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
