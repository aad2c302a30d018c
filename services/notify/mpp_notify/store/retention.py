"""What notify erases when a retention period has passed (mpp_shared.retention):

- `messages`: a message delivered, handed to a provider that reports later
  (`sent`) or given up (`dead`), `RETENTION_MESSAGES_DAYS` after that
  (`delivered_at`, `sent_at`, `dead_at`): its address (encrypted and as blind
  index), masked address, text, subject and template parameters, and the
  error texts of its attempts. The row keeps its ids, event, channel,
  provider, states, dates and counts.
- `contacts`: a contact kept to tell a resident about an application or a
  complaint (`recipients`), `RETENTION_CONTACTS_DAYS` after it was kept once
  no message about that subject was logged for as long: the ciphertext goes
  (the subject is then known with nobody to tell).
- `whatsapp_conversations`: a conversation with the assistant and its inbound
  message ids, `RETENTION_WHATSAPP_DAYS` after the resident's last message:
  deleted (state only, nothing any report reads).
- `webhook_journal`: the events kept for OPD webhook redelivery (no personal
  data by design), `EVENT_RETENTION_DAYS` after the event, once their
  deliveries are finished: deleted with their deliveries and attempts, as
  the webhook dispatcher's own purge does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from mpp_shared.retention import ERASED, Holding, Kind

MESSAGES = "messages"
CONTACTS = "contacts"
WHATSAPP = "whatsapp_conversations"
JOURNAL = "webhook_journal"
ENDED_STATES = ("delivered", "sent", "dead")

_ENDED = "coalesce(delivered_at, dead_at, sent_at, updated_at)"
MESSAGES_DUE = f"""
SELECT id::text AS id FROM delivery_log
WHERE personal_data_erased_at IS NULL AND status IN ('delivered', 'sent', 'dead')
  AND {_ENDED} <= $1
ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
MESSAGES_ERASE = f"""
WITH erased AS (
    UPDATE delivery_log SET recipient_enc = NULL, recipient_index = NULL,
        recipient_masked = '{ERASED}', body = '{ERASED}', subject = NULL, template = NULL,
        secret_body_enc = NULL, last_error = NULL, personal_data_erased_at = $2
    WHERE id = ANY($1::text[]::uuid[]) AND personal_data_erased_at IS NULL
    RETURNING id
), attempts AS (
    UPDATE delivery_attempts a SET error = NULL
    FROM erased e
    WHERE a.delivery_kind = 'message' AND a.delivery_id = e.id AND a.error IS NOT NULL
)
SELECT id::text AS id FROM erased
"""
_SUBJECT_ID = "r.subject_type || ':' || r.subject_id::text"
CONTACTS_DUE = f"""
SELECT {_SUBJECT_ID} AS id FROM recipients r
WHERE r.personal_data_erased_at IS NULL AND r.contact_enc IS NOT NULL AND r.created_at <= $1
  AND NOT EXISTS (
      SELECT 1 FROM delivery_log d
      WHERE d.created_at > $1
        AND ((r.subject_type = 'application' AND d.application_id = r.subject_id
              AND d.complaint_id IS NULL)
             OR (r.subject_type = 'complaint' AND d.complaint_id = r.subject_id)))
ORDER BY r.created_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED
"""
CONTACTS_ERASE = f"""
UPDATE recipients r SET contact_enc = NULL, personal_data_erased_at = $2
FROM unnest($1::text[]) AS v(id)
WHERE r.subject_type = split_part(v.id, ':', 1)
  AND r.subject_id = split_part(v.id, ':', 2)::uuid
  AND r.personal_data_erased_at IS NULL
RETURNING {_SUBJECT_ID} AS id
"""
WHATSAPP_DUE = """
SELECT encode(sender_index, 'hex') AS id FROM wa_conversations
WHERE last_inbound_at <= $1
ORDER BY last_inbound_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
WHATSAPP_ERASE = """
WITH gone AS (
    DELETE FROM wa_conversations
    WHERE sender_index = ANY(ARRAY(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x))
    RETURNING sender_index
), inbound AS (
    DELETE FROM wa_inbound_messages m USING gone g
    WHERE m.sender_index = g.sender_index AND m.received_at <= $2
)
SELECT encode(sender_index, 'hex') AS id FROM gone
"""
JOURNAL_DUE = """
SELECT j.event_id::text AS id FROM event_journal j
WHERE j.occurred_at <= $1
  AND NOT EXISTS (
      SELECT 1 FROM webhook_deliveries d
      WHERE d.event_id = j.event_id AND d.status NOT IN ('delivered', 'dead'))
ORDER BY j.occurred_at LIMIT $2 FOR UPDATE OF j SKIP LOCKED
"""
JOURNAL_ERASE = """
WITH attempts AS (
    DELETE FROM delivery_attempts a USING webhook_deliveries d
    WHERE a.delivery_kind = 'webhook' AND a.delivery_id = d.id
      AND d.event_id = ANY($1::text[]::uuid[])
), deliveries AS (
    DELETE FROM webhook_deliveries WHERE event_id = ANY($1::text[]::uuid[])
)
DELETE FROM event_journal WHERE event_id = ANY($1::text[]::uuid[])
RETURNING event_id::text AS id, $2::timestamptz AS at
"""


def kinds(
    *, messages_days: int, contacts_days: int, whatsapp_days: int, journal_days: int
) -> list[Kind]:
    return [
        Kind(MESSAGES, timedelta(days=messages_days), MESSAGES_DUE, MESSAGES_ERASE),
        Kind(CONTACTS, timedelta(days=contacts_days), CONTACTS_DUE, CONTACTS_ERASE),
        Kind(WHATSAPP, timedelta(days=whatsapp_days), WHATSAPP_DUE, WHATSAPP_ERASE),
        Kind(JOURNAL, timedelta(days=journal_days), JOURNAL_DUE, JOURNAL_ERASE),
    ]


def message_ended(row: asyncpg.Record) -> datetime | None:
    if row["status"] not in ENDED_STATES:
        return None
    for column in ("delivered_at", "dead_at", "sent_at", "updated_at"):
        if row[column] is not None:
            ended: datetime = row[column]
            return ended
    return None


def holdings(
    messages: list[asyncpg.Record],
    recipients: list[asyncpg.Record],
    conversations: list[asyncpg.Record],
) -> list[Holding]:
    """A resident's messages, kept contacts and WhatsApp conversation, for an
    erasure on request. A contact's period starts at its subject's last
    message (or when it was kept); a conversation's at the last inbound one."""
    last_message: dict[str, datetime] = {}
    for m in messages:
        for subject in (
            f"complaint:{m['complaint_id']}" if m["complaint_id"] else None,
            f"application:{m['application_id']}"
            if m["application_id"] and not m["complaint_id"]
            else None,
        ):
            if subject and (subject not in last_message or m["created_at"] > last_message[subject]):
                last_message[subject] = m["created_at"]
    found = [
        Holding(
            kind=MESSAGES,
            id=str(m["id"]),
            started=message_ended(m),
            open_reason=("pesan belum terkirim", "the message is not sent yet"),
            erased=m["personal_data_erased_at"] is not None,
        )
        for m in messages
    ]
    for r in recipients:
        subject = f"{r['subject_type']}:{r['subject_id']}"
        found.append(
            Holding(
                kind=CONTACTS,
                id=subject,
                started=max(r["created_at"], last_message.get(subject, r["created_at"])),
                erased=r["contact_enc"] is None,
            )
        )
    found += [
        Holding(
            kind=WHATSAPP,
            id=bytes(c["sender_index"]).hex(),
            started=c["last_inbound_at"],
        )
        for c in conversations
    ]
    return found
