"""Check a service's audit chain (`mpp_shared.audit_chain`): every sealed
entry against its hash and its link to the one before, every checkpoint
against its signature and the chain, and the entries still waiting for the
sealer. Served to admins at GET /v1/audit/verification
(`mpp_shared.web.audit`) and run by `python -m mpp_shared.audit_verify`.

The check reads one snapshot (REPEATABLE READ) and stops at the first broken
link: what follows a break cannot be trusted anyway. Kinds of break:
`missing_record` (a position without its entry, or a chain ending before a
signed checkpoint), `changed_content` (an entry's fields or detail differ
from what was sealed), `reordered` (an entry stands where it was not
sealed), `broken_link` (the entry before is not the one it was chained to:
changed and re-hashed, or removed and the positions renumbered),
`bad_checkpoint` (unknown key, invalid signature, another service's) and
`chain_rewritten` (the chain differs from what a valid checkpoint signed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from mpp_shared import clock
from mpp_shared.audit import DETAIL_ERASED
from mpp_shared.audit_chain import (
    GENESIS,
    checkpoint_message,
    detail_digest,
    entry_hash,
)
from mpp_shared.errors import Language

PAGE = 1000
BreakKind = Literal[
    "missing_record", "changed_content", "reordered", "broken_link", "bad_checkpoint",
    "chain_rewritten",
]  # fmt: skip


class ChainBreak(BaseModel):
    kind: BreakKind
    position: int
    audit_id: int | None  # the entry found there, None when it is missing
    explanation: str


class CheckpointInfo(BaseModel):
    position: int
    hash: str  # hex
    signed_at: datetime
    key_id: str
    signature_valid: bool


class AuditVerification(BaseModel):
    service: str | None
    intact: bool  # no broken link among the sealed entries and checkpoints
    records_checked: int
    head_position: int
    head_hash: str | None
    first_break: ChainBreak | None
    checkpoints_checked: int
    last_checkpoint: CheckpointInfo | None
    unsealed: int
    unsealed_overdue: int  # waiting longer than the bound: is the sealer running?
    oldest_unsealed_at: datetime | None
    unsealed_bound_seconds: float
    checked_at: datetime


@dataclass(frozen=True)
class _Break:
    kind: BreakKind
    position: int
    audit_id: int | None
    words: tuple[str, str]  # (Indonesian, English)

    def public(self, language: Language) -> ChainBreak:
        text = self.words[1] if language == "en" else self.words[0]
        return ChainBreak(
            kind=self.kind, position=self.position, audit_id=self.audit_id, explanation=text
        )


_ENTRIES = """
SELECT id, at, actor, roles, counter, action, target_type, target_id, detail,
       position, detail_digest, prev_hash, hash, detail_erased_by
FROM audit_log WHERE position > $1 ORDER BY position LIMIT $2
"""
_UNSEALED = """
SELECT count(*) AS unsealed,
       count(*) FILTER (WHERE at < now() - make_interval(secs => $1)) AS overdue,
       min(at) AS oldest
FROM audit_log WHERE position IS NULL
"""


async def verify_chain(
    conn: asyncpg.Connection,
    *,
    keys: Mapping[str, Ed25519PublicKey],
    unsealed_bound: float,
    service: str | None = None,
    language: Language = "id",
) -> AuditVerification:
    """The report on the chain in `conn`'s database; `service`, when given,
    is the name every checkpoint must carry."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        checkpoints = {r["position"]: r for r in await conn.fetch("SELECT * FROM audit_checkpoint")}
        erasures = {
            int(r["target_id"]): r["id"]
            for r in await conn.fetch(
                "SELECT id, target_id FROM audit_log WHERE action = $1", DETAIL_ERASED
            )
            if r["target_id"].isdigit()
        }
        waiting = await conn.fetchrow(_UNSEALED, unsealed_bound)
        walk = _Walk(conn, keys, checkpoints, erasures, service)
        found = await walk.run()
    last = max(checkpoints) if checkpoints else None
    return AuditVerification(
        service=service or (checkpoints[last]["service"] if last is not None else None),
        intact=found is None,
        records_checked=walk.checked,
        head_position=walk.position,
        head_hash=walk.prev.hex() if walk.position else None,
        first_break=found.public(language) if found else None,
        checkpoints_checked=walk.checkpoints_checked,
        last_checkpoint=_info(checkpoints[last], keys) if last is not None else None,
        unsealed=waiting["unsealed"],
        unsealed_overdue=waiting["overdue"],
        oldest_unsealed_at=waiting["oldest"],
        unsealed_bound_seconds=unsealed_bound,
        checked_at=clock.now(),
    )


class _Walk:
    """One pass over the sealed entries in position order."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        keys: Mapping[str, Ed25519PublicKey],
        checkpoints: Mapping[int, asyncpg.Record],
        erasures: Mapping[int, int],
        service: str | None,
    ) -> None:
        self.conn, self.keys, self.service = conn, keys, service
        self.checkpoints, self.erasures = checkpoints, erasures
        self.checked = self.checkpoints_checked = self.position = 0
        self.prev = GENESIS

    async def run(self) -> _Break | None:
        while rows := await self.conn.fetch(_ENTRIES, self.position, PAGE):
            for row in rows:
                self.checked += 1
                found = await self._entry(row) or self._checkpoint(row)
                if found:
                    return found
                self.position, self.prev = row["position"], bytes(row["hash"])
        beyond = [p for p in self.checkpoints if p > self.position]
        if beyond:
            p, c = self.position, max(beyond)
            return _Break(
                "missing_record",
                p + 1,
                None,
                (
                    f"Rantai berakhir di posisi {p}, padahal checkpoint bertanda tangan "
                    f"mencakup posisi {c}",
                    f"The chain ends at position {p} but a signed checkpoint covers position {c}",
                ),
            )
        return None

    async def _entry(self, row: asyncpg.Record) -> _Break | None:
        p, entry_id, expected = row["position"], row["id"], self.position + 1
        if p != expected:
            return _Break(
                "missing_record",
                expected,
                None,
                (
                    f"Tidak ada catatan di posisi {expected} (berikutnya di posisi {p})",
                    f"No entry at position {expected} (the next one is at {p})",
                ),
            )
        digest, prev_hash = bytes(row["detail_digest"]), bytes(row["prev_hash"])
        changed = _detail_problem(row, digest, self.erasures)
        if changed is None and entry_hash(row, digest, prev_hash) != bytes(row["hash"]):
            changed = (
                f"Isi catatan id {entry_id} (pelaku, peran, loket, tindakan, sasaran atau "
                "waktu) berbeda dari yang disegel",
                f"The fields of entry {entry_id} (actor, roles, counter, action, target or "
                "time) differ from what was sealed",
            )
        if changed is not None:
            return _Break("changed_content", p, entry_id, changed)
        if prev_hash == self.prev:
            return None
        other = await self.conn.fetchrow(
            "SELECT id, position FROM audit_log WHERE hash = $1 LIMIT 1", prev_hash
        )
        if other is not None:
            return _Break(
                "reordered",
                p,
                entry_id,
                (
                    f"Catatan id {entry_id} di posisi {p} disegel sesudah catatan id "
                    f"{other['id']}, yang kini di posisi {other['position']}: urutan diubah",
                    f"Entry {entry_id} at position {p} was sealed after entry {other['id']}, "
                    f"which now stands at position {other['position']}: the order was changed",
                ),
            )
        return _Break(
            "broken_link",
            p,
            entry_id,
            (
                f"Catatan sebelum posisi {p} bukan yang dirantai dengannya (diubah lalu "
                "di-hash ulang, atau dihapus lalu posisinya dinomori ulang)",
                f"The entry before position {p} is not the one it was chained to (changed "
                "and re-hashed, or removed and the positions renumbered)",
            ),
        )

    def _checkpoint(self, row: asyncpg.Record) -> _Break | None:
        c = self.checkpoints.get(row["position"])
        if c is None:
            return None
        self.checkpoints_checked += 1
        p = c["position"]
        if self.service is not None and c["service"] != self.service:
            return _Break(
                "bad_checkpoint",
                p,
                row["id"],
                (
                    f"Checkpoint di posisi {p} milik layanan lain ({c['service']})",
                    f"The checkpoint at position {p} belongs to another service ({c['service']})",
                ),
            )
        if c["key_id"] not in self.keys:
            return _Break(
                "bad_checkpoint",
                p,
                row["id"],
                (
                    f"Checkpoint di posisi {p} ditandatangani kunci yang tidak dikenal "
                    f"({c['key_id']})",
                    f"The checkpoint at position {p} is signed with an unknown key ({c['key_id']})",
                ),
            )
        if not _signature_valid(c, self.keys):
            return _Break(
                "bad_checkpoint",
                p,
                row["id"],
                (
                    f"Tanda tangan checkpoint di posisi {p} tidak sah",
                    f"The checkpoint at position {p} has an invalid signature",
                ),
            )
        if bytes(c["hash"]) != bytes(row["hash"]):
            return _Break(
                "chain_rewritten",
                p,
                row["id"],
                (
                    f"Rantai di posisi {p} berbeda dari yang ditandatangani pada checkpoint: "
                    "catatan hingga posisi ini ditulis ulang",
                    f"The chain at position {p} differs from the one the checkpoint signed: "
                    "entries up to here were rewritten",
                ),
            )
        return None


def _detail_problem(
    row: asyncpg.Record, digest: bytes, erasures: Mapping[int, int]
) -> tuple[str, str] | None:
    entry_id = row["id"]
    if row["detail_erased_by"] is None:
        if detail_digest(row["detail"]) == digest:
            return None
        return (
            f"Rincian (detail) catatan id {entry_id} berbeda dari yang disegel",
            f"The detail of entry {entry_id} differs from what was sealed",
        )
    if erasures.get(entry_id) != row["detail_erased_by"]:
        return (
            f"Rincian catatan id {entry_id} ditandai terhapus tanpa penghapusan yang diaudit",
            f"The detail of entry {entry_id} is marked erased without an audited erasure",
        )
    if row["detail"]:
        return (
            f"Rincian catatan id {entry_id} ditandai terhapus tetapi tidak kosong",
            f"The detail of entry {entry_id} is marked erased but is not empty",
        )
    return None


def _signature_valid(c: asyncpg.Record, keys: Mapping[str, Ed25519PublicKey]) -> bool:
    key = keys.get(c["key_id"])
    if key is None:
        return False
    message = checkpoint_message(c["service"], c["position"], bytes(c["hash"]), c["signed_at"])
    try:
        key.verify(bytes(c["signature"]), message)
    except InvalidSignature:
        return False
    return True


def _info(c: asyncpg.Record, keys: Mapping[str, Ed25519PublicKey]) -> CheckpointInfo:
    return CheckpointInfo(
        position=c["position"],
        hash=bytes(c["hash"]).hex(),
        signed_at=c["signed_at"],
        key_id=c["key_id"],
        signature_valid=_signature_valid(c, keys),
    )


async def verify_pool(
    pool: asyncpg.Pool,
    *,
    keys: Mapping[str, Ed25519PublicKey],
    unsealed_bound: float,
    service: str | None = None,
    language: Language = "id",
) -> AuditVerification:
    async with pool.acquire() as conn:
        return await verify_chain(
            conn, keys=keys, unsealed_bound=unsealed_bound, service=service, language=language
        )
