"""Where uploaded papers are kept: one small interface, two real backends.

- `PostgresFileStorage`: a row per blob in `upload_blobs` (the embedded
  default, `UPLOAD_STORAGE=postgres`).
- `S3FileStorage`: an S3-compatible bucket (MinIO in deploy/, or any S3),
  through boto3 run in a worker thread (`UPLOAD_STORAGE=s3`).
- `EncryptedFileStorage` wraps either, so a backend only ever holds
  ciphertext: AES-GCM with the PII key, the blob's key as associated data (a
  blob copied under another key does not open).

`file_storage(settings, pool, cipher)` builds the configured one, always
encrypted. Keys are chosen by the caller (e.g. `applications/<id>/<file_id>`);
`put` under an existing key replaces the blob; `delete` of a missing key is
not an error; `get` of a missing key raises `FileMissing`.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any, Protocol

import asyncpg

from mpp_intake.settings import IntakeSettings
from mpp_shared.pii import FieldCipher

PUT = """
INSERT INTO upload_blobs (key, data, size) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, size = EXCLUDED.size, stored_at = now()
"""
GET = "SELECT data FROM upload_blobs WHERE key = $1"
DELETE = "DELETE FROM upload_blobs WHERE key = $1"
READY = "SELECT 1 FROM upload_blobs LIMIT 0"

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.=-]{0,511}")


class FileMissing(LookupError):
    """No blob is stored under the key."""


class FileStorage(Protocol):
    backend: str

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def ready(self) -> None:
        """Raise when the storage cannot be reached."""


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key:
        raise ValueError("a storage key is 1-512 characters of A-Z a-z 0-9 / _ . = -")
    return key


class PostgresFileStorage:
    """Blobs in the service's own database; `pool` may also be a connection,
    so a blob can be written inside the caller's transaction."""

    backend = "postgres"

    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = pool

    async def put(self, key: str, data: bytes) -> None:
        await self._db.execute(PUT, check_key(key), data, len(data))

    async def get(self, key: str) -> bytes:
        data: bytes | None = await self._db.fetchval(GET, check_key(key))
        if data is None:
            raise FileMissing(key)
        return data

    async def delete(self, key: str) -> None:
        await self._db.execute(DELETE, check_key(key))

    async def ready(self) -> None:
        await self._db.fetchval(READY)


class S3FileStorage:
    """Blobs as objects of one bucket of an S3-compatible store (path-style
    addressing, as MinIO wants). boto3 is synchronous: each call runs in a
    worker thread with short timeouts so a slow store never blocks the loop."""

    backend = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        access_key_id: str | None,
        secret_access_key: str | None,
        region: str,
        prefix: str = "",
    ) -> None:
        self.bucket = bucket
        self._prefix = prefix
        self._client = _s3_client(endpoint_url, access_key_id, secret_access_key, region)

    def _name(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=self._name(key),
            Body=data,
            ContentType="application/octet-stream",
        )

    async def get(self, key: str) -> bytes:
        name = self._name(key)

        def read() -> bytes:
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=name)
            except self._client.exceptions.NoSuchKey as exc:
                raise FileMissing(key) from exc
            body = answer["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
            return data

        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=self._name(key))

    async def ready(self) -> None:
        await asyncio.to_thread(self._client.head_bucket, Bucket=self.bucket)


class EncryptedFileStorage:
    """Encrypts on the way in, decrypts on the way out; the inner backend sees ciphertext only."""

    def __init__(self, inner: FileStorage, cipher: FieldCipher) -> None:
        self.inner = inner
        self.backend = inner.backend
        self._cipher = cipher

    @staticmethod
    def _context(key: str) -> str:
        return f"upload:{key}"

    async def put(self, key: str, data: bytes) -> None:
        await self.inner.put(key, self._cipher.encrypt_bytes(data, context=self._context(key)))

    async def get(self, key: str) -> bytes:
        blob = await self.inner.get(key)
        return self._cipher.decrypt_bytes(blob, context=self._context(key))

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def ready(self) -> None:
        await self.inner.ready()


def file_storage(
    settings: IntakeSettings, pool: asyncpg.Pool | asyncpg.Connection, cipher: FieldCipher
) -> FileStorage:
    """The configured storage (UPLOAD_STORAGE), encrypted. Cheap to call per
    request: the S3 client is made once per process and configuration."""
    inner: FileStorage
    if settings.upload_storage == "s3":
        if not settings.s3_bucket:
            raise ValueError("UPLOAD_STORAGE=s3 needs S3_BUCKET")
        inner = S3FileStorage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            region=settings.s3_region,
        )
    else:
        inner = PostgresFileStorage(pool)
    return EncryptedFileStorage(inner, cipher)


_clients: dict[tuple[str | None, str | None, str | None, str], Any] = {}
_clients_lock = threading.Lock()


def _s3_client(
    endpoint_url: str | None, access_key_id: str | None, secret_access_key: str | None, region: str
) -> Any:
    """One boto3 client per configuration (clients are thread-safe and costly to make)."""
    import boto3
    from botocore.config import Config

    cache_key = (endpoint_url, access_key_id, secret_access_key, region)
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                region_name=region,
                config=Config(
                    s3={"addressing_style": "path"},
                    connect_timeout=3,
                    read_timeout=10,
                    retries={"max_attempts": 3, "mode": "standard"},
                    signature_version="s3v4",
                ),
            )
            _clients[cache_key] = client
        return client
