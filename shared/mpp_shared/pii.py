"""Protection of personal data: encryption at rest, blind index, masking, sealing.

- NIK, names and contacts are stored encrypted (AES-256-GCM) and found through
  a keyed hash (HMAC-SHA256 "blind index"), never in clear.
- Answers and events carry masked values only.
- Contact details travel to notify sealed for notify alone: X25519 key
  agreement + HKDF + AES-GCM, so producers hold only notify's public key and no
  other subscriber of a shared topic can read them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12
_SEAL_INFO = b"mpp-notify-seal-v1"


def _key(b64: str) -> bytes:
    raw = base64.b64decode(b64)
    if len(raw) != 32:
        raise ValueError("key must be 32 bytes, base64-encoded")
    return raw


class FieldCipher:
    """Encrypts single fields; the associated data binds a ciphertext to its column."""

    def __init__(self, encryption_key_b64: str, index_key_b64: str) -> None:
        self._aead = AESGCM(_key(encryption_key_b64))
        self._index_key = _key(index_key_b64)

    def encrypt(self, value: str, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, value.encode(), context.encode())

    def decrypt(self, blob: bytes, *, context: str) -> str:
        return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode()).decode()

    def encrypt_bytes(self, data: bytes, *, context: str) -> bytes:
        """Encrypt a whole file (an uploaded paper); the context (e.g. its storage
        key) binds the ciphertext to it, so a blob moved elsewhere no longer opens."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, data, context.encode())

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())

    def blind_index(self, value: str, *, context: str) -> bytes:
        return hmac.new(self._index_key, f"{context}:{value}".encode(), hashlib.sha256).digest()


def seal_for_notify(payload: dict[str, Any], public_key_b64: str) -> str:
    """Encrypt a small JSON payload so that only the holder of notify's private key reads it."""
    recipient = X25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = _derive(ephemeral.exchange(recipient), ephemeral_public)
    nonce = os.urandom(_NONCE)
    body = AESGCM(key).encrypt(nonce, json.dumps(payload).encode(), _SEAL_INFO)
    return base64.b64encode(ephemeral_public + nonce + body).decode()


def open_sealed(token: str, private_key_b64: str) -> dict[str, Any]:
    raw = base64.b64decode(token)
    ephemeral_public, nonce, body = raw[:32], raw[32 : 32 + _NONCE], raw[32 + _NONCE :]
    private = X25519PrivateKey.from_private_bytes(base64.b64decode(private_key_b64))
    key = _derive(
        private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public)), ephemeral_public
    )
    result: dict[str, Any] = json.loads(AESGCM(key).decrypt(nonce, body, _SEAL_INFO))
    return result


def _derive(shared_secret: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_SEAL_INFO).derive(
        shared_secret
    )


def generate_seal_keypair() -> tuple[str, str]:
    """(private, public) base64 raw X25519 keys for NOTIFY_SEAL_PRIVATE_KEY / _PUBLIC_KEY."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw_private).decode(), base64.b64encode(raw_public).decode()


def mask_nik(nik: str) -> str:
    """3506042602660001 -> 3506**********01: region of the regency and two last digits."""
    if len(nik) < 6:
        return "*" * len(nik)
    return nik[:4] + "*" * (len(nik) - 6) + nik[-2:]


def mask_phone(phone: str) -> str:
    """+6281234567890 -> +628*******890: at least half of it hidden, whatever its length."""
    n = len(phone)
    if n <= 7:
        return "*" * n
    visible = n // 2
    suffix = min(3, visible // 2)
    prefix = visible - suffix
    return phone[:prefix] + "*" * (n - visible) + phone[n - suffix :]


def mask_email(email: str) -> str:
    """budi.santoso@example.go.id -> b***@example.go.id."""
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return (local[:1] or "*") + "***@" + domain


def mask_name(name: str) -> str:
    """Budi Santoso -> B*** S***: enough for an officer to call out, not to identify."""
    return " ".join(part[:1] + "***" for part in name.split())
