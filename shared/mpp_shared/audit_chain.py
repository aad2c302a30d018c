"""The audit trail's hash chain and its signed checkpoints (per service
database): the canonical encoding an auditor re-implements and the signing
keys. The sealer (`mpp_shared.audit_sealer`) applies them; the check
(`mpp_shared.audit_check`) recomputes them. No I/O here.

Guarantee: once an entry is sealed, changing any of its fields, removing it,
or moving it in the chain is found by `mpp_shared.audit_verify`; rewriting the
whole chain after an entry is found at the next checkpoint, whose signature
needs the service's private key, which the database never holds.

Canonical encoding (version 1), what `entry_hash` computes:

- canonical JSON: UTF-8, no whitespace, object keys sorted by code point,
  strings with JSON's minimal escapes (`"`, `\\`, `\\b \\f \\n \\r \\t`, other
  control characters as `\\u00xx` lowercase; everything else literal),
  integers in decimal, other numbers as the shortest text that reads back to
  the same IEEE double (Python's `repr`), `true`, `false`, `null` — RFC 8785
  (JCS) for every value the trail holds;
- `detail_digest` = SHA-256(canonical JSON of `detail`, as PostgreSQL returns
  the jsonb);
- `hash` = SHA-256(canonical JSON of the array
  `["mpp.audit.v1", id, at, actor, roles, counter, action, target_type,
  target_id, hex(detail_digest), hex(prev_hash)]`), `at` in UTC as
  `YYYY-MM-DDTHH:MM:SS.ffffffZ`, `roles` as stored, `counter` null when none;
- `prev_hash` of position 1 is 32 zero bytes, of position n the `hash` of n-1;
- a checkpoint signs (Ed25519) the canonical JSON of
  `["mpp.audit.checkpoint.v1", service, position, hex(hash), signed_at]`,
  `signed_at` written like `at`; its `key_id` is the first 16 hex digits of
  SHA-256(raw 32-byte public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

if TYPE_CHECKING:
    from mpp_shared.settings import ServiceSettings

RECORD_TAG = "mpp.audit.v1"
CHECKPOINT_TAG = "mpp.audit.checkpoint.v1"
GENESIS = bytes(32)


# --- the canonical encoding ------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """`value` in the canonical JSON described above (UTF-8 bytes)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def utc_text(moment: datetime) -> str:
    """A timestamp as the encoding writes it: UTC, microseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def detail_digest(detail: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(canonical_json(detail)).digest()


def entry_hash(entry: Mapping[str, Any], digest: bytes, prev_hash: bytes) -> bytes:
    """The hash of one entry (a mapping with the audit_log columns)."""
    fields = [
        RECORD_TAG,
        entry["id"],
        utc_text(entry["at"]),
        entry["actor"],
        list(entry["roles"]),
        entry["counter"],
        entry["action"],
        entry["target_type"],
        entry["target_id"],
        digest.hex(),
        prev_hash.hex(),
    ]
    return hashlib.sha256(canonical_json(fields)).digest()


def checkpoint_message(service: str, position: int, head: bytes, signed_at: datetime) -> bytes:
    return canonical_json([CHECKPOINT_TAG, service, position, head.hex(), utc_text(signed_at)])


# --- keys ------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes_raw()).hexdigest()[:16]


def _raw32(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes in base64")
    return raw


def signing_key(text: str) -> Ed25519PrivateKey:
    """AUDIT_SIGNING_KEY: the raw 32-byte Ed25519 private key, base64."""
    return Ed25519PrivateKey.from_private_bytes(_raw32(text, "AUDIT_SIGNING_KEY"))


def public_key(text: str) -> Ed25519PublicKey:
    """A raw 32-byte Ed25519 public key, base64."""
    return Ed25519PublicKey.from_public_bytes(_raw32(text, "an audit public key"))


def public_key_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(public.public_bytes_raw()).decode()


def verify_keys(settings: ServiceSettings) -> dict[str, Ed25519PublicKey]:
    """The keys a checkpoint of this service may be signed with, by key id:
    the current signing key's and the earlier ones of AUDIT_VERIFY_KEYS."""
    keys = [signing_key(settings.audit_signing_key).public_key()]
    keys += [public_key(k) for k in settings.audit_verify_keys.split(",") if k.strip()]
    return keyring(keys)


def keyring(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id(k): k for k in keys}
