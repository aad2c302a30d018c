"""`python -m tests.bench.scale {fill,measure,all} --size 100k [--dir DIR]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

from mpp_devstack.embedded import EmbeddedPostgres
from tests.bench import server_settings
from tests.bench.scale import data
from tests.bench.scale.fill import SERVER_SETTINGS, fill


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.scale",
        description="Fill the four databases with years of data, then measure the stack on them.",
    )
    p.add_argument("command", choices=["fill", "measure", "all"])
    p.add_argument("--size", default="100k", help="applications: 100k, 5m, 2k... (default 100k)")
    p.add_argument(
        "--dir", type=Path, default=None, help="data directory (default .mpp/bench-scale/<size>)"
    )
    p.add_argument("--chunk", type=int, default=20_000, help="applications per chunk")
    p.add_argument("--rate", type=float, default=20.0, help="counter POST open-loop rate (/s)")
    p.add_argument("--duration", type=float, default=15.0, help="measured seconds per load")
    # 300: p99 is the third slowest call, not the slowest (one outlier).
    p.add_argument("--samples", type=int, default=300, help="requests per read route")
    p.add_argument("--relay-events", type=int, default=5000, help="outbox rows for the relay")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    size = data.parse_size(args.size)
    directory: Path = (args.dir or Path(".mpp/bench-scale") / args.size.lower()).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        if os.environ.pop(name, None) is not None:
            print(f"note: ignoring {name} from the environment", file=sys.stderr)
    if args.command in ("fill", "all"):
        postgres = EmbeddedPostgres(directory / "pgdata")
        postgres.start()
        try:
            dsn = server_settings.configure(postgres, SERVER_SETTINGS)
            started = time.monotonic()
            result = asyncio.run(fill(dsn, size, chunk_size=args.chunk))
            wall = time.monotonic() - started
            print(
                f"fill: done in {wall:,.0f} s; rows written now: "
                + ", ".join(f"{db} {n:,}" for db, n in result.rows_written.items()),
                flush=True,
            )
            (directory / "fill.json").write_text(json.dumps(result.as_dict(), indent=2) + "\n")
        finally:
            postgres.stop()
    if args.command in ("measure", "all"):
        from tests.bench.scale.measure import measure_command

        return measure_command(args, size, directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
