"""Personal data protection: field encryption, blind index, sealing for notify, masking."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from mpp_shared.pii import (
    FieldCipher,
    generate_seal_keypair,
    mask_email,
    mask_name,
    mask_nik,
    mask_phone,
    open_sealed,
    seal_for_notify,
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
    # 12-byte nonce + plaintext + 16-byte GCM tag
    assert all(len(b) == 12 + 16 + 16 for b in blobs)
    assert len({b[:12] for b in blobs}) == 10


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
    assert b"+6281234567890" not in base64.b64decode(token)
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
    raw = bytearray(base64.b64decode(seal_for_notify({"phone": "+6281234567890"}, public)))
    raw[-1] ^= 0x80
    with pytest.raises(InvalidTag):
        open_sealed(base64.b64encode(bytes(raw)).decode(), private)


def test_development_seal_keys_are_a_pair() -> None:
    token = seal_for_notify({"email": "a@b.id"}, DEV_SEAL_PUBLIC_KEY)
    assert open_sealed(token, DEV_SEAL_PRIVATE_KEY) == {"email": "a@b.id"}


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
