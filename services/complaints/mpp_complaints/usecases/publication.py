"""Publishing an answered aspiration or request for information as a public
question and answer (and withdrawing it), and the public search of them.

An officer writes the public texts; they are refused (422, naming the field
and what to remove) while they hold personal data (domain/publication.py),
the asker's own name included (read from the encrypted contact, never
stored elsewhere or logged). Publishing needs the asker's consent: given on
filing, or recorded here by the officer with how it was given. Every step is
audited; the public list never holds the report's code, its reporter or
anything the asker wrote."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel, Field

from mpp_complaints.domain.kinds import is_publishable
from mpp_complaints.domain.publication import personal_data_in, what_to_remove
from mpp_complaints.store import complaints, publications
from mpp_complaints.store.complaints import COMPLAINT
from mpp_complaints.usecases.lifecycle import finish, in_force, now
from mpp_shared.auth import Principal
from mpp_shared.errors import Conflict, Invalid, NotFound
from mpp_shared.pii import FieldCipher

ConsentWay = Literal["phone", "in_person", "email", "letter", "whatsapp", "web_form"]


@dataclass(frozen=True)
class Consent:
    given_by: ConsentWay
    note: str | None = None


@dataclass(frozen=True)
class PublishAnswer:
    complaint_id: uuid.UUID
    question: str
    answer: str
    consent: Consent | None = None  # recorded now, when the filing did not carry it


class PublishedAnswer(BaseModel):
    """A public question and answer: no code, no reporter, nothing the asker wrote."""

    id: uuid.UUID
    kind: str
    question: str
    answer: str
    opd: str | None = Field(description="The office that answered")
    published_at: datetime


class PublishedAnswers(BaseModel):
    items: list[PublishedAnswer]
    total: int
    page: int
    page_size: int


class Publication(PublishedAnswer):
    """What the officer reads back: the public entry and whether it is listed."""

    complaint_id: uuid.UUID
    withdrawn_at: datetime | None


def refuse_personal_data(fields: dict[str, str], reporter_name: str | None) -> None:
    """Invalid naming each field that holds personal data, and what to remove."""
    errors = []
    for name, text in fields.items():
        found = personal_data_in(text, reporter_name)
        if found:
            message_id, message_en = what_to_remove(found)
            errors.append(
                {
                    "field": name,
                    "type": "personal_data",
                    "message_id": message_id,
                    "message_en": message_en,
                }
            )
    if errors:
        named = "; ".join(f"{e['field']}: {e['message_id']}" for e in errors)
        named_en = "; ".join(f"{e['field']}: {e['message_en']}" for e in errors)
        raise Invalid(
            "invalid",
            f"Data tidak valid: {named}",
            f"The request is not valid: {named_en}",
            errors=errors,
        )


def _reporter_name(row: asyncpg.Record, cipher: FieldCipher) -> str | None:
    if row["reporter_enc"] is None:
        return None
    contact = json.loads(cipher.decrypt(row["reporter_enc"], context="reporter"))
    name = contact.get("name")
    return str(name) if name else None


def _publication(complaint_id: uuid.UUID, row: asyncpg.Record) -> Publication:
    return Publication(complaint_id=complaint_id, **dict(row))


async def publish(
    pool: asyncpg.Pool, command: PublishAnswer, *, officer: Principal, cipher: FieldCipher
) -> Publication:
    """The answer listed publicly; NotFound, Conflict (not an answered
    aspiration or request for information; no consent), Invalid (personal data)."""
    at = now()
    async with pool.acquire() as conn, conn.transaction():
        row = await complaints.lock(conn, command.complaint_id)
        if row is None:
            raise COMPLAINT.not_found()
        if not is_publishable(row["kind"], row["status"]):
            raise Conflict(
                "not_publishable",
                "Hanya aspirasi atau permintaan informasi yang sudah dijawab yang dapat "
                "dipublikasikan",
                "Only an answered aspiration or request for information can be published",
                **in_force(row),
            )
        if not row["publication_consent"] and command.consent is None:
            raise Conflict(
                "no_consent",
                "Penanya belum menyetujui publikasi; catat persetujuannya (consent) dan caranya",
                "The asker has not agreed to publication; record their consent and how it "
                "was given",
                **in_force(row),
            )
        refuse_personal_data(
            {"question": command.question, "answer": command.answer},
            _reporter_name(row, cipher),
        )
        if command.consent is not None:
            await publications.record_consent(
                conn,
                command.complaint_id,
                given_by=command.consent.given_by,
                note=command.consent.note,
                at=at,
            )
            await finish(
                conn,
                officer,
                command.complaint_id,
                action="complaint.publication_consent",
                given_by=command.consent.given_by,
            )
        published = await publications.publish(
            conn,
            complaint_id=command.complaint_id,
            kind=row["kind"],
            question=command.question,
            answer=command.answer,
            opd=row["opd"],
            published_by=officer.subject,
            at=at,
        )
        await finish(
            conn,
            officer,
            command.complaint_id,
            action="complaint.published",
            published_answer=str(published["id"]),
        )
        return _publication(command.complaint_id, published)


async def withdraw(
    pool: asyncpg.Pool, complaint_id: uuid.UUID, *, officer: Principal
) -> Publication:
    """The answer no longer listed; NotFound when it is not listed."""
    async with pool.acquire() as conn, conn.transaction():
        row = await complaints.lock(conn, complaint_id)
        if row is None:
            raise COMPLAINT.not_found()
        withdrawn = await publications.withdraw(conn, complaint_id, now())
        if withdrawn is None:
            raise NotFound(
                "not_published",
                "Jawaban ini tidak sedang dipublikasikan",
                "This answer is not published",
            )
        await finish(
            conn,
            officer,
            complaint_id,
            action="complaint.publication_withdrawn",
            published_answer=str(withdrawn["id"]),
        )
        return _publication(complaint_id, withdrawn)


async def search(
    pool: asyncpg.Pool, *, q: str | None, kind: str | None, page: int, page_size: int
) -> PublishedAnswers:
    """One page of the listed questions and answers."""
    async with pool.acquire() as conn:
        rows, total = await publications.search(
            conn, q=q, kind=kind, limit=page_size, offset=(page - 1) * page_size
        )
    return PublishedAnswers(
        items=[PublishedAnswer(**dict(r)) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )
