"""The shipped message texts, one file per event type, part and language:
`<event type>/body.<language>.j2` (SMS, WhatsApp and e-mail share the body)
and `<event type>/subject.<language>.j2` (the e-mail's subject line), in
Bahasa Indonesia (`id`) and English (`en`).

Every event type with templates has all four files: they are read and
compiled once, at import, and a missing one stops the service from starting
rather than a citizen's message from being sent. A file's final newline is
not part of the text. Officers override these texts over the API (stored in
`message_templates`); the files themselves never change at run time.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any, Literal

from mpp_notify.domain.template_rendering import (
    ENVIRONMENT,
    LANGUAGES,
    Rendered,
    TemplateText,
    effective_language,
    template_event_types,
)

Part = Literal["body", "subject"]


def _read(event_type: str, part: Part, language: str) -> str:
    source = files(__name__) / event_type / f"{part}.{language}.j2"
    return source.read_text(encoding="utf-8").removesuffix("\n")


def _texts(part: Part) -> dict[str, dict[str, str]]:
    return {
        event_type: {language: _read(event_type, part, language) for language in LANGUAGES}
        for event_type in template_event_types()
    }


# Message bodies and e-mail subject lines per event type and language.
TEMPLATES = _texts("body")
SUBJECTS = _texts("subject")

_compiled = {
    (event_type, language): ENVIRONMENT.from_string(text)
    for event_type, by_language in TEMPLATES.items()
    for language, text in by_language.items()
}
_compiled_subjects = {
    (event_type, language): ENVIRONMENT.from_string(text)
    for event_type, by_language in SUBJECTS.items()
    for language, text in by_language.items()
}


def default_text(event_type: str, channel: str, language: str) -> TemplateText:
    """The shipped template (KeyError for an event type without one)."""
    language = effective_language(language)
    body = TEMPLATES[event_type][language]
    subject = SUBJECTS[event_type][language] if channel == "email" else None
    return TemplateText(subject, body)


def render(event_type: str, language: str, variables: dict[str, Any]) -> str:
    """The shipped body of `event_type` (KeyError for an unknown type)."""
    template = _compiled.get((event_type, language)) or _compiled[(event_type, "id")]
    return template.render(**variables)


def render_default(
    event_type: str, channel: str, language: str, variables: dict[str, Any]
) -> Rendered:
    """The shipped message: the body, and for e-mail the subject line."""
    language = effective_language(language)
    body = render(event_type, language, variables)
    if channel != "email":
        return Rendered(None, body)
    return Rendered(_compiled_subjects[(event_type, language)].render(**variables).strip(), body)
