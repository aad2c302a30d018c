"""Protection of personal data: encryption at rest, blind index, masking, sealing.

- NIK, names and contacts are stored encrypted (AES-256-GCM) and found through
  a keyed hash (HMAC-SHA256 "blind index"), never in clear.
- Every ciphertext and every blind index carries the id of the key that made
  it, so keys rotate: several keys can be configured (a `KeyRing`), the
  active one (by default the newest) writes, every configured one reads, and
  `mpp_shared.keyrotation` moves existing rows to the active key.
- Answers and events carry masked values only.
- Contact details travel to notify sealed for notify alone with HPKE
  (RFC 9180: DHKEM X25519, HKDF-SHA256, AES-256-GCM) under a key id, so
  producers hold only notify's public key, no other subscriber of a shared
  topic can read them, and notify can hold its previous private keys while
  senders move to a new public key.

Formats (docs/ARCHITECTURE.md, "Keys that rotate"):

- field: MAGIC (4 bytes) + key id (2 bytes, big-endian) + nonce (12) +
  AES-GCM ciphertext and tag; the header is part of the associated data.
  A blob written before key ids existed is nonce + ciphertext: it opens with
  key id 1 (the key of the old single-key setting).
- blind index: key id 1 is the bare 32-byte HMAC (the form written before
  versions existed, so existing indexes and unique constraints stay valid);
  key ids from 2 on are the key id (2 bytes) + the 32-byte HMAC.
- seal: "hpke:<key id>:<base64 of enc + ciphertext>"; a value without the
  prefix is the earlier X25519 + HKDF + AES-GCM seal, still opened during the
  transition.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12
_SEAL_INFO = b"mpp-notify-seal-v1"
_HPKE_INFO = b"mpp-notify-seal-v2:"
_HPKE_PREFIX = "hpke:"
_HPKE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

FIELD_MAGIC = b"\x8fmK\x01"
_ID_BYTES = 2
FIELD_HEADER_LENGTH = len(FIELD_MAGIC) + _ID_BYTES
_DIGEST = 32
MAX_KEY_ID = 2 ** (8 * _ID_BYTES) - 1
LEGACY_KEY_ID = 1


def _key(b64: str) -> bytes:
    raw = base64.b64decode(b64)
    if len(raw) != 32:
        raise ValueError("key must be 32 bytes, base64-encoded")
    return raw


def parse_key_ids(spec: str, *, name: str = "keys") -> dict[int, str]:
    """ "2:<base64>,1:<base64>" -> {2: "<base64>", 1: "<base64>"} (order free)."""
    keys: dict[int, str] = {}
    for part in spec.replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        key_id, sep, value = part.partition(":")
        if not sep or not key_id.strip().isdigit():
            raise ValueError(f"{name}: each entry is <key id>:<base64 key>, e.g. 2:AAAA...")
        number = int(key_id)
        if not 1 <= number <= MAX_KEY_ID:
            raise ValueError(f"{name}: key ids run from 1 to {MAX_KEY_ID}")
        if number in keys:
            raise ValueError(f"{name}: key id {number} is given twice")
        keys[number] = value.strip()
    return keys


class KeyRing:
    """Symmetric keys by id: the active one (default: the highest id) writes, all read."""

    def __init__(self, keys: Mapping[int, str] | str, active: int | None = None) -> None:
        given = {LEGACY_KEY_ID: keys} if isinstance(keys, str) else dict(keys)
        if not given:
            raise ValueError("a key ring needs at least one key")
        for key_id in given:
            if not 1 <= key_id <= MAX_KEY_ID:
                raise ValueError(f"key ids run from 1 to {MAX_KEY_ID}")
        self.keys: dict[int, bytes] = {key_id: _key(b64) for key_id, b64 in given.items()}
        self.active = max(self.keys) if active is None else active
        if self.active not in self.keys:
            raise ValueError(f"the active key id {self.active} is not among the configured keys")

    @property
    def ids(self) -> list[int]:
        """Configured ids, the active one first."""
        return [self.active, *sorted((i for i in self.keys if i != self.active), reverse=True)]


def field_header(key_id: int) -> bytes:
    return FIELD_MAGIC + key_id.to_bytes(_ID_BYTES, "big")


def index_prefix(key_id: int) -> bytes:
    """What a blind index under `key_id` starts with (nothing for key id 1)."""
    return b"" if key_id == LEGACY_KEY_ID else key_id.to_bytes(_ID_BYTES, "big")


def field_key_id(blob: bytes) -> int | None:
    """The key id a ciphertext names, None for a blob written before key ids."""
    if len(blob) > FIELD_HEADER_LENGTH and blob[: len(FIELD_MAGIC)] == FIELD_MAGIC:
        return int.from_bytes(blob[len(FIELD_MAGIC) : FIELD_HEADER_LENGTH], "big")
    return None


def index_key_id(index: bytes) -> int | None:
    """The key id of a blind index, None if it has neither known length."""
    if len(index) == _DIGEST:
        return LEGACY_KEY_ID
    if len(index) == _DIGEST + _ID_BYTES:
        return int.from_bytes(index[:_ID_BYTES], "big")
    return None


class FieldCipher:
    """Encrypts single fields; the associated data binds a ciphertext to its column.

    `encryption_keys` / `index_keys`: a key ring, or an id -> base64 mapping,
    or one base64 key (then key id 1, the old single-key setting)."""

    def __init__(
        self,
        encryption_keys: KeyRing | Mapping[int, str] | str,
        index_keys: KeyRing | Mapping[int, str] | str,
    ) -> None:
        self.encryption = (
            encryption_keys if isinstance(encryption_keys, KeyRing) else KeyRing(encryption_keys)
        )
        self.index = index_keys if isinstance(index_keys, KeyRing) else KeyRing(index_keys)
        self._aeads = {key_id: AESGCM(raw) for key_id, raw in self.encryption.keys.items()}

    # --- fields and files ----------------------------------------------------

    def encrypt(self, value: str, *, context: str) -> bytes:
        return self.encrypt_bytes(value.encode(), context=context)

    def decrypt(self, blob: bytes, *, context: str) -> str:
        return self.decrypt_bytes(blob, context=context).decode()

    def encrypt_bytes(self, data: bytes, *, context: str) -> bytes:
        """Encrypt a field or a whole file (an uploaded paper) under the active
        key; the context (the column, or a file's storage key) binds the
        ciphertext to it, so a blob moved elsewhere no longer opens."""
        header = field_header(self.encryption.active)
        nonce = os.urandom(_NONCE)
        aead = self._aeads[self.encryption.active]
        return header + nonce + aead.encrypt(nonce, data, header + context.encode())

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        """Open a ciphertext under whichever configured key it names; a blob
        without a key id (written before them) opens with key id 1."""
        blob = bytes(blob)
        key_id = field_key_id(blob)
        if key_id is not None and key_id in self._aeads:
            header, rest = blob[:FIELD_HEADER_LENGTH], blob[FIELD_HEADER_LENGTH:]
            try:
                return self._aeads[key_id].decrypt(
                    rest[:_NONCE], rest[_NONCE:], header + context.encode()
                )
            except InvalidTag:
                # A blob from before key ids whose random nonce happens to
                # start like a header (one chance in 2**48) falls through.
                pass
        legacy = self._aeads.get(LEGACY_KEY_ID)
        if legacy is None:
            if key_id is not None and key_id not in self._aeads:
                raise InvalidTag(f"encryption key id {key_id} is not configured")
            raise InvalidTag("a value from before key ids needs encryption key id 1")
        return legacy.decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())

    def is_current(self, blob: bytes) -> bool:
        """Whether a ciphertext is under the active key (says the header)."""
        return field_key_id(bytes(blob)) == self.encryption.active

    # --- blind indexes ----------------------------------------------------------

    def blind_index(self, value: str, *, context: str) -> bytes:
        """The blind index under the active index key: what writes store."""
        return self.blind_index_under(self.index.active, value, context=context)

    def blind_indexes(self, value: str, *, context: str) -> list[bytes]:
        """The blind index under every configured index key, the active one
        first: what searches look for (`= ANY($n::bytea[])`), so rows written
        under an old key are found while the rotation moves them."""
        return [self.blind_index_under(i, value, context=context) for i in self.index.ids]

    def blind_index_under(self, key_id: int, value: str, *, context: str) -> bytes:
        digest = hmac.new(
            self.index.keys[key_id], f"{context}:{value}".encode(), hashlib.sha256
        ).digest()
        return index_prefix(key_id) + digest

    def blind_index_like(self, stored: bytes, value: str, *, context: str) -> bytes:
        """The blind index of `value` under the key `stored` was made with (to
        compare with a stored check that cannot be recomputed elsewhere); the
        active key when that key is unknown or not configured."""
        key_id = index_key_id(bytes(stored))
        if key_id is None or key_id not in self.index.keys:
            key_id = self.index.active
        return self.blind_index_under(key_id, value, context=context)

    def index_is_current(self, index: bytes) -> bool:
        return index_key_id(bytes(index)) == self.index.active


def cipher_from_settings(settings: Any) -> FieldCipher:
    """The service's cipher from its settings (`ServiceSettings.pii_*`)."""
    return FieldCipher(
        KeyRing(settings.pii_encryption_ring(), settings.pii_encryption_key_id),
        KeyRing(settings.pii_index_ring(), settings.pii_index_key_id),
    )


# --- sealing for notify ------------------------------------------------------------


def seal_for_notify(
    payload: dict[str, Any], public_key_b64: str, key_id: int = LEGACY_KEY_ID
) -> str:
    """Encrypt a small JSON payload so that only the holder of notify's private
    key `key_id` reads it (HPKE base mode, the key id bound into its info)."""
    recipient = X25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    sealed = _HPKE_SUITE.encrypt(json.dumps(payload).encode(), recipient, _hpke_info(key_id))
    return f"{_HPKE_PREFIX}{key_id}:{base64.b64encode(sealed).decode()}"


def open_sealed(token: str, private_keys: Mapping[int, str] | str) -> dict[str, Any]:
    """Open a sealed value with notify's private key of the id it names.

    `private_keys`: id -> base64 raw X25519 private key (the current one and
    the previous ones), or one key (any id). A value sealed the earlier way
    (no prefix, X25519 + HKDF + AES-GCM) is tried against every key."""
    keys = {0: private_keys} if isinstance(private_keys, str) else dict(private_keys)
    if token.startswith(_HPKE_PREFIX):
        key_id_text, _, body = token[len(_HPKE_PREFIX) :].partition(":")
        key_id = int(key_id_text)
        private_b64 = keys.get(key_id, keys.get(0))
        if private_b64 is None:
            raise InvalidTag(f"notify holds no seal key with id {key_id}")
        private = X25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
        clear = _HPKE_SUITE.decrypt(base64.b64decode(body), private, _hpke_info(key_id))
        result: dict[str, Any] = json.loads(clear)
        return result
    failure: Exception = InvalidTag("no seal key configured")
    for private_b64 in keys.values():
        try:
            return _open_legacy(token, private_b64)
        except InvalidTag as error:
            failure = error
    raise failure


def sealed_key_id(token: str) -> int | None:
    """The key id a sealed value names; None for the earlier seal."""
    if token.startswith(_HPKE_PREFIX):
        return int(token[len(_HPKE_PREFIX) :].partition(":")[0])
    return None


def _hpke_info(key_id: int) -> bytes:
    return _HPKE_INFO + str(key_id).encode()


def seal_legacy(payload: dict[str, Any], public_key_b64: str) -> str:
    """The earlier hand-built seal (X25519 + HKDF + AES-GCM). Kept only so tests
    can make what older senders put on the topics; never used to send."""
    recipient = X25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = _derive(ephemeral.exchange(recipient), ephemeral_public)
    nonce = os.urandom(_NONCE)
    body = AESGCM(key).encrypt(nonce, json.dumps(payload).encode(), _SEAL_INFO)
    return base64.b64encode(ephemeral_public + nonce + body).decode()


def _open_legacy(token: str, private_key_b64: str) -> dict[str, Any]:
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
    """(private, public) base64 raw X25519 keys for NOTIFY_SEAL_PRIVATE_KEY(S) / _PUBLIC_KEY."""
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
