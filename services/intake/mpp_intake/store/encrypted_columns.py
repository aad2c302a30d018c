"""Where intake keeps personal data under keys: every encrypted column (with
its AEAD context) and every blind index (with its index context and the clear
value it is computed from), in one place. `python -m mpp_intake.rotate_keys`
moves them to the active keys (mpp_shared.keyrotation); a new encrypted
column or blind index is added here too (tests/unit/test_key_registries.py
checks that the code's contexts are all listed)."""

from __future__ import annotations

from mpp_shared.keyrotation import (
    BlindIndex,
    Clear,
    Encrypted,
    EncryptedTable,
    NotRotated,
    Registry,
    Row,
)


def _nik(clear: Clear, row: Row) -> str | None:
    return clear["nik_enc"]


def _phone(clear: Clear, row: Row) -> str | None:
    return clear["phone_enc"]


def _subject_nik(clear: Clear, row: Row) -> str | None:
    return clear["subject_nik_enc"]


NIK_INDEX = BlindIndex("nik_index", context="nik", requires="nik_enc", source=_nik)
PHONE_INDEX = BlindIndex("phone_index", context="phone", requires="phone_enc", source=_phone)
SUBJECT_NIK_INDEX = BlindIndex(
    "subject_nik_index", context="nik", requires="subject_nik_enc", source=_subject_nik
)
UUID_KEY = (("id", "uuid"),)

REGISTRY = Registry(
    service="intake",
    tables=(
        EncryptedTable(
            "applications",
            key=UUID_KEY,
            encrypted=(
                Encrypted("nik_enc", "nik"),
                Encrypted("name_enc", "name"),
                Encrypted("phone_enc", "phone"),
                Encrypted("email_enc", "email"),
            ),
            indexes=(NIK_INDEX,),
        ),
        EncryptedTable(
            "outreach_entries",
            key=UUID_KEY,
            encrypted=(
                Encrypted("nik_enc", "nik"),
                Encrypted("name_enc", "name"),
                Encrypted("phone_enc", "phone"),
            ),
            indexes=(NIK_INDEX,),
        ),
        # A village's report: the applicant as on an outreach entry, the person
        # it concerns and the family card number.
        EncryptedTable(
            "population_reports",
            key=UUID_KEY,
            encrypted=(
                Encrypted("nik_enc", "nik"),
                Encrypted("name_enc", "name"),
                Encrypted("phone_enc", "phone"),
                Encrypted("subject_nik_enc", "subject_nik"),
                Encrypted("subject_name_enc", "subject_name"),
                Encrypted("kk_enc", "kk"),
            ),
            indexes=(NIK_INDEX, SUBJECT_NIK_INDEX),
        ),
        EncryptedTable(
            "citizen_signin_codes",
            key=UUID_KEY,
            encrypted=(Encrypted("nik_enc", "nik"), Encrypted("phone_enc", "phone")),
            indexes=(NIK_INDEX, PHONE_INDEX),
        ),
        EncryptedTable(
            "citizen_sessions",
            key=UUID_KEY,
            encrypted=(Encrypted("nik_enc", "nik"), Encrypted("phone_enc", "phone")),
            indexes=(NIK_INDEX, PHONE_INDEX),
        ),
        # Uploaded papers kept in PostgreSQL (UPLOAD_STORAGE=postgres), each
        # bound to its storage key.
        EncryptedTable(
            "upload_blobs",
            key=(("key", "text"),),
            encrypted=(Encrypted("data", lambda row: f"upload:{row['key']}"),),
        ),
    ),
    not_rotated=(
        NotRotated(
            "online_drafts",
            "nik_index, phone_index",
            "a draft holds only its owner's indexes, no clear value; found under every "
            "configured index key, keep the old one until the drafts made before the "
            "rotation are submitted or abandoned",
        ),
        NotRotated(
            "citizen_signin_codes",
            "code_hash",
            "a one-time code is kept only hashed; checked under the key it names, "
            "gone after CITIZEN_CODE_TTL_SECONDS",
        ),
        NotRotated(
            "citizen_rate_events",
            "key",
            "rate-limit counters: under a new key they start again, once",
        ),
        NotRotated(
            "S3 bucket (UPLOAD_STORAGE=s3)",
            "objects",
            "not moved in this step; each object names its key, so they stay readable "
            "while the old encryption key stays configured",
        ),
    ),
)
