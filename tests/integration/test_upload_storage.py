"""Upload storage on real servers: the PostgreSQL backend on the test
database, the S3 backend on a local S3-compatible server (moto's threaded
server, started here on a free port). Both only ever hold ciphertext."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import boto3
import pytest
from cryptography.exceptions import InvalidTag
from fpdf import FPDF
from moto.server import ThreadedMotoServer

from mpp_intake.settings import IntakeSettings
from mpp_intake.store.file_storage import (
    EncryptedFileStorage,
    FileMissing,
    FileStorage,
    PostgresFileStorage,
    S3FileStorage,
    file_storage,
)
from mpp_shared.pii import FieldCipher
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY

CIPHER = FieldCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY)
S3_LOGIN: dict[str, Any] = {"s3_access_key_id": "test-key", "s3_secret_access_key": "test-secret"}


def paper(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str, bucket: str) -> IntakeSettings:
    return IntakeSettings(
        upload_storage="s3", s3_endpoint_url=endpoint, s3_bucket=bucket, **S3_LOGIN
    )


def raw_s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_LOGIN["s3_access_key_id"],
        aws_secret_access_key=S3_LOGIN["s3_secret_access_key"],
        region_name="us-east-1",
    )


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"mpp-uploads-{uuid.uuid4().hex[:8]}"
    raw_s3(s3_endpoint).create_bucket(Bucket=name)
    return name


async def round_trip(storage: FileStorage) -> tuple[str, bytes]:
    """The behaviour both backends share; returns a key still stored and its clear bytes."""
    await storage.ready()
    key = f"applications/{uuid.uuid4()}/{uuid.uuid4()}"
    first, second = paper("Kartu Keluarga"), paper("Akta Kelahiran")
    await storage.put(key, first)
    assert await storage.get(key) == first
    await storage.put(key, second)  # the same key again replaces the blob
    assert await storage.get(key) == second

    gone = f"drafts/{uuid.uuid4()}/ktp"
    await storage.put(gone, first)
    await storage.delete(gone)
    with pytest.raises(FileMissing):
        await storage.get(gone)
    await storage.delete(gone)  # deleting what is not there is no error
    with pytest.raises(FileMissing):
        await storage.get(f"drafts/{uuid.uuid4()}/never")
    with pytest.raises(ValueError):
        await storage.put("../outside", first)

    # Many at once: the S3 calls run in threads, the loop never waits on one.
    many = {f"drafts/{uuid.uuid4()}/n{n}": paper(f"halaman {n}") for n in range(8)}
    await asyncio.gather(*(storage.put(k, v) for k, v in many.items()))
    assert await asyncio.gather(*(storage.get(k) for k in many)) == list(many.values())
    return key, second


async def test_the_database_backend_holds_only_ciphertext(intake_pool: asyncpg.Pool) -> None:
    storage = file_storage(IntakeSettings(), intake_pool, CIPHER)
    assert storage.backend == "postgres"
    key, clear = await round_trip(storage)

    row = await intake_pool.fetchrow("SELECT data, size FROM upload_blobs WHERE key = $1", key)
    assert row is not None
    stored = bytes(row["data"])
    assert b"%PDF" not in stored and clear[100:140] not in stored
    assert row["size"] == len(stored) == len(clear) + 6 + 28  # key id header, nonce, tag
    assert CIPHER.decrypt_bytes(stored, context=f"upload:{key}") == clear

    # A blob copied under another key does not open: the key is bound to it.
    other = f"applications/{uuid.uuid4()}/stolen"
    await intake_pool.execute(
        "INSERT INTO upload_blobs (key, data, size) VALUES ($1, $2, $3)", other, stored, len(stored)
    )
    with pytest.raises(InvalidTag):
        await storage.get(other)


async def test_the_database_backend_writes_inside_the_callers_transaction(
    intake_pool: asyncpg.Pool,
) -> None:
    key = f"drafts/{uuid.uuid4()}/kk"
    async with intake_pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await EncryptedFileStorage(PostgresFileStorage(conn), CIPHER).put(key, paper("KK"))
        assert await conn.fetchval("SELECT count(*) FROM upload_blobs WHERE key = $1", key) == 1
        await tx.rollback()
    with pytest.raises(FileMissing):
        await file_storage(IntakeSettings(), intake_pool, CIPHER).get(key)


async def test_the_s3_backend_holds_only_ciphertext(
    s3_endpoint: str, bucket: str, intake_pool: asyncpg.Pool
) -> None:
    storage = file_storage(s3_settings(s3_endpoint, bucket), intake_pool, CIPHER)
    assert storage.backend == "s3"
    key, clear = await round_trip(storage)

    client = raw_s3(s3_endpoint)
    stored = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert b"%PDF" not in stored and clear[100:140] not in stored
    assert CIPHER.decrypt_bytes(stored, context=f"upload:{key}") == clear
    # Nothing went to the database.
    assert await intake_pool.fetchval("SELECT count(*) FROM upload_blobs") == 0

    other = f"applications/{uuid.uuid4()}/stolen"
    client.put_object(Bucket=bucket, Key=other, Body=stored)
    with pytest.raises(InvalidTag):
        await storage.get(other)


async def test_the_s3_backend_is_not_ready_without_its_bucket(
    s3_endpoint: str, intake_pool: asyncpg.Pool
) -> None:
    storage = S3FileStorage(
        bucket=f"missing-{uuid.uuid4().hex[:8]}",
        endpoint_url=s3_endpoint,
        access_key_id=S3_LOGIN["s3_access_key_id"],
        secret_access_key=S3_LOGIN["s3_secret_access_key"],
        region="us-east-1",
    )
    with pytest.raises(Exception, match=r"404|Not Found|NoSuchBucket"):
        await storage.ready()
