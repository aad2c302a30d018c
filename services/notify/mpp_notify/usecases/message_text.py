"""The text of one message: the template officers saved for the event type,
channel and language, else the shipped default. A saved template that fails
on an event still yields a message (the default), never none at all."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from mpp_notify import templates
from mpp_notify.domain.template_rendering import (
    CHANNELS,
    Rendered,
    TemplateKey,
    effective_language,
    render_stored,
)
from mpp_notify.store import message_templates

log = logging.getLogger(__name__)


async def render_message(
    conn: asyncpg.Connection,
    event_type: str,
    channel: str,
    language: str,
    variables: dict[str, Any],
) -> Rendered:
    """The message for one event on one channel in one language, in the
    caller's transaction; a language without templates reads Indonesian.
    KeyError for an event type or channel without templates; UndefinedError
    when `variables` lack what the default needs."""
    if event_type not in templates.TEMPLATES or channel not in CHANNELS:
        raise KeyError(f"no template for {event_type} on {channel}")
    language = effective_language(language)
    saved = await message_templates.find(conn, TemplateKey(event_type, channel, language))
    if saved is not None:
        try:
            return render_stored(saved, variables)
        except Exception as exc:
            # Checked at save time against the example; an event that still
            # breaks it gets the shipped text rather than no message at all.
            log.warning(
                "template %s/%s/%s v%s failed (%s); sending the default",
                event_type,
                channel,
                language,
                saved.version,
                type(exc).__name__,
            )
    return templates.render_default(event_type, channel, language, variables)
