"""The reporter's contact as complaints finds it again: the blind indexes of
the phone (context "reporter-phone") and the e-mail address ("reporter-email")
written beside the encrypted contact, and the filling of those indexes for
complaints filed before they existed (`fill_missing_indexes`, run by
`python -m mpp_complaints.rotate_keys` before it moves keys)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping

import asyncpg
from cryptography.exceptions import InvalidTag

from mpp_complaints.store import personal_data
from mpp_shared.pii import FieldCipher

PHONE_CONTEXT = "reporter-phone"
EMAIL_CONTEXT = "reporter-email"


def indexes(cipher: FieldCipher, contact: Mapping[str, str]) -> tuple[bytes | None, bytes | None]:
    """(phone index, e-mail index) under the active index key; None where not given."""
    phone, email = contact.get("phone"), contact.get("email")
    return (
        cipher.blind_index(phone, context=PHONE_CONTEXT) if phone else None,
        cipher.blind_index(email, context=EMAIL_CONTEXT) if email else None,
    )


def phone_indexes(cipher: FieldCipher, phones: list[str]) -> list[bytes]:
    """What a search looks for: every phone under every configured index key."""
    return [i for p in phones for i in cipher.blind_indexes(p, context=PHONE_CONTEXT)]


def email_indexes(cipher: FieldCipher, emails: list[str]) -> list[bytes]:
    return [i for e in emails for i in cipher.blind_indexes(e.lower(), context=EMAIL_CONTEXT)]


def opened(cipher: FieldCipher, reporter_enc: bytes) -> dict[str, str]:
    """The stored contact (name, phone, email), in clear."""
    found: dict[str, str] = json.loads(cipher.decrypt(bytes(reporter_enc), context="reporter"))
    return found


def sealed(cipher: FieldCipher, contact: Mapping[str, str]) -> bytes:
    return cipher.encrypt(json.dumps(dict(contact)), context="reporter")


async def fill_missing_indexes(
    pool: asyncpg.Pool,
    cipher: FieldCipher,
    *,
    batch_size: int = 500,
    report: Callable[[str], None] = print,
) -> tuple[int, int]:
    """Write the reporter indexes of the complaints filed before they existed,
    a batch per transaction, by id; stopped, it carries on where it was when
    run again (the rows done are marked). (rows filled, rows that did not
    open: left for a run with their key configured)."""
    total = await personal_data.count_not_indexed(pool)
    report(f"complaints reporter indexes: {total} complaints to index")
    done = failed = 0
    after = uuid.UUID(int=0)
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await personal_data.not_indexed(conn, after, batch_size)
            if not rows:
                break
            after = rows[-1]["id"]
            updates: list[tuple[uuid.UUID, bytes | None, bytes | None, bytes | None]] = []
            for row in rows:
                enc = row["reporter_enc"]
                if enc is None:
                    updates.append((row["id"], None, None, None))
                    continue
                try:
                    contact = opened(cipher, enc)
                except (InvalidTag, ValueError):
                    failed += 1
                    continue
                phone, email = indexes(cipher, contact)
                updates.append((row["id"], bytes(enc), phone, email))
            done += await personal_data.set_indexes(conn, updates)
        report(f"complaints reporter indexes: {done}/{total} complaints indexed")
    return done, failed
