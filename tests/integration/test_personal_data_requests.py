"""A resident's requests about their data, the parts the end-to-end test
cannot time (test_personal_data_requests.py there runs the whole flow), on a
real PostgreSQL:

- notify's correction moves the messages not sent yet (queued, held, waiting
  to retry) from the old number to the new one, re-encrypted and indexed
  again, and leaves the messages already sent and other residents' alone;
- complaints' reporter indexes are filled for complaints filed before they
  existed, in batches, resumable after an interruption, and the key rotation
  keeps them (a resident is found under the new index key)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from mpp_complaints.store.encrypted_columns import REGISTRY as COMPLAINTS
from mpp_complaints.usecases import personal_data_export as complaints_part
from mpp_complaints.usecases import reporter_contact
from mpp_notify.store import delivery_log
from mpp_notify.usecases import personal_data_export as notify_part
from mpp_shared import keyrotation
from mpp_shared.auth import Principal, Role
from mpp_shared.personal_data import CorrectionRequest, Subject, SubjectRequest
from mpp_shared.pii import FieldCipher, index_key_id
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY
from tests.support.identities import phone

SUPERVISOR = Principal("supervisor-1", frozenset({Role.SUPERVISOR}), "MPP-01")
CIPHER = FieldCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY)
REASON = "Permintaan warga"


def _message(
    cipher: FieldCipher, address: str, status: str, application_id: uuid.UUID
) -> delivery_log.NewMessage:
    return delivery_log.NewMessage(
        id=uuid.uuid4(),
        source_event_id=uuid.uuid4(),
        source_event_type="mpp.application.verified.v1",
        channel="sms",
        provider="sms-gateway",
        recipient_index=cipher.blind_index(f"sms:{address}", context="recipient"),
        recipient_masked="+62***",
        recipient_enc=cipher.encrypt(address, context="recipient-address"),
        language="id",
        subject=None,
        body="Berkas Anda sudah diverifikasi",
        status=status,
        urgent=True,
        next_attempt_at=datetime.now(UTC),
        application_id=application_id,
        complaint_id=None,
        tracking_code="AB12CD34EF",
        trace_id=None,
    )


async def test_notify_moves_the_messages_not_sent_yet_to_the_new_number(
    notify_pool: asyncpg.Pool,
) -> None:
    old, new, stranger = phone("0813").e164, phone("0813").e164, phone("0813").e164
    application = uuid.uuid4()
    waiting = [_message(CIPHER, old, s, application) for s in ("queued", "held", "retrying")]
    sent = _message(CIPHER, old, "delivered", application)
    other = _message(CIPHER, stranger, "queued", uuid.uuid4())
    async with notify_pool.acquire() as conn:
        for m in (*waiting, sent, other):
            assert await delivery_log.insert(conn, m)
        await conn.execute(
            "INSERT INTO recipients (subject_type, subject_id, contact_enc) VALUES "
            "('application', $1, $2)",
            application,
            CIPHER.encrypt(json.dumps({"phone": old, "language": "id"}), context="contact"),
        )
    request_id = uuid.uuid4()
    subject = Subject(phones=[old], application_ids=[application])

    done = await notify_part.correct(
        notify_pool,
        CIPHER,
        SUPERVISOR,
        CorrectionRequest(request_id=request_id, reason=REASON, subject=subject, new_phone=new),
    )
    assert done.corrected == {"message": 3, "recipient": 1}

    async with notify_pool.acquire() as conn:
        rows = {r["id"]: r for r in await conn.fetch("SELECT * FROM delivery_log")}
        contact = await conn.fetchval("SELECT contact_enc FROM recipients")
        trail = await conn.fetch("SELECT * FROM audit_log WHERE target_id = $1", str(request_id))

    def address(message: delivery_log.NewMessage) -> str:
        row = rows[message.id]
        assert row["recipient_index"] == CIPHER.blind_index(
            f"sms:{CIPHER.decrypt(row['recipient_enc'], context='recipient-address')}",
            context="recipient",
        )
        return CIPHER.decrypt(row["recipient_enc"], context="recipient-address")

    assert [address(m) for m in waiting] == [new, new, new]
    assert address(sent) == old  # what was sent stays as it was
    assert address(other) == stranger
    assert json.loads(CIPHER.decrypt(contact, context="contact"))["phone"] == new
    [entry] = trail
    assert entry["action"] == "personal_data.corrected"
    assert entry["detail"]["messages"] == 3 and old not in json.dumps(entry["detail"])

    # The export now finds the messages under the new number, and the sent one under the old.
    found = await notify_part.export(
        notify_pool,
        CIPHER,
        SUPERVISOR,
        SubjectRequest(request_id=uuid.uuid4(), reason=REASON, subject=Subject(phones=[new])),
    )
    assert sorted(r["id"] for r in (rec.model_dump() for rec in found.records)) == sorted(
        str(m.id) for m in waiting
    )


async def test_reporter_indexes_are_filled_resumably_and_kept_by_the_rotation(
    complaints_pool: asyncpg.Pool,
) -> None:
    reporters = [{"name": "Pelapor", "phone": phone("0852").e164} for _ in range(5)]
    reporters.append({"name": "Tanpa kontak"})
    ids = []
    async with complaints_pool.acquire() as conn:
        for n, contact in enumerate(reporters):
            ids.append(uuid.uuid4())
            await conn.execute(
                "INSERT INTO complaints (id, complaint_code, category, description, channel, "
                "status, reporter_enc) VALUES ($1, $2, 'pelayanan', 'Pelayanan lambat sekali', "
                "'web', 'received', $3)",
                ids[-1],
                f"P{n:08d}",
                CIPHER.encrypt(json.dumps(contact), context="reporter"),
            )
    someone = Subject(phones=[reporters[3]["phone"]])

    async def found(cipher: FieldCipher) -> list[uuid.UUID]:
        async with complaints_pool.acquire() as conn:
            return [r["id"] for r in await complaints_part.find(conn, cipher, someone)]

    assert await found(CIPHER) == []  # filed before the indexes: not found yet

    class Interrupted(Exception):
        pass

    progress: list[str] = []

    def stop_after_first_batch(line: str) -> None:
        progress.append(line)
        if "indexed" in line:
            raise Interrupted

    with pytest.raises(Interrupted):
        await reporter_contact.fill_missing_indexes(
            complaints_pool, CIPHER, batch_size=2, report=stop_after_first_batch
        )
    assert progress[0].endswith("6 complaints to index")
    async with complaints_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM complaints WHERE reporter_indexed") == 2
    done, failed = await reporter_contact.fill_missing_indexes(
        complaints_pool, CIPHER, batch_size=2, report=progress.append
    )
    assert (done, failed) == (4, 0)
    assert progress[-1].endswith("4/4 complaints indexed")
    assert await found(CIPHER) == [ids[3]]

    # The rotation to a new index key moves the reporter indexes too.
    new_index_key = base64.b64encode(os.urandom(32)).decode()
    rotating = FieldCipher(DEV_PII_ENCRYPTION_KEY, {1: DEV_PII_INDEX_KEY, 2: new_index_key})
    await keyrotation.rotate(complaints_pool, rotating, COMPLAINTS, report=lambda _: None)
    async with complaints_pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT reporter_phone_index FROM complaints WHERE id = $1", ids[3]
        )
    assert index_key_id(stored) == 2
    assert await found(FieldCipher(DEV_PII_ENCRYPTION_KEY, {2: new_index_key})) == [ids[3]]
