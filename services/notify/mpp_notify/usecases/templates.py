"""Message templates as supervisors and admins manage them: the template in
force for every event type, channel and language; a change, checked before
it is saved (`TemplateRefused`, see domain.template_check), refused when the
writer read another version; the shipped default put back.

A template that would fail or leak at send time is refused here, never
accepted and found out when a citizen's message is due. A change and its
audit entry (with the previous text) commit together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

import asyncpg
from pydantic import BaseModel

from mpp_notify import templates
from mpp_notify.domain.template_check import check
from mpp_notify.domain.template_rendering import (
    CHANNELS,
    LANGUAGES,
    MPP_FILTERS,
    Channel,
    StoredTemplate,
    TemplateKey,
    template_event_types,
)
from mpp_notify.domain.template_variables import allowed_variables
from mpp_notify.store import message_templates
from mpp_shared import audit
from mpp_shared.auth import Principal
from mpp_shared.errors import Invalid, Language, NotFound
from mpp_shared.transitions import refuse_stale_or_illegal

NOUN = ("Templat", "The template")


class TemplatePublic(BaseModel):
    """The template in force for one event type, channel and language."""

    event_type: str
    channel: str  # sms | whatsapp | email
    language: str  # id | en
    subject: str | None  # e-mail only
    body: str
    source: str  # default (shipped) | custom (changed over the API)
    version: int  # 0 for the shipped default
    updated_by: str | None
    updated_at: datetime | None
    variables: list[str]  # what the template may use
    filters: list[str]  # the MPP filters (Jinja2's built-in ones work too)
    # The shipped text, when the template is customised (one template only).
    default_subject: str | None = None
    default_body: str | None = None


def template_in_force(
    key: TemplateKey, saved: StoredTemplate | None, *, with_default: bool
) -> TemplatePublic:
    """The saved template, else the shipped one; `with_default` adds the
    shipped text to a saved one."""
    default = templates.default_text(*key)
    shown = with_default and saved is not None
    return TemplatePublic(
        event_type=key.event_type,
        channel=key.channel,
        language=key.language,
        subject=default.subject if saved is None else saved.subject,
        body=default.body if saved is None else saved.body,
        source="default" if saved is None else "custom",
        version=0 if saved is None else saved.version,
        updated_by=None if saved is None else saved.updated_by,
        updated_at=None if saved is None else saved.updated_at,
        variables=allowed_variables(key.event_type),
        filters=list(MPP_FILTERS),
        default_subject=default.subject if shown else None,
        default_body=default.body if shown else None,
    )


async def list_templates(
    pool: asyncpg.Pool,
    *,
    event_type: str | None,
    channel: Channel | None,
    language: Language | None,
) -> list[TemplatePublic]:
    """Every template in force, or those of one event type, channel or language."""
    if event_type is not None and event_type not in templates.TEMPLATES:
        known = ", ".join(template_event_types())
        raise Invalid.field(
            "event_type",
            "unknown_event_type",
            f"tidak punya templat pesan; yang ada: {known}",
            f"has no message templates; these do: {known}",
        )
    async with pool.acquire() as conn:
        saved = {template.key: template for template in await message_templates.find_all(conn)}
    keys = [
        TemplateKey(t, c, lang)
        for t in template_event_types()
        for c in CHANNELS
        for lang in LANGUAGES
        if event_type in (None, t) and channel in (None, c) and language in (None, lang)
    ]
    return [template_in_force(key, saved.get(key), with_default=False) for key in keys]


async def show_template(pool: asyncpg.Pool, key: TemplateKey) -> TemplatePublic:
    _refuse_unknown(key.event_type)
    async with pool.acquire() as conn:
        saved = await message_templates.find(conn, key)
    return template_in_force(key, saved, with_default=True)


async def change_template(
    pool: asyncpg.Pool,
    editor: Principal,
    key: TemplateKey,
    *,
    subject: str | None,
    body: str,
    expected_version: int | None,
) -> TemplatePublic:
    """Save a new text (a blank subject is none) once it passes the check;
    `expected_version` is the version read (0: the shipped default)."""
    _refuse_unknown(key.event_type)
    subject = (subject or "").strip() or None
    check(*key, subject, body)
    async with pool.acquire() as conn, conn.transaction():
        current = await message_templates.find(conn, key, for_update=True)
        _refuse_stale(current, expected_version)
        saved = await message_templates.save(
            conn,
            key,
            subject,
            body,
            updated_by=editor.subject,
            expected_version=expected_version,
        )
        if saved is None:  # created or changed meanwhile
            _refuse_changed_meanwhile(await message_templates.find(conn, key))
        await audit.record(
            conn,
            editor,
            action="template.updated",
            target_type="message_template",
            target_id="/".join(key),
            detail={
                "version": saved.version,
                "subject": subject,
                "body": body,
                **_previous(current),
            },
        )
    return template_in_force(key, saved, with_default=True)


async def reset_template(
    pool: asyncpg.Pool, editor: Principal, key: TemplateKey, *, expected_version: int | None
) -> TemplatePublic:
    """Put the shipped default back (nothing to do, and no audit entry, when
    it is already in force)."""
    _refuse_unknown(key.event_type)
    async with pool.acquire() as conn, conn.transaction():
        current = await message_templates.find(conn, key, for_update=True)
        _refuse_stale(current, expected_version)
        if current is not None:
            await message_templates.delete(conn, key)
            await audit.record(
                conn,
                editor,
                action="template.reset",
                target_type="message_template",
                target_id="/".join(key),
                detail=_previous(current),
            )
    return template_in_force(key, None, with_default=False)


def _refuse_unknown(event_type: str) -> None:
    if event_type not in templates.TEMPLATES:
        known = template_event_types()
        raise NotFound(
            "not_found",
            f"Jenis peristiwa {event_type} tidak punya templat pesan; yang ada: {', '.join(known)}",
            f"Event type {event_type} has no message templates; these do: {', '.join(known)}",
            event_types=known,
        )


def _refuse_stale(current: StoredTemplate | None, expected_version: int | None) -> None:
    """409 with the version in force (0: the shipped default) when the writer read another."""
    refuse_stale_or_illegal(
        noun=NOUN,
        current="default" if current is None else "custom",
        target="custom",
        version=0 if current is None else current.version,
        expected_version=expected_version,
        allowed=True,
    )


def _refuse_changed_meanwhile(current: StoredTemplate | None) -> NoReturn:
    """Another writer saved first: refused with the version now in force
    (never -1, so the write is always stale)."""
    _refuse_stale(current, -1)
    raise AssertionError("a write over version -1 is always stale")


def _previous(current: StoredTemplate | None) -> dict[str, Any]:
    if current is None:
        return {"previous_version": 0}
    return {
        "previous_version": current.version,
        "previous_subject": current.subject,
        "previous_body": current.body,
    }
