"""The document register on a real PostgreSQL: gapless numbers under
concurrency and rollbacks, one document per job, yearly series, revocation and
what the public verification answers."""

from __future__ import annotations

import asyncio
import random
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from mpp_documents.api.routes import verify
from mpp_documents.domain import register as reg
from mpp_documents.store import register as register_store
from mpp_documents.usecases import register
from mpp_shared import migrate
from mpp_shared.auth import mint_token
from mpp_shared.db import create_pool
from mpp_shared.settings import DEV_JWT_SECRET
from mpp_shared.web import get_pool, install_error_handlers

DOCUMENTS_MIGRATIONS = (
    Path(__file__).resolve().parents[2] / "services" / "documents" / "mpp_documents" / "migrations"
)
ISSUED_2026 = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)


class Rollback(Exception):
    """Raised on purpose to roll an issuing transaction back."""


@pytest.fixture
async def register_db(database: str, tmp_path: Path) -> str:
    # The register's own migration (and the jobs table it sits beside); other
    # documents migrations being written in parallel are not needed here.
    folder = tmp_path / "documents_migrations"
    folder.mkdir()
    for name in ("001_jobs.sql", "004_register.sql"):
        shutil.copy(DOCUMENTS_MIGRATIONS / name, folder / name)
    conn = await asyncpg.connect(database)
    try:
        await migrate.apply_migrations(
            conn, {"shared": migrate.SHARED_MIGRATIONS, "documents": folder}
        )
    finally:
        await conn.close()
    return database


async def _issue(
    conn: asyncpg.Connection,
    *,
    job_id: uuid.UUID | None = None,
    doc_type: str = "akta_kelahiran",
    office: str = "3506",
    issued_at: datetime = ISSUED_2026,
) -> reg.IssuedDocument:
    return await register.issue(
        conn,
        job_id=job_id or uuid.uuid4(),
        application_id=uuid.uuid4(),
        doc_type=doc_type,
        office=office,
        holder_masked="B*** S***",
        issued_at=issued_at,
    )


async def _counter(conn: asyncpg.Connection, doc_type: str, office: str, year: int) -> int | None:
    last: int | None = await conn.fetchval(
        "SELECT last FROM register_counters WHERE doc_type = $1 AND office = $2 AND year = $3",
        doc_type,
        office,
        year,
    )
    return last


# --- (1) gapless under concurrency --------------------------------------------


async def test_concurrent_issues_with_rollbacks_leave_no_gap_and_no_duplicate(
    register_db: str,
) -> None:
    total, connections = 50, 10
    rolled_back = {i for i in range(total) if i % 6 == 2}  # 8 of 50, spread out
    jobs = [uuid.uuid4() for _ in range(total)]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    start = asyncio.Event()
    handed_out: list[int] = []  # numbers seen inside transactions, committed or not
    rng = random.Random(4)

    async def worker(conn: asyncpg.Connection) -> None:
        await start.wait()
        while not queue.empty():
            i = queue.get_nowait()
            try:
                async with conn.transaction():
                    document = await _issue(conn, job_id=jobs[i])
                    handed_out.append(document.seq)
                    # hold the counter row a moment so the others queue up on it
                    await asyncio.sleep(rng.random() / 200)
                    if i in rolled_back:
                        raise Rollback
            except Rollback:
                pass

    conns = [await asyncpg.connect(register_db) for _ in range(connections)]
    try:
        tasks = [asyncio.create_task(worker(c)) for c in conns]
        start.set()
        await asyncio.gather(*tasks)

        rows = await conns[0].fetch("SELECT job_id, seq, number FROM issued_documents ORDER BY seq")
        committed = total - len(rolled_back)
        assert [r["seq"] for r in rows] == list(range(1, committed + 1))
        assert [r["number"] for r in rows] == [
            f"3506-AKL-2026-{n:06d}" for n in range(1, committed + 1)
        ]
        assert {r["job_id"] for r in rows} == {
            jobs[i] for i in range(total) if i not in rolled_back
        }
        assert await _counter(conns[0], "akta_kelahiran", "3506", 2026) == committed
        # rolled-back numbers were really handed out, then handed out again
        assert len(handed_out) == total
        assert len(set(handed_out)) < total
    finally:
        for c in conns:
            await c.close()


# --- (2) one document per job -------------------------------------------------


async def test_a_second_issue_for_the_same_job_returns_the_first_and_takes_no_number(
    register_db: str,
) -> None:
    conn = await asyncpg.connect(register_db)
    try:
        job_id = uuid.uuid4()
        async with conn.transaction():
            first = await _issue(conn, job_id=job_id)
        async with conn.transaction():
            again = await _issue(conn, job_id=job_id, issued_at=datetime.now(UTC))
        assert again == first
        assert first.seq == 1 and first.number == "3506-AKL-2026-000001"
        assert reg.is_valid_code(first.verification_code)
        assert await _counter(conn, "akta_kelahiran", "3506", 2026) == 1
        assert (await _issue(conn)).seq == 2  # also without a caller's transaction
        assert await conn.fetchval("SELECT count(*) FROM issued_documents") == 2
    finally:
        await conn.close()


async def test_two_racing_issues_for_one_job_give_one_document_and_one_number(
    register_db: str,
) -> None:
    a, b = await asyncpg.connect(register_db), await asyncpg.connect(register_db)
    try:
        job_id = uuid.uuid4()
        tx_a = a.transaction()
        await tx_a.start()
        first = await _issue(a, job_id=job_id)
        async with b.transaction():
            # b does not see a's uncommitted document and waits on the counter row
            racing = asyncio.create_task(_issue(b, job_id=job_id))
            await asyncio.sleep(0.2)
            assert not racing.done()
            await tx_a.commit()
            second = await racing
        assert second == first
        assert await _counter(a, "akta_kelahiran", "3506", 2026) == 1
        assert (await _issue(a)).seq == 2
    finally:
        await a.close()
        await b.close()


async def test_holder_must_come_masked(register_db: str) -> None:
    conn = await asyncpg.connect(register_db)
    try:
        with pytest.raises(ValueError, match="masked"):
            await register.issue(
                conn,
                job_id=uuid.uuid4(),
                application_id=uuid.uuid4(),
                doc_type="kk",
                office="3506",
                holder_masked="3506042602660001",
                issued_at=ISSUED_2026,
            )
        assert await conn.fetchval("SELECT count(*) FROM register_counters") == 0
    finally:
        await conn.close()


# --- (3) series ---------------------------------------------------------------


async def test_each_type_office_and_year_has_its_own_series(register_db: str) -> None:
    conn = await asyncpg.connect(register_db)
    try:
        late_2026 = datetime(2026, 12, 31, 16, 59, tzinfo=UTC)  # 23:59 WIB
        early_2027 = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # 00:00 WIB, 1 January
        assert (await _issue(conn, issued_at=ISSUED_2026)).seq == 1
        assert (await _issue(conn, issued_at=late_2026)).number == "3506-AKL-2026-000002"
        new_year = await _issue(conn, issued_at=early_2027)
        assert (new_year.year, new_year.seq, new_year.number) == (2027, 1, "3506-AKL-2027-000001")
        assert (await _issue(conn, issued_at=early_2027)).seq == 2
        assert (await _issue(conn, issued_at=late_2026)).seq == 3  # 2026 goes on where it was
        other_type = await _issue(conn, doc_type="ktp_el")
        assert other_type.number == "3506-KTP-2026-000001"
        other_office = await _issue(conn, office="kec-pare")
        assert (other_office.office, other_office.number) == (
            "KEC-PARE",
            "KEC-PARE-AKL-2026-000001",
        )
        unmapped = await _issue(conn, doc_type="surat_keterangan_baru")
        assert unmapped.number == "3506-SURAT_KETERANGAN_BARU-2026-000001"
    finally:
        await conn.close()


# --- (4) revocation and verification -----------------------------------------


async def test_revocation_through_the_module(register_db: str) -> None:
    conn = await asyncpg.connect(register_db)
    try:
        document = await _issue(conn)
        found = await register_store.find_by_code(conn, document.verification_code.lower())
        assert found == document and not document.revoked
        assert await register_store.find(conn, document.number.lower()) == document
        assert await register_store.find(conn, str(document.id)) == document
        assert await register_store.find(conn, "3506-AKL-2026-999999") is None
        assert await register_store.find(conn, str(uuid.uuid4())) is None

        at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
        async with conn.transaction():
            revoked = await register.revoke(
                conn, number_or_id=document.number, by="sup-1", reason="salah cetak", at=at
            )
        assert (revoked.revoked_at, revoked.revoked_by, revoked.revoke_reason) == (
            at,
            "sup-1",
            "salah cetak",
        )
        assert revoked.status == "revoked"
        assert await register_store.find_by_code(conn, document.verification_code) == revoked
        with pytest.raises(reg.AlreadyRevoked) as info:
            async with conn.transaction():
                await register.revoke(
                    conn, number_or_id=str(document.id), by="sup-2", reason="lagi", at=at
                )
        assert info.value.document == revoked
        with pytest.raises(reg.NotRegistered):
            await register.revoke(conn, number_or_id="nope", by="sup-1", reason="x", at=at)
    finally:
        await conn.close()


@pytest.fixture
async def client(register_db: str) -> AsyncIterator[httpx.AsyncClient]:
    """The register's routes on a real database (the rest of the service not started)."""
    pool = await create_pool(register_db)
    app = FastAPI()
    app.state.settings = SimpleNamespace(jwt_secret=DEV_JWT_SECRET, jwt_issuer="mpp")
    install_error_handlers(app)
    for router in verify.routers:
        app.include_router(router)
    app.dependency_overrides[get_pool] = lambda: pool
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://documents") as http:
            http.app_pool = pool  # type: ignore[attr-defined]
            yield http
    finally:
        await pool.close()


def _bearer(*roles: str, subject: str = "officer-1") -> dict[str, str]:
    token = mint_token(DEV_JWT_SECRET, subject=subject, roles=list(roles), counter="MPP-03")
    return {"Authorization": f"Bearer {token}"}


async def test_verify_and_revoke_over_http(client: httpx.AsyncClient) -> None:
    pool: asyncpg.Pool = client.app_pool  # type: ignore[attr-defined]
    async with pool.acquire() as conn, conn.transaction():
        document = await _issue(conn, doc_type="akta_kelahiran")
    code = document.verification_code

    answer = await client.get(f"/v1/verify/{code[:4].lower()}-{code[4:]}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json() == {
        "verification_code": code,
        "status": "valid",
        "valid": True,
        "document_type": "akta_kelahiran",
        "document_type_name": "Akta Kelahiran",
        "number": "3506-AKL-2026-000001",
        "issued_on": "2026-05-04",
        "office": "3506",
        "holder": "B*** S***",
        "revoked_on": None,
    }
    english = await client.get(f"/v1/verify/{code}", headers={"Accept-Language": "en"})
    assert english.json()["document_type_name"] == "Birth certificate"

    unknown = await client.get(f"/v1/verify/{reg.new_verification_code()}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    mistyped = code[:-1] + ("2" if code[-1] != "2" else "3")
    bad = await client.get(f"/v1/verify/{mistyped}")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "code"
    assert bad.json()["errors"][0]["type"] == "check_character"

    path = f"/v1/documents/{document.number}/revocation"
    body = {"reason": "Salah cetak nama ibu"}
    assert (await client.post(path, json=body)).status_code == 401
    assert (await client.post(path, json=body, headers=_bearer("production"))).status_code == 403
    empty = await client.post(path, json={"reason": " "}, headers=_bearer("supervisor"))
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason"
    missing = await client.post(
        "/v1/documents/3506-AKL-2026-999999/revocation", json=body, headers=_bearer("supervisor")
    )
    assert missing.status_code == 404

    revoked = await client.post(path, json=body, headers=_bearer("supervisor", subject="sup-9"))
    assert revoked.status_code == 200, revoked.text
    record = revoked.json()
    assert (record["status"], record["revoked_by"], record["revoke_reason"]) == (
        "revoked",
        "sup-9",
        "Salah cetak nama ibu",
    )
    assert record["id"] == str(document.id) and record["job_id"] == str(document.job_id)

    after = (await client.get(f"/v1/verify/{code}")).json()
    assert (after["status"], after["valid"]) == ("revoked", False)
    assert after["revoked_on"] is not None
    assert "sup-9" not in str(after) and "ibu" not in str(after)

    twice = await client.post(
        f"/v1/documents/{document.id}/revocation",
        json={"reason": "lagi"},
        headers=_bearer("supervisor", subject="sup-10"),
    )
    assert twice.status_code == 409
    conflict = twice.json()
    assert conflict["code"] == "already_revoked"
    assert (conflict["current_state"], conflict["revoked_by"], conflict["number"]) == (
        "revoked",
        "sup-9",
        document.number,
    )

    audit = await pool.fetch(
        "SELECT actor, counter, action, target_type, target_id, detail FROM audit_log"
    )
    assert [dict(r) for r in audit] == [
        {
            "actor": "sup-9",
            "counter": "MPP-03",
            "action": "document.revoked",
            "target_type": "issued_document",
            "target_id": str(document.id),
            "detail": {
                "number": document.number,
                "job_id": str(document.job_id),
                "reason": "Salah cetak nama ibu",
            },
        }
    ]
