"""The audit chain's canonical encoding (mpp_shared.audit_chain) as an auditor
re-implements it: fixed vectors, key order, escapes, timestamps, and the
settings that refuse the development signing key in production."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from mpp_shared.audit_chain import (
    GENESIS,
    canonical_json,
    checkpoint_message,
    detail_digest,
    entry_hash,
    key_id,
    public_key_text,
    signing_key,
    utc_text,
    verify_keys,
)
from mpp_shared.settings import DEV_AUDIT_PUBLIC_KEY, DEV_AUDIT_SIGNING_KEY, ServiceSettings
from tests.support.secrets import real_secrets

ENTRY: dict[str, Any] = {
    "id": 7,
    "at": datetime(2026, 3, 2, 1, 4, 5, 123456, tzinfo=timezone(timedelta(hours=7))),
    "actor": "verifier-1",
    "roles": ["verifier"],
    "counter": "MPP-01",
    "action": "application.verified",
    "target_type": "application",
    "target_id": "0b6f6c1e-1111-4a4a-8b8b-000000000001",
}


def test_canonical_json_sorts_keys_without_whitespace_and_keeps_text_literal() -> None:
    value = {"b": [1, True, None], "a": 'é\n"\\\x01', "ä": 2.5, "A": {"z": 1, "y": 0}}
    assert (
        canonical_json(value)
        == ('{"A":{"y":0,"z":1},"a":"é\\n\\"\\\\\\u0001","b":[1,true,null],"ä":2.5}').encode()
    )


def test_canonical_json_refuses_what_json_cannot_say() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_timestamps_are_utc_with_microseconds() -> None:
    assert utc_text(ENTRY["at"]) == "2026-03-01T18:04:05.123456Z"
    assert utc_text(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000000Z"


def test_entry_hash_is_sha256_of_the_documented_array() -> None:
    digest = detail_digest({"status": "verified", "items": []})
    assert digest == hashlib.sha256(b'{"items":[],"status":"verified"}').digest()
    expected = hashlib.sha256(
        b'["mpp.audit.v1",7,"2026-03-01T18:04:05.123456Z","verifier-1",["verifier"],'
        b'"MPP-01","application.verified","application",'
        b'"0b6f6c1e-1111-4a4a-8b8b-000000000001","'
        + digest.hex().encode()
        + b'","'
        + GENESIS.hex().encode()
        + b'"]'
    ).digest()
    assert entry_hash(ENTRY, digest, GENESIS) == expected
    # The fixed vector docs/ARCHITECTURE.md gives auditors.
    assert expected.hex() == "1335ed7c60fdeb832ab76d00640c1c704133b6b059ece60668ceb651f8c30b87"


def test_every_field_and_the_link_change_the_hash() -> None:
    digest = detail_digest({})
    base = entry_hash(ENTRY, digest, GENESIS)
    changes = {
        "id": 8,
        "at": ENTRY["at"] + timedelta(microseconds=1),
        "actor": "verifier-2",
        "roles": ["verifier", "admin"],
        "counter": None,
        "action": "application.returned",
        "target_type": "job",
        "target_id": "x",
    }
    for name, value in changes.items():
        assert entry_hash({**ENTRY, name: value}, digest, GENESIS) != base, name
    assert entry_hash(ENTRY, detail_digest({"a": 1}), GENESIS) != base
    assert entry_hash(ENTRY, digest, b"\x01" * 32) != base


def test_a_checkpoint_signs_service_position_hash_and_time() -> None:
    key = signing_key(DEV_AUDIT_SIGNING_KEY)
    at = datetime(2026, 3, 1, 18, 4, 5, tzinfo=UTC)
    message = checkpoint_message("intake", 12, b"\xab" * 32, at)
    assert message == (
        b'["mpp.audit.checkpoint.v1","intake",12,"'
        + b"ab" * 32
        + b'","2026-03-01T18:04:05.000000Z"]'
    )
    key.public_key().verify(key.sign(message), message)
    assert public_key_text(key.public_key()) == DEV_AUDIT_PUBLIC_KEY
    raw = key.public_key().public_bytes_raw()
    assert key_id(key.public_key()) == hashlib.sha256(raw).hexdigest()[:16]


def test_settings_refuse_a_malformed_audit_key() -> None:
    with pytest.raises(ValidationError, match="AUDIT_SIGNING_KEY must be 32 bytes"):
        ServiceSettings(audit_signing_key="not-a-key")
    with pytest.raises(ValidationError, match="32 bytes"):
        ServiceSettings(audit_verify_keys="c2hvcnQ=")
    assert ServiceSettings(audit_verify_keys=DEV_AUDIT_PUBLIC_KEY).audit_verify_keys


@pytest.mark.parametrize(
    "settings",
    [{"audit_signing_key": DEV_AUDIT_SIGNING_KEY}, {"audit_verify_keys": DEV_AUDIT_PUBLIC_KEY}],
)
def test_production_refuses_the_development_audit_key(settings: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="development audit key"):
        ServiceSettings(mpp_env="production", **{**real_secrets(), **settings})


def test_production_takes_a_real_audit_key_and_earlier_public_keys() -> None:
    earlier = public_key_text(Ed25519PrivateKey.generate().public_key())
    settings = ServiceSettings(mpp_env="production", **real_secrets(), audit_verify_keys=earlier)
    assert len(verify_keys(settings)) == 2
