"""The `verify-audit` command: the audit chain check (`mpp_shared.audit_check`)
of one service's database or of the four on one server.

    python -m mpp_shared.audit_verify --server postgresql://host/postgres
        (the four services' databases, mpp_<service>, on that server)
    python -m mpp_shared.audit_verify --database-url postgresql://host/mpp_intake
    python -m mpp_shared.audit_verify --pgdata .mpp/pgdata   (what `make run` started)
        [--public-key BASE64 ...] [--unsealed-bound SECONDS] [--json] [--language en]
    python -m mpp_shared.audit_verify --new-key           (a new signing key pair)
    python -m mpp_shared.audit_verify --show-public-key   (of AUDIT_SIGNING_KEY)

Without --public-key the keys come from AUDIT_SIGNING_KEY / AUDIT_VERIFY_KEYS.
Exit status: 0 intact, 1 a broken link, 2 only entries unsealed for longer
than the bound (is the sealer running?), 3 a database could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mpp_shared.audit_chain import key_id, keyring, public_key, public_key_text, signing_key
from mpp_shared.audit_check import AuditVerification, verify_pool
from mpp_shared.db import create_pool, with_database

SERVICES = ("intake", "documents", "complaints", "notify")


def exit_status(report: AuditVerification) -> int:
    if not report.intact:
        return 1
    return 2 if report.unsealed_overdue else 0


def describe(name: str, report: AuditVerification) -> str:
    """One paragraph per database, for a person."""
    head = f"{report.head_position}" + (f" ({report.head_hash[:16]}…)" if report.head_hash else "")
    if report.first_break is not None:
        b = report.first_break
        where = f"position {b.position}" + (f", entry {b.audit_id}" if b.audit_id else "")
        state = f"BROKEN at {where}: {b.kind}\n  {b.explanation}"
    else:
        state = "intact"
    c = report.last_checkpoint
    checkpoint = (
        f"last checkpoint at {c.position}, signed {c.signed_at.isoformat()} with key "
        f"{c.key_id} ({'valid' if c.signature_valid else 'INVALID'} signature)"
        if c
        else "no checkpoint yet"
    )
    return (
        f"{name}: {state}\n"
        f"  {report.records_checked} entries checked, head at {head}, "
        f"{report.checkpoints_checked} checkpoints checked; {checkpoint}\n"
        f"  {report.unsealed} unsealed, {report.unsealed_overdue} older than "
        f"{report.unsealed_bound_seconds:g} s"
    )


def server_from_pgdata(pgdata: Path) -> str:
    """The URL of the PostgreSQL server running from `pgdata` (its
    postmaster.pid: line 4 the port, 5 the socket directory, 6 the address)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        print(
            f"no PostgreSQL runs from {pgdata}: start `make run`, or give DATABASE_URL",
            file=sys.stderr,
        )
        raise SystemExit(3) from None
    port, socket_dir = lines[3].strip(), lines[4].strip()
    if socket_dir:
        return f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"
    host = lines[5].strip() if len(lines) > 5 and lines[5].strip() not in ("", "*") else "127.0.0.1"
    return f"postgresql://postgres@{host}:{port}/postgres"


async def _check(
    targets: Sequence[tuple[str, str, str | None]], options: argparse.Namespace
) -> list[tuple[str, AuditVerification | None, str | None]]:
    results: list[tuple[str, AuditVerification | None, str | None]] = []
    for name, url, service in targets:
        try:
            pool = await create_pool(url, min_size=1, max_size=1, command_timeout=60)
        except (OSError, asyncpg.PostgresError) as exc:
            results.append((name, None, f"{type(exc).__name__}: {exc}"))
            continue
        try:
            report = await verify_pool(
                pool,
                keys=options.keys,
                unsealed_bound=options.unsealed_bound,
                service=service,
                language=options.language,
            )
            results.append((name, report, None))
        except asyncpg.PostgresError as exc:
            results.append((name, None, f"{type(exc).__name__}: {exc}"))
        finally:
            await pool.close()
    return results


def _keys_and_bound(options: argparse.Namespace) -> None:
    if options.public_key and options.unsealed_bound is not None:
        options.keys = keyring(public_key(k) for k in options.public_key)
        return
    from mpp_shared.audit_chain import verify_keys
    from mpp_shared.settings import ServiceSettings

    settings = ServiceSettings()
    options.keys = (
        keyring(public_key(k) for k in options.public_key)
        if options.public_key
        else verify_keys(settings)
    )
    if options.unsealed_bound is None:
        options.unsealed_bound = settings.audit_unsealed_bound


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mpp_shared.audit_verify",
        description="Check the services' tamper-evident audit chains.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="one service's database (default: DATABASE_URL)")
    where.add_argument("--server", help="a server holding mpp_<service> for the four services")
    where.add_argument("--pgdata", type=Path, help="the data directory of `make run`'s server")
    where.add_argument("--new-key", action="store_true", help="print a new signing key pair")
    where.add_argument(
        "--show-public-key", action="store_true", help="the public key of AUDIT_SIGNING_KEY"
    )
    parser.add_argument("--public-key", action="append", default=[], help="base64, repeatable")
    parser.add_argument("--unsealed-bound", type=float, default=None, help="seconds")
    parser.add_argument("--json", action="store_true", help="the reports as JSON")
    parser.add_argument("--language", choices=["id", "en"], default="id")
    options = parser.parse_args(argv)
    if options.new_key or options.show_public_key:
        private = (
            Ed25519PrivateKey.generate()
            if options.new_key
            else signing_key(os.environ.get("AUDIT_SIGNING_KEY", ""))
        )
        if options.new_key:
            raw = private.private_bytes_raw()
            print(f"AUDIT_SIGNING_KEY={base64.b64encode(raw).decode()}")
        print(f"public key: {public_key_text(private.public_key())}")
        print(f"key id: {key_id(private.public_key())}")
        return 0
    server = options.server or (server_from_pgdata(options.pgdata) if options.pgdata else None)
    targets: list[tuple[str, str, str | None]]
    if server:
        targets = [(f"mpp_{s}", with_database(server, f"mpp_{s}"), s) for s in SERVICES]
    else:
        url = options.database_url or os.environ.get("DATABASE_URL")
        if not url:
            parser.error("give --database-url, --server or --pgdata (or set DATABASE_URL)")
        targets = [(url.rsplit("/", 1)[-1].split("?")[0] or "database", url, None)]
    _keys_and_bound(options)
    results = asyncio.run(_check(targets, options))
    out: dict[str, Any] = {}
    for name, report, error in results:
        out[name] = report.model_dump(mode="json") if report else {"error": error}
        if not options.json:
            print(describe(name, report) if report else f"{name}: could not be checked: {error}")
    if options.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    statuses = {exit_status(r) if r else 3 for _, r, _ in results}
    # A broken link first, then what could not be read, then a sealer behind.
    return next((s for s in (1, 3, 2) if s in statuses), 0)


if __name__ == "__main__":
    sys.exit(main())
