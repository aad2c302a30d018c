"""Keys that rotate, on a real PostgreSQL: rows written under key 1 by intake's
and notify's own use cases and stores stay readable and searchable by NIK (or
recipient) before, during (half moved) and after the rotation to key 2, which
resumes after an interruption and shows its progress."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mpp_intake.settings import IntakeSettings
from mpp_intake.store.encrypted_columns import REGISTRY as INTAKE
from mpp_intake.usecases import application_views, submission
from mpp_notify.store import delivery_log
from mpp_notify.store import recipients as notify_recipients
from mpp_notify.usecases import notifications
from mpp_shared import keyrotation
from mpp_shared.auth import Principal, Role
from mpp_shared.errors import Conflict
from mpp_shared.pii import FieldCipher, cipher_from_settings, field_key_id, index_key_id
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY
from tests.integration.conftest import service_pool
from tests.support.identities import nik, phone

ROOT = Path(__file__).resolve().parents[2]
FRONT_DESK = Principal("frontdesk-1", frozenset({Role.FRONTDESK}), "MPP-01")
NEW_ENCRYPTION_KEY = base64.b64encode(os.urandom(32)).decode()
NEW_INDEX_KEY = base64.b64encode(os.urandom(32)).decode()
BEFORE = IntakeSettings()  # the single-key settings: key id 1
ROTATING = IntakeSettings(
    pii_encryption_keys=f"2:{NEW_ENCRYPTION_KEY},1:{DEV_PII_ENCRYPTION_KEY}",
    pii_index_keys=f"2:{NEW_INDEX_KEY},1:{DEV_PII_INDEX_KEY}",
)
# Only the new keys: what the services run with once the old ones are dropped.
AFTER = FieldCipher({2: NEW_ENCRYPTION_KEY}, {2: NEW_INDEX_KEY})


async def _submit(pool: asyncpg.Pool, cipher: FieldCipher, resident: str) -> None:
    await submission.submit_application(
        pool,
        settings=BEFORE,
        cipher=cipher,
        officer=FRONT_DESK,
        command=submission.SubmitApplication(
            service_code="kk",
            documents=(),
            nik=resident,
            full_name="Budi Santoso",
            phone=phone().e164,
            email="budi@example.go.id",
            channel="mpp_desk",
            pickup_point=None,
            language="id",
            preferred_channel=None,
        ),
        language="id",
        idempotency_key=None,
    )


def _legacy(key_b64: str, value: str, context: str) -> bytes:
    """A field as written before key ids: nonce + AES-GCM ciphertext."""
    nonce = os.urandom(12)
    return nonce + AESGCM(base64.b64decode(key_b64)).encrypt(
        nonce, value.encode(), context.encode()
    )


async def _found(pool: asyncpg.Pool, cipher: FieldCipher, residents: list[str]) -> list[int]:
    """How many applications a NIK search finds, per resident."""
    return [
        (await application_views.search_applications(pool, cipher, r, "id")).total or 0
        for r in residents
    ]


class Interrupted(Exception):
    pass


async def test_search_by_nik_holds_before_during_and_after_the_rotation(
    intake_pool: asyncpg.Pool,
) -> None:
    pool = intake_pool
    old = cipher_from_settings(BEFORE)
    rotating = cipher_from_settings(ROTATING)
    residents = [nik() for _ in range(7)]
    for resident in residents:
        await _submit(pool, old, resident)
    # Two rows as written before key ids existed (no key id in their values).
    legacy_ids = [r["id"] for r in await pool.fetch("SELECT id, nik_enc FROM applications LIMIT 2")]
    for app_id in legacy_ids:
        row = await pool.fetchrow("SELECT nik_enc FROM applications WHERE id = $1", app_id)
        clear = old.decrypt(row["nik_enc"], context="nik")
        await pool.execute(
            "UPDATE applications SET nik_enc = $2, name_enc = $3 WHERE id = $1",
            app_id,
            _legacy(DEV_PII_ENCRYPTION_KEY, clear, "nik"),
            _legacy(DEV_PII_ENCRYPTION_KEY, "Budi Santoso", "name"),
        )
    assert field_key_id(
        await pool.fetchval("SELECT nik_enc FROM applications WHERE id = $1", legacy_ids[0])
    ) not in (1, 2)

    # Before: the new keys are configured, nothing is moved yet.
    assert await _found(pool, old, residents) == [1] * 7
    assert await _found(pool, rotating, residents) == [1] * 7
    assert await _found(pool, AFTER, residents) == [0] * 7

    lines: list[str] = []
    applications = INTAKE.tables[0]
    assert applications.table == "applications"

    # During: one batch of three, as if stopped there.
    half = await keyrotation.rotate_table(
        pool,
        rotating,
        applications,
        service="intake",
        batch_size=3,
        max_batches=1,
        report=lines.append,
    )
    assert (half.total, half.done, half.stopped) == (7, 3, True)
    assert half.remaining == 4
    # A service keeps writing meanwhile, under the new keys.
    late = nik()
    await _submit(pool, rotating, late)
    assert await _found(pool, rotating, [*residents, late]) == [1] * 8
    # A second active application of a resident whose row still carries the
    # old index is refused (the insert's ON CONFLICT alone would not see it).
    unmoved = await pool.fetchval(
        "SELECT nik_enc FROM applications WHERE length(nik_index) = 32 LIMIT 1"
    )
    with pytest.raises(Conflict):
        await _submit(pool, rotating, rotating.decrypt(unmoved, context="nik"))

    # A crash in the middle of the next run (after its first batch) ...
    def crash_after_first_batch(line: str) -> None:
        lines.append(line)
        if "rows/s" in line:
            raise Interrupted

    with pytest.raises(Interrupted):
        await keyrotation.rotate_table(
            pool,
            rotating,
            applications,
            service="intake",
            batch_size=3,
            report=crash_after_first_batch,
        )
    left = await keyrotation.remaining(pool, rotating, INTAKE)
    assert left["applications"] == 1
    assert await _found(pool, rotating, [*residents, late]) == [1] * 8

    # ... and the next run carries on: only what is left, then nothing.
    results = await keyrotation.rotate(pool, rotating, INTAKE, batch_size=3, report=lines.append)
    done = {r.table: r for r in results}
    assert (done["applications"].total, done["applications"].done) == (1, 1)
    assert all(r.remaining == 0 and r.failed == 0 for r in results)
    again = await keyrotation.rotate(pool, rotating, INTAKE, batch_size=3, report=lines.append)
    assert all(r.total == 0 and r.done == 0 for r in again)

    # After: everything under key 2, readable and searchable with key 2 alone.
    assert await _found(pool, AFTER, [*residents, late]) == [1] * 8
    for row in await pool.fetch("SELECT * FROM applications"):
        assert field_key_id(row["nik_enc"]) == field_key_id(row["name_enc"]) == 2
        assert field_key_id(row["phone_enc"]) == field_key_id(row["email_enc"]) == 2
        assert index_key_id(row["nik_index"]) == 2
        assert AFTER.decrypt(row["name_enc"], context="name") == "Budi Santoso"
        assert AFTER.decrypt(row["nik_enc"], context="nik") in {*residents, late}

    # Progress was shown: rows done / total per table, and a rate.
    assert any(line.startswith("intake applications: 3/7 rows") for line in lines), lines
    assert any("rows/s" in line for line in lines)
    assert any("online_drafts.nik_index, phone_index: not moved" in line for line in lines)


async def test_notify_command_moves_the_delivery_log_while_it_stays_searchable(
    database: str,
) -> None:
    """`python -m mpp_notify.rotate_keys` as an operator runs it, on rows
    written by notify's stores under key 1."""
    pool = await service_pool(database, "notify")
    old = cipher_from_settings(BEFORE)
    rotating = cipher_from_settings(ROTATING)
    numbers = [phone().e164 for _ in range(5)]
    try:
        async with pool.acquire() as conn, conn.transaction():
            for n, number in enumerate(numbers):
                channel = "sms" if n % 2 else "whatsapp"
                await delivery_log.insert(
                    conn,
                    delivery_log.NewMessage(
                        id=uuid.uuid4(),
                        source_event_id=uuid.uuid4(),
                        source_event_type="mpp.application.submitted.v1",
                        channel=channel,
                        provider="log",
                        recipient_index=old.blind_index(f"{channel}:{number}", context="recipient"),
                        recipient_masked="+62***",
                        recipient_enc=old.encrypt(number, context="recipient-address"),
                        language="id",
                        subject=None,
                        body="Permohonan diterima",
                        status="queued",
                        urgent=False,
                        next_attempt_at=datetime.now(UTC),
                        application_id=None,
                        complaint_id=None,
                        tracking_code=None,
                        trace_id=None,
                    ),
                )
                await notify_recipients.keep_contact(
                    conn,
                    "application",
                    uuid.uuid4(),
                    old.encrypt(f'{{"phone": "{number}"}}', context="contact"),
                )

        async def found(cipher: FieldCipher) -> list[int]:
            return [
                len(await notifications.search_by_recipient(pool, cipher, number, 10))
                for number in numbers
            ]

        assert await found(rotating) == [1] * 5
        env = {
            **os.environ,
            "PII_ENCRYPTION_KEYS": f"2:{NEW_ENCRYPTION_KEY},1:{DEV_PII_ENCRYPTION_KEY}",
            "PII_INDEX_KEYS": f"2:{NEW_INDEX_KEY},1:{DEV_PII_INDEX_KEY}",
        }
        command = [sys.executable, "-m", "mpp_notify.rotate_keys", "--database-url", database]
        process = await asyncio.create_subprocess_exec(
            *command, "--batch-size", "2", env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        printed = out.decode()
        assert process.returncode == 0, printed
        assert "notify delivery_log: 2/5 rows" in printed
        assert "notify delivery_log: 5 moved, 0 failed, 0 left under older keys" in printed
        assert "notify recipients: 5 moved" in printed
        assert await found(AFTER) == [1] * 5
        for row in await pool.fetch("SELECT recipient_enc, recipient_index FROM delivery_log"):
            assert field_key_id(row["recipient_enc"]) == 2
            assert index_key_id(row["recipient_index"]) == 2
        for row in await pool.fetch("SELECT contact_enc FROM recipients"):
            assert AFTER.decrypt(row["contact_enc"], context="contact").startswith('{"phone"')
        check = await asyncio.create_subprocess_exec(
            *command, "--check", env=env, stdout=asyncio.subprocess.PIPE
        )
        checked, _ = await check.communicate()
        assert check.returncode == 0, checked.decode()
        assert "notify delivery_log: 0 rows under older keys" in checked.decode()
    finally:
        await pool.close()


@pytest.mark.parametrize("service", ["intake", "documents", "complaints", "notify"])
async def test_every_registry_fits_its_schema(database: str, service: str) -> None:
    """The rotation's SQL for every registered table prepares against the
    migrated schema (columns, key types), and a run on empty tables is a no-op."""
    import importlib

    found: keyrotation.Registry = importlib.import_module(
        f"mpp_{service}.store.encrypted_columns"
    ).REGISTRY
    pool = await service_pool(database, service)
    try:
        async with pool.acquire() as conn:
            for table in found.tables:
                for sql in (
                    keyrotation.count_sql(table),
                    keyrotation.batch_sql(table),
                    keyrotation.update_sql(table),
                ):
                    await conn.prepare(sql)
        results = await keyrotation.rotate(
            pool, cipher_from_settings(ROTATING), found, report=lambda line: None
        )
        assert all(r.total == r.done == r.remaining == 0 for r in results)
    finally:
        await pool.close()
