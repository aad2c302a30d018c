"""The sealer: chains committed, unsealed audit entries in the background,
in the order it seals them, and signs checkpoints of the chain's head
(`mpp_shared.audit_chain` says how). Every service runs it
(`mpp_shared.runtime`); an advisory lock lets one replica work at a time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mpp_shared import clock
from mpp_shared.audit_chain import (
    GENESIS,
    checkpoint_message,
    detail_digest,
    entry_hash,
    key_id,
    signing_key,
)
from mpp_shared.db import DATABASE_UNAVAILABLE
from mpp_shared.settings import ServiceSettings

if TYPE_CHECKING:
    from mpp_shared.runtime import Runtime

log = logging.getLogger(__name__)

# One sealer at a time per database, across replicas ("mpp" "aud").
SEALER_LOCK_ID = 0x6D7070_617564

_HEAD = (
    "SELECT position, hash FROM audit_log WHERE position IS NOT NULL ORDER BY position DESC LIMIT 1"
)
_UNSEALED = """
SELECT id, at, actor, roles, counter, action, target_type, target_id, detail
FROM audit_log WHERE position IS NULL ORDER BY id LIMIT $1
"""
_SEAL = """
UPDATE audit_log a
SET position = s.position, detail_digest = s.digest, prev_hash = s.prev_hash,
    hash = s.hash, sealed_at = now()
FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[])
     AS s(id, position, digest, prev_hash, hash)
WHERE a.id = s.id
"""
_LAST_CHECKPOINT = "SELECT position, signed_at FROM audit_checkpoint ORDER BY position DESC LIMIT 1"
_CHECKPOINT = """
INSERT INTO audit_checkpoint (position, hash, service, signed_at, key_id, signature)
VALUES ($1, $2, $3, $4, $5, $6)
"""


@dataclass(frozen=True)
class SealStep:
    sealed: int  # entries chained by this step
    head: int  # the chain's last position afterwards (0: empty)
    checkpoint: int | None  # the position signed by this step, if one was
    locked_out: bool = False  # another replica was sealing


@dataclass
class AuditSealer:
    """Chains committed, unsealed entries in the order it seals them and signs
    a checkpoint every `checkpoint_every` entries or `checkpoint_interval`
    seconds. Any number may run: an advisory lock lets one work at a time."""

    pool: asyncpg.Pool
    service: str
    key: Ed25519PrivateKey
    interval: float = 1.0
    batch_size: int = 500
    checkpoint_every: int = 1000
    checkpoint_interval: float = 300.0

    @classmethod
    def from_settings(cls, pool: asyncpg.Pool, settings: ServiceSettings) -> AuditSealer:
        return cls(
            pool,
            settings.service_name,
            signing_key(settings.audit_signing_key),
            interval=settings.audit_seal_interval,
            batch_size=settings.audit_seal_batch,
            checkpoint_every=settings.audit_checkpoint_every,
            checkpoint_interval=settings.audit_checkpoint_interval,
        )

    async def step(self, *, force_checkpoint: bool = False) -> SealStep:
        """Seal up to `batch_size` entries and sign a checkpoint if one is due
        (or `force_checkpoint` and the head moved), in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SEALER_LOCK_ID):
                return SealStep(0, 0, None, locked_out=True)
            head = await conn.fetchrow(_HEAD)
            position, prev = (head["position"], bytes(head["hash"])) if head else (0, GENESIS)
            rows = await conn.fetch(_UNSEALED, self.batch_size)
            ids, positions, digests, prevs, hashes = [], [], [], [], []
            for row in rows:
                position += 1
                digest = detail_digest(row["detail"])
                new = entry_hash(row, digest, prev)
                ids.append(row["id"])
                positions.append(position)
                digests.append(digest)
                prevs.append(prev)
                hashes.append(new)
                prev = new
            if rows:
                await conn.execute(_SEAL, ids, positions, digests, prevs, hashes)
            signed = await self._checkpoint_if_due(conn, position, prev, force_checkpoint)
        if signed is not None:
            # A witness outside the database: a rewritten chain cannot match it.
            log.info(
                "audit checkpoint service=%s position=%d hash=%s",
                self.service,
                signed,
                prev.hex(),
            )
        return SealStep(len(rows), position, signed)

    async def _checkpoint_if_due(
        self, conn: asyncpg.Connection, head: int, head_hash: bytes, force: bool
    ) -> int | None:
        last = await conn.fetchrow(_LAST_CHECKPOINT)
        if head == 0 or (last is not None and last["position"] >= head):
            return None
        now = clock.now()
        due = (
            force
            or last is None
            or head - last["position"] >= self.checkpoint_every
            or (now - last["signed_at"]).total_seconds() >= self.checkpoint_interval
        )
        if not due:
            return None
        signature = self.key.sign(checkpoint_message(self.service, head, head_hash, now))
        await conn.execute(
            _CHECKPOINT,
            head,
            head_hash,
            self.service,
            now,
            key_id(self.key.public_key()),
            signature,
        )
        return head

    async def run(self) -> None:
        """Seal until cancelled: at once while whole batches come, else every
        `interval` seconds; a failed round (a database outage) is retried."""
        failures = 0
        while True:
            try:
                result = await self.step()
                failures = 0
            except Exception as exc:
                failures += 1
                if isinstance(exc, DATABASE_UNAVAILABLE):
                    log.warning("audit sealer: database unavailable (%s), retrying", exc)
                else:
                    log.exception("audit sealer: round failed, retrying")
                await asyncio.sleep(min(0.25 * 2**failures, max(self.interval, 5.0)))
                continue
            if result.sealed < self.batch_size:
                await asyncio.sleep(self.interval)


async def audit_sealer(runtime: Runtime) -> None:
    """The background task every service runs (`mpp_shared.runtime`)."""
    await AuditSealer.from_settings(runtime.pool, runtime.settings).run()
