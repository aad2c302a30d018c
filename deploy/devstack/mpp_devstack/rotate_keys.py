"""`make rotate-keys`: run each service's key rotation (`python -m
mpp_<service>.rotate_keys`) against its database of `make run`.

The server is DATABASE_URL when set, else the embedded one of `make run`
(./.mpp/pgdata, joined while it runs, started for the while otherwise); each
service's database is mpp_<service> on it, as the stack makes them. The keys
come from the environment (PII_ENCRYPTION_KEYS, PII_INDEX_KEYS, ...), the
same the services run with. In a deployment, run the service's command in its
own environment instead (deploy/README.md, "Rotating keys")."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from mpp_devstack.embedded import EmbeddedPostgres
from mpp_devstack.stack import SERVICES
from mpp_shared.db import with_database


async def _databases(server: str) -> set[str]:
    conn = await asyncpg.connect(server)
    try:
        return {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make rotate-keys")
    parser.add_argument("--workdir", type=Path, default=Path.cwd() / ".mpp")
    parser.add_argument("--prefix", default="mpp_", help="database name prefix (default mpp_)")
    parser.add_argument("--check", action="store_true", help="only count what is left")
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    options = parser.parse_args(argv)
    embedded = None
    server = os.environ.get("DATABASE_URL")
    if not server:
        embedded = EmbeddedPostgres(options.workdir.resolve() / "pgdata")
        server = embedded.start()
    status = 0
    try:
        existing = asyncio.run(_databases(server))
        for name in options.services:
            if options.prefix + name not in existing:
                print(f"{name}: no database {options.prefix + name} (start `make run` once)")
                status = max(status, 1)
                continue
            command = [sys.executable, "-m", f"mpp_{name}.rotate_keys"]
            command += ["--database-url", with_database(server, options.prefix + name)]
            command += ["--check"] if options.check else []
            status = max(status, subprocess.call(command))
    finally:
        if embedded is not None:
            embedded.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
