"""Each service's registry of encrypted columns (store/encrypted_columns.py)
names every AEAD context its code encrypts with, so `rotate_keys` moves every
encrypted column; the registries' SQL is checked on PostgreSQL in
tests/integration/test_key_rotation.py."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from mpp_shared.keyrotation import Registry

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "documents", "complaints", "notify")
# `.encrypt(...)` / `.encrypt_bytes(...)` with a literal context.
ENCRYPT = re.compile(r"\.encrypt(?:_bytes)?\((?:[^()]|\([^()]*\))*?context=\"([^\"]+)\"", re.S)


def registry(service: str) -> Registry:
    module = importlib.import_module(f"mpp_{service}.store.encrypted_columns")
    found: Registry = module.REGISTRY
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_literal_context_the_code_encrypts_with_is_registered(service: str) -> None:
    package = ROOT / "services" / service / f"mpp_{service}"
    used = {
        context for path in package.rglob("*.py") for context in ENCRYPT.findall(path.read_text())
    }
    listed = {
        e.context
        for t in registry(service).tables
        for e in t.encrypted
        if isinstance(e.context, str)
    }
    assert used <= listed, f"{service}: encrypted but not in the registry: {sorted(used - listed)}"


@pytest.mark.parametrize("service", SERVICES)
def test_registry_is_consistent(service: str) -> None:
    found = registry(service)
    assert found.service == service
    for table in found.tables:
        encrypted = {e.column for e in table.encrypted}
        assert table.key and table.encrypted, table.table
        for index in table.indexes:
            # an index is recomputed from a column the rotation decrypts
            assert index.requires in encrypted, (table.table, index.column)
