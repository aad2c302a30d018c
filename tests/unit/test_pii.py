"""Personal data protection: field encryption, blind index, sealing for notify, masking."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mpp_shared.pii import (
    FieldCipher,
    KeyRing,
    field_key_id,
    generate_seal_keypair,
    index_key_id,
    mask_email,
    mask_name,
    mask_nik,
    mask_phone,
    open_sealed,
    parse_key_ids,
    seal_for_notify,
    seal_legacy,
    sealed_key_id,
)
from mpp_shared.settings import DEV_SEAL_PRIVATE_KEY, DEV_SEAL_PUBLIC_KEY


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(_key(), _key())


# --- FieldCipher --------------------------------------------------------------


@pytest.mark.parametrize("value", ["3506042602660001", "Budi Santoso", "", "Ñoño ✓ 日本"])
def test_encrypt_decrypt_round_trip(cipher: FieldCipher, value: str) -> None:
    blob = cipher.encrypt(value, context="nik")
    assert isinstance(blob, bytes)
    assert value.encode() not in blob or value == ""
    assert cipher.decrypt(blob, context="nik") == value


def test_ciphertext_differs_each_time(cipher: FieldCipher) -> None:
    blobs = {cipher.encrypt("3506042602660001", context="nik") for _ in range(10)}
    assert len(blobs) == 10
    # 6-byte header (magic + key id) + 12-byte nonce + plaintext + 16-byte GCM tag
    assert all(len(b) == 6 + 12 + 16 + 16 for b in blobs)
    assert len({b[6:18] for b in blobs}) == 10


def test_wrong_context_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("3506042602660001", context="nik")
    with pytest.raises(InvalidTag):
        cipher.decrypt(blob, context="phone")


def test_other_key_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt("3506042602660001", context="nik")
    with pytest.raises(InvalidTag):
        FieldCipher(_key(), _key()).decrypt(blob, context="nik")


def test_tampered_ciphertext_fails(cipher: FieldCipher) -> None:
    blob = bytearray(cipher.encrypt("3506042602660001", context="nik"))
    blob[15] ^= 0x01
    with pytest.raises(InvalidTag):
        cipher.decrypt(bytes(blob), context="nik")


@pytest.mark.parametrize(
    "bad",
    [base64.b64encode(os.urandom(16)).decode(), base64.b64encode(os.urandom(33)).decode(), ""],
)
def test_keys_must_be_32_bytes(bad: str) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(bad, _key())
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(_key(), bad)


def test_blind_index_is_deterministic(cipher: FieldCipher) -> None:
    first = cipher.blind_index("3506042602660001", context="nik")
    assert first == cipher.blind_index("3506042602660001", context="nik")
    assert len(first) == 32
    assert b"3506042602660001" not in first


def test_blind_index_differs_by_value_context_and_key() -> None:
    index_key = _key()
    cipher = FieldCipher(_key(), index_key)
    base = cipher.blind_index("3506042602660001", context="nik")
    assert base != cipher.blind_index("3506042602660002", context="nik")
    assert base != cipher.blind_index("3506042602660001", context="phone")
    assert base != FieldCipher(_key(), _key()).blind_index("3506042602660001", context="nik")
    # only the index key matters: another encryption key finds the same row
    assert base == FieldCipher(_key(), index_key).blind_index("3506042602660001", context="nik")


# --- sealing for notify -------------------------------------------------------


def test_seal_round_trip() -> None:
    private, public = generate_seal_keypair()
    payload = {"phone": "+6281234567890", "email": "budi@example.go.id", "language": "en"}
    token = seal_for_notify(payload, public)
    assert isinstance(token, str)
    assert "+6281234567890" not in token and "budi" not in token
    assert b"+6281234567890" not in base64.b64decode(token.rpartition(":")[2])
    assert open_sealed(token, private) == payload


def test_seals_differ_each_time() -> None:
    private, public = generate_seal_keypair()
    payload = {"phone": "+6281234567890"}
    tokens = {seal_for_notify(payload, public) for _ in range(5)}
    assert len(tokens) == 5
    assert all(open_sealed(t, private) == payload for t in tokens)


def test_generated_keypairs_are_distinct_32_byte_keys() -> None:
    private, public = generate_seal_keypair()
    other_private, other_public = generate_seal_keypair()
    assert len(base64.b64decode(private)) == len(base64.b64decode(public)) == 32
    assert private != other_private and public != other_public
    assert private != public


def test_another_private_key_cannot_open() -> None:
    _, public = generate_seal_keypair()
    other_private, _ = generate_seal_keypair()
    token = seal_for_notify({"phone": "+6281234567890"}, public)
    with pytest.raises(InvalidTag):
        open_sealed(token, other_private)


def test_tampered_seal_fails() -> None:
    private, public = generate_seal_keypair()
    prefix, _, body = seal_for_notify({"phone": "+6281234567890"}, public).rpartition(":")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 0x80
    with pytest.raises(InvalidTag):
        open_sealed(f"{prefix}:{base64.b64encode(bytes(raw)).decode()}", private)


def test_development_seal_keys_are_a_pair() -> None:
    token = seal_for_notify({"email": "a@b.id"}, DEV_SEAL_PUBLIC_KEY)
    assert open_sealed(token, DEV_SEAL_PRIVATE_KEY) == {"email": "a@b.id"}


# --- keys that rotate -------------------------------------------------------


def _legacy_encrypt(key_b64: str, value: str, context: str) -> bytes:
    """A field as written before key ids: nonce + AES-GCM ciphertext."""
    nonce = os.urandom(12)
    return nonce + AESGCM(base64.b64decode(key_b64)).encrypt(
        nonce, value.encode(), context.encode()
    )


def _legacy_index(key_b64: str, value: str, context: str) -> bytes:
    return hmac.new(
        base64.b64decode(key_b64), f"{context}:{value}".encode(), hashlib.sha256
    ).digest()


def test_every_ciphertext_names_its_key() -> None:
    old, new = _key(), _key()
    cipher = FieldCipher({1: old, 2: new}, _key())
    blob = cipher.encrypt("3506042602660001", context="nik")
    assert field_key_id(blob) == 2  # the newest encrypts
    assert cipher.is_current(blob)
    assert (
        FieldCipher(KeyRing({1: old, 2: new}, active=1), _key()).encrypt("x", context="n")[:6]
        == FieldCipher(old, _key()).encrypt("y", context="n")[:6]
    )


def test_every_configured_key_decrypts() -> None:
    old, new = _key(), _key()
    under_old = FieldCipher(old, _key()).encrypt("Budi Santoso", context="name")
    assert field_key_id(under_old) == 1
    both = FieldCipher({2: new, 1: old}, _key())
    assert both.decrypt(under_old, context="name") == "Budi Santoso"
    assert not both.is_current(under_old)
    under_new = both.encrypt("Budi Santoso", context="name")
    assert FieldCipher({2: new}, _key()).decrypt(under_new, context="name") == "Budi Santoso"
    # a key that is not configured any more does not open its values
    with pytest.raises(InvalidTag, match="key id 1"):
        FieldCipher({2: new}, _key()).decrypt(under_old, context="name")


def test_the_key_id_cannot_be_swapped() -> None:
    one, two = _key(), _key()
    cipher = FieldCipher({1: one, 2: two}, _key())
    blob = bytearray(cipher.encrypt("3506042602660001", context="nik"))
    blob[5] = 1  # claims key 1
    with pytest.raises(InvalidTag):
        cipher.decrypt(bytes(blob), context="nik")


def test_values_written_before_key_ids_still_open() -> None:
    old = _key()
    legacy = _legacy_encrypt(old, "3506042602660001", "nik")
    assert field_key_id(legacy) is None or field_key_id(legacy) not in (1, 2)
    assert FieldCipher(old, _key()).decrypt(legacy, context="nik") == "3506042602660001"
    assert FieldCipher({1: old, 2: _key()}, _key()).decrypt(legacy, context="nik") == (
        "3506042602660001"
    )
    assert not FieldCipher(old, _key()).is_current(legacy)
    with pytest.raises(InvalidTag):
        FieldCipher({2: _key()}, _key()).decrypt(legacy, context="nik")
    with pytest.raises(InvalidTag):
        FieldCipher(old, _key()).decrypt(legacy, context="phone")
    # files too (uploaded papers)
    nonce = os.urandom(12)
    blob = nonce + AESGCM(base64.b64decode(old)).encrypt(nonce, b"%PDF", b"upload:a/1")
    assert FieldCipher({1: old, 2: _key()}, _key()).decrypt_bytes(blob, context="upload:a/1") == (
        b"%PDF"
    )


def test_blind_index_versions() -> None:
    one, two = _key(), _key()
    before = FieldCipher(_key(), one)
    during = FieldCipher(_key(), {1: one, 2: two})
    nik = "3506042602660001"
    legacy = _legacy_index(one, nik, "nik")
    # key id 1 is the bare HMAC written before versions existed
    assert before.blind_index(nik, context="nik") == legacy
    assert index_key_id(legacy) == 1
    newest = during.blind_index(nik, context="nik")
    assert newest[:2] == (2).to_bytes(2, "big") and len(newest) == 34
    assert index_key_id(newest) == 2
    assert during.blind_indexes(nik, context="nik") == [newest, legacy]
    assert during.index_is_current(newest) and not during.index_is_current(legacy)
    # a stored check is recomputed under the key it names
    assert during.blind_index_like(legacy, nik, context="nik") == legacy
    assert during.blind_index_like(newest, nik, context="nik") == newest
    # an explicit active id keeps the old key writing while the new one is rolled out
    assert (
        FieldCipher(_key(), KeyRing({1: one, 2: two}, active=1)).blind_index(nik, context="nik")
        == legacy
    )


def test_key_ring_settings() -> None:
    a, b = _key(), _key()
    assert parse_key_ids(f"2:{a}, 1:{b}") == {2: a, 1: b}
    assert KeyRing({1: a, 3: b}).active == 3
    assert KeyRing({1: a, 3: b}).ids == [3, 1]
    with pytest.raises(ValueError, match="twice"):
        parse_key_ids(f"1:{a},1:{b}")
    with pytest.raises(ValueError, match="<key id>:<base64 key>"):
        parse_key_ids(a)
    with pytest.raises(ValueError, match="from 1"):
        parse_key_ids(f"0:{a}")
    with pytest.raises(ValueError, match="active key id 5"):
        KeyRing({1: a}, active=5)


def test_settings_build_the_rings(monkeypatch: pytest.MonkeyPatch) -> None:
    from mpp_shared.pii import cipher_from_settings
    from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, ServiceSettings

    single = ServiceSettings()
    assert single.pii_encryption_ring() == {1: DEV_PII_ENCRYPTION_KEY}
    a, b = _key(), _key()
    rotated = ServiceSettings(pii_encryption_keys=f"2:{a},1:{DEV_PII_ENCRYPTION_KEY}")
    cipher = cipher_from_settings(rotated)
    assert cipher.encryption.active == 2
    old_blob = cipher_from_settings(single).encrypt("x", context="nik")
    assert cipher.decrypt(old_blob, context="nik") == "x"
    pinned = ServiceSettings(pii_index_keys=f"2:{a},1:{b}", pii_index_key_id=1)
    assert cipher_from_settings(pinned).index.active == 1
    with pytest.raises(ValueError, match="PII_INDEX_KEYS"):
        ServiceSettings(pii_index_keys=f"2:{a}", pii_index_key_id=1)
    # production refuses the development keys inside a ring too
    with pytest.raises(ValueError, match="PII_ENCRYPTION_KEYS"):
        ServiceSettings(
            mpp_env="production",
            jwt_secret="x" * 40,
            pii_encryption_keys=f"2:{a},1:{DEV_PII_ENCRYPTION_KEY}",
            pii_index_key=b,
            notify_seal_public_key=generate_seal_keypair()[1],
        )


def test_hpke_seal_names_its_key() -> None:
    private, public = generate_seal_keypair()
    token = seal_for_notify({"phone": "+6281234567890"}, public, key_id=7)
    assert token.startswith("hpke:7:") and sealed_key_id(token) == 7
    assert open_sealed(token, {7: private}) == {"phone": "+6281234567890"}
    # the key id is bound into the seal: relabelled, it does not open
    relabelled = "hpke:8:" + token.split(":", 2)[2]
    with pytest.raises(InvalidTag):
        open_sealed(relabelled, {8: private})
    with pytest.raises(InvalidTag, match="no seal key with id 9"):
        open_sealed(token.replace("hpke:7:", "hpke:9:"), {7: private})


def test_notify_opens_with_current_and_previous_keys() -> None:
    old_private, old_public = generate_seal_keypair()
    new_private, new_public = generate_seal_keypair()
    held = {2: new_private, 1: old_private}
    in_flight = seal_for_notify({"phone": "+6281234567890"}, old_public, key_id=1)
    moved = seal_for_notify({"phone": "+6281234567891"}, new_public, key_id=2)
    assert open_sealed(in_flight, held) == {"phone": "+6281234567890"}
    assert open_sealed(moved, held) == {"phone": "+6281234567891"}
    with pytest.raises(InvalidTag):
        open_sealed(in_flight, {2: new_private})


def test_values_sealed_the_earlier_way_still_open() -> None:
    old_private, old_public = generate_seal_keypair()
    new_private, _ = generate_seal_keypair()
    legacy = seal_legacy({"email": "budi@example.go.id"}, old_public)
    assert sealed_key_id(legacy) is None
    assert open_sealed(legacy, {2: new_private, 1: old_private}) == {"email": "budi@example.go.id"}
    assert open_sealed(legacy, old_private) == {"email": "budi@example.go.id"}
    with pytest.raises(InvalidTag):
        open_sealed(legacy, {2: new_private})


# --- masking ------------------------------------------------------------------


def test_mask_nik() -> None:
    assert mask_nik("3506042602660001") == "3506**********01"
    assert mask_nik("12345") == "*****"
    assert "3506042602660001" not in mask_nik("3506042602660001")


def test_mask_nik_hides_the_birth_date_and_serial() -> None:
    masked = mask_nik("3506042602660001")
    assert len(masked) == 16
    assert "260266" not in masked  # the date of birth
    assert set(masked[4:14]) == {"*"}


def test_mask_phone() -> None:
    assert mask_phone("+6281234567890") == "+628*******890"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""
    masked = mask_phone("+628123456789012")
    assert len(masked) == len("+628123456789012")
    assert "+628123456789012" not in masked
    assert masked.startswith("+628") and masked.endswith("012")
    assert masked.count("*") >= len(masked) // 2


@pytest.mark.parametrize("phone", ["+6834002", "+50051234", "123456789"])
def test_mask_phone_hides_something_for_short_numbers(phone: str) -> None:
    masked = mask_phone(phone)
    assert phone not in masked
    assert "*" in masked


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("budi.santoso@example.go.id", "b***@example.go.id"),
        ("x@mail.id", "x***@mail.id"),
        ("@mail.id", "****@mail.id"),
        ("no-at-sign", "***"),
    ],
)
def test_mask_email(email: str, expected: str) -> None:
    assert mask_email(email) == expected


def test_mask_email_hides_the_local_part() -> None:
    masked = mask_email("budi.santoso@example.go.id")
    assert "budi.santoso" not in masked
    assert "santoso" not in masked


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Budi Santoso", "B*** S***"),
        ("Siti", "S***"),
        ("  Ni  Made   Ayu ", "N*** M*** A***"),
        ("", ""),
    ],
)
def test_mask_name(name: str, expected: str) -> None:
    assert mask_name(name) == expected


def test_mask_name_hides_the_name() -> None:
    masked = mask_name("Budi Santoso")
    assert "Budi" not in masked and "Santoso" not in masked
