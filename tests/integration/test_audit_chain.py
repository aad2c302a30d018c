"""The tamper-evident audit trail on real PostgreSQL: entries committed
concurrently are sealed into one unbroken chain; what a database
administrator may do behind the services' back (edit, delete, reorder,
re-hash, forge a checkpoint) is found at its first broken link by the check
the admin endpoint and the `verify-audit` command run."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from mpp_shared import audit, migrate
from mpp_shared.audit_chain import (
    checkpoint_message,
    detail_digest,
    entry_hash,
    key_id,
    keyring,
    public_key_text,
    signing_key,
)
from mpp_shared.audit_check import AuditVerification, verify_pool
from mpp_shared.audit_sealer import AuditSealer
from mpp_shared.auth import Principal, Role
from mpp_shared.db import create_pool
from mpp_shared.settings import DEV_AUDIT_SIGNING_KEY, ServiceSettings
from mpp_shared.web import install_error_handlers
from mpp_shared.web.audit import router as audit_router
from mpp_shared.web.deps import get_pool
from tests.support.auth import auth

KEY = signing_key(DEV_AUDIT_SIGNING_KEY)
KEYS = keyring([KEY.public_key()])
OFFICER = Principal(subject="verifier-7", roles=frozenset({Role.VERIFIER}), counter="MPP-02")


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database, max_size=12)
    async with pool.acquire() as conn:
        await migrate.apply_migrations(conn, {"shared": migrate.SHARED_MIGRATIONS})
    yield pool
    await pool.close()


def sealer(pool: asyncpg.Pool, **options: int) -> AuditSealer:
    return AuditSealer(pool, "intake", KEY, **options)


async def write(pool: asyncpg.Pool, n: int, *, detail: dict[str, object] | None = None) -> None:
    for i in range(n):
        async with pool.acquire() as conn, conn.transaction():
            await audit.record(
                conn,
                OFFICER,
                action="application.verified",
                target_type="application",
                target_id=f"app-{i}",
                detail=detail or {"checks": [{"item": "ktp", "ok": True}], "n": i, "ratio": 0.5},
            )


async def seal_all(s: AuditSealer) -> None:
    while (await s.step(force_checkpoint=True)).sealed:
        pass


async def check(pool: asyncpg.Pool) -> AuditVerification:
    return await verify_pool(pool, keys=KEYS, unsealed_bound=300, service="intake")


async def as_dba(pool: asyncpg.Pool, *statements: str) -> None:
    """Statements run the way a database administrator could: with the
    append-only triggers bypassed."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        for statement in statements:
            await conn.execute(statement)


async def test_entries_committed_concurrently_are_sealed_in_one_unbroken_chain(
    pool: asyncpg.Pool,
) -> None:
    await write(pool, 5)  # entries that were there before the sealer ran
    rng = random.Random(17)

    async def officer_action(i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            for j in range(3):
                await audit.record(
                    conn, OFFICER, action="job.ready", target_type="job", target_id=f"{i}-{j}"
                )
                # Transactions overlap and commit out of id order.
                await asyncio.sleep(rng.random() / 50)

    sealers = [sealer(pool, batch_size=7, checkpoint_every=10) for _ in range(2)]
    writers = asyncio.gather(*(officer_action(i) for i in range(40)))
    steps: list[int] = []
    while not writers.done():
        results = await asyncio.gather(*(s.step() for s in sealers))
        steps.append(sum(r.sealed for r in results))
        assert sum(not r.locked_out for r in results) >= 1
        await asyncio.sleep(0.005)
    await writers
    await seal_all(sealers[0])

    report = await check(pool)
    assert report.intact, report.first_break
    assert report.records_checked == report.head_position == 125
    assert report.unsealed == 0
    assert report.last_checkpoint is not None and report.last_checkpoint.position == 125
    assert report.last_checkpoint.signature_valid
    assert report.checkpoints_checked >= 2  # every 10 entries or more, and the last
    assert sum(steps) > 0, "the sealer ran while the officers were writing"
    positions = await pool.fetch("SELECT position FROM audit_log ORDER BY position")
    assert [r["position"] for r in positions] == list(range(1, 126))


Tamper = Callable[[asyncpg.Pool], Awaitable[None]]


async def _row(pool: asyncpg.Pool, position: int) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM audit_log WHERE position = $1", position)
    assert row is not None
    return row


async def _rehash_from(pool: asyncpg.Pool, position: int) -> None:
    """Re-hash the chain from `position` on, as someone who knows the
    encoding but not the signing key would after changing an entry."""
    prev = bytes((await _row(pool, position - 1))["hash"])
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        rows = await conn.fetch(
            "SELECT * FROM audit_log WHERE position >= $1 ORDER BY position", position
        )
        for row in rows:
            digest = detail_digest(row["detail"])
            new = entry_hash(row, digest, prev)
            await conn.execute(
                "UPDATE audit_log SET detail_digest = $2, prev_hash = $3, hash = $4 WHERE id = $1",
                row["id"],
                digest,
                prev,
                new,
            )
            prev = new


async def _forge_checkpoint(pool: asyncpg.Pool) -> None:
    row = await _row(pool, 10)
    other = Ed25519PrivateKey.generate()
    at = datetime.now(UTC)
    signature = other.sign(checkpoint_message("intake", 10, bytes(row["hash"]), at))
    await pool.execute(
        "INSERT INTO audit_checkpoint VALUES (10, $1, 'intake', $2, $3, $4)",
        row["hash"],
        at,
        key_id(KEY.public_key()),  # claims the service's key
        signature,
    )


async def _swap_positions(pool: asyncpg.Pool) -> None:
    await as_dba(
        pool,
        "UPDATE audit_log SET position = -6 WHERE position = 6",
        "UPDATE audit_log SET position = 6 WHERE position = 7",
        "UPDATE audit_log SET position = 7 WHERE position = -6",
    )


async def _change_and_rehash(pool: asyncpg.Pool) -> None:
    await as_dba(pool, "UPDATE audit_log SET actor = 'someone-else' WHERE position = 2")
    await _rehash_from(pool, 2)


TAMPERING: dict[str, tuple[Tamper, str, int, bool]] = {
    # what is done: (how, the break's kind, its position, the entry is named)
    "detail edited": (
        lambda p: as_dba(
            p, "UPDATE audit_log SET detail = detail || '{\"n\": 99}' WHERE position = 3"
        ),
        "changed_content",
        3,
        True,
    ),
    "actor edited": (
        lambda p: as_dba(p, "UPDATE audit_log SET actor = 'frontdesk-1' WHERE position = 5"),
        "changed_content",
        5,
        True,
    ),
    "entry deleted": (
        lambda p: as_dba(p, "DELETE FROM audit_log WHERE position = 6"),
        "missing_record",
        6,
        False,
    ),
    "entry deleted, positions renumbered": (
        lambda p: as_dba(
            p,
            "DELETE FROM audit_log WHERE position = 6",
            "UPDATE audit_log SET position = position - 1 WHERE position > 6",
        ),
        "broken_link",
        6,
        True,
    ),
    "two entries swapped": (_swap_positions, "reordered", 6, True),
    "entry changed and the chain re-hashed": (_change_and_rehash, "chain_rewritten", 4, True),
    "checkpoint's hash altered": (
        lambda p: as_dba(
            p, "UPDATE audit_checkpoint SET hash = sha256('x'::bytea) WHERE position = 8"
        ),
        "bad_checkpoint",
        8,
        True,
    ),
    "checkpoint forged with another key": (_forge_checkpoint, "bad_checkpoint", 10, True),
    "tail cut off": (
        lambda p: as_dba(p, "DELETE FROM audit_log WHERE position > 8"),
        "missing_record",
        9,
        False,
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
async def test_the_check_finds_the_first_broken_link(pool: asyncpg.Pool, case: str) -> None:
    await write(pool, 12)
    s = sealer(pool, checkpoint_every=4, batch_size=4)
    while (await s.step()).sealed:
        pass
    signed = await pool.fetch("SELECT position FROM audit_checkpoint ORDER BY position")
    assert [r["position"] for r in signed] == [4, 8, 12]
    assert (await check(pool)).intact
    tamper, kind, position, named = TAMPERING[case]
    await tamper(pool)

    report = await check(pool)
    assert not report.intact
    assert report.first_break is not None
    assert (report.first_break.kind, report.first_break.position) == (kind, position)
    assert (report.first_break.audit_id is not None) == named
    assert report.first_break.explanation


async def test_an_audited_erasure_of_the_detail_keeps_the_chain(pool: asyncpg.Pool) -> None:
    await write(pool, 3, detail={"reason": "a note naming a person", "n": 1})
    s = sealer(pool)
    await s.step()
    target = (await _row(pool, 2))["id"]
    supervisor = Principal(subject="supervisor-1", roles=frozenset({Role.SUPERVISOR}))
    async with pool.acquire() as conn, conn.transaction():
        erasure = await audit.erase_detail(conn, supervisor, target, reason="retention")
    await s.step(force_checkpoint=True)
    erased = await pool.fetchrow("SELECT * FROM audit_log WHERE id = $1", target)
    assert erased["detail"] == {} and erased["detail_erased_by"] == erasure
    report = await check(pool)
    assert report.intact, report.first_break
    assert report.records_checked == 4

    # A plain edit is refused by the trigger; bypassing it is found.
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("UPDATE audit_log SET detail = '{}' WHERE position = 1")
    await as_dba(
        pool, "UPDATE audit_log SET detail = '{}', detail_erased_by = 1 WHERE position = 3"
    )
    found = (await check(pool)).first_break
    assert found is not None and (found.kind, found.position) == ("changed_content", 3)


async def test_entries_left_unsealed_past_the_bound_are_reported(pool: asyncpg.Pool) -> None:
    await write(pool, 2)
    await sealer(pool).step()
    await write(pool, 1)
    await pool.execute(
        "INSERT INTO audit_log (at, actor, roles, action, target_type, target_id) "
        "VALUES (now() - interval '1 hour', 'v', '{verifier}', 'x', 'y', 'z')"
    )
    report = await check(pool)
    assert report.intact
    assert (report.unsealed, report.unsealed_overdue) == (2, 1)
    assert report.oldest_unsealed_at is not None


# --- the admin endpoint and the command --------------------------------------


@pytest.fixture
async def api(pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.settings = ServiceSettings(service_name="intake", audit_unsealed_bound=60)
    install_error_handlers(app)
    app.include_router(audit_router)
    app.dependency_overrides[get_pool] = lambda: pool
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://intake"
    ) as client:
        yield client


async def test_the_admin_endpoint_reports_the_check(
    pool: asyncpg.Pool, api: httpx.AsyncClient
) -> None:
    await write(pool, 4)
    await sealer(pool).step()
    answer = await api.get("/v1/audit/verification", headers=auth("admin"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["intact"] is True and body["records_checked"] == 4
    assert body["service"] == "intake" and body["unsealed_bound_seconds"] == 60
    assert body["last_checkpoint"]["position"] == 4
    assert body["last_checkpoint"]["signature_valid"] is True

    for role in ("supervisor", "verifier"):
        refused = await api.get("/v1/audit/verification", headers=auth(role))
        assert refused.status_code == 403, role
    assert (await api.get("/v1/audit/verification")).status_code == 401

    await as_dba(pool, "UPDATE audit_log SET target_id = 'app-x' WHERE position = 2")
    broken = await api.get(
        "/v1/audit/verification", headers={**auth("admin"), "Accept-Language": "en"}
    )
    found = broken.json()["first_break"]
    assert broken.json()["intact"] is False
    assert (found["kind"], found["position"]) == ("changed_content", 2)
    assert "differ from what was sealed" in found["explanation"]
    # The supervisor's view shows where each entry stands in the chain.
    trail = await api.get("/v1/audit", headers=auth("supervisor"))
    assert {e["position"] for e in trail.json()["items"]} == {1, 2, 3, 4}


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mpp_shared.audit_verify", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_command_reports_and_exits_by_what_it_found(
    database: str, pool: asyncpg.Pool
) -> None:
    await write(pool, 3)
    await sealer(pool).step()
    public = public_key_text(KEY.public_key())
    args = ["--database-url", database, "--public-key", public, "--language", "en"]

    intact = await asyncio.to_thread(_command, *args)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert ": intact" in intact.stdout and "3 entries checked" in intact.stdout

    # Checked with a key that did not sign the checkpoint: refused.
    stranger = public_key_text(Ed25519PrivateKey.generate().public_key())
    text = await asyncio.to_thread(
        _command, "--database-url", database, "--public-key", stranger, "--language", "en"
    )
    assert text.returncode == 1 and "BROKEN at position 3" in text.stdout
    assert "unknown key" in text.stdout

    await as_dba(pool, "DELETE FROM audit_log WHERE position = 2")
    broken = await asyncio.to_thread(_command, *args, "--json")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    (report,) = json.loads(broken.stdout).values()
    assert report["first_break"]["kind"] == "missing_record"
    assert report["first_break"]["position"] == 2


async def test_the_background_loop_seals_what_is_committed(pool: asyncpg.Pool) -> None:
    settings = ServiceSettings(service_name="intake", audit_seal_interval=0.05)
    loop = asyncio.create_task(AuditSealer.from_settings(pool, settings).run())
    try:
        await write(pool, 3)
        deadline = asyncio.get_running_loop().time() + 20
        while await pool.fetchval("SELECT count(*) FROM audit_log WHERE position IS NULL"):
            assert asyncio.get_running_loop().time() < deadline, "nothing sealed"
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    report = await check(pool)
    assert report.intact and report.head_position == 3
    assert report.last_checkpoint is not None  # the first round signs at once
