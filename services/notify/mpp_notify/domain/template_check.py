"""The save-time check of a message template: a template officers want to
save is refused (`TemplateRefused`, a 422 naming the field, the line, the
variable or the filter) when it could fail or leak at send time, so that a
missing variable is found when it is saved, never when a citizen's message
is due.

Checked: the event type, channel and language have templates; the text's
shape per channel (length, an e-mail's one-line subject); Jinja2 syntax; no
extends, include or import; only known filters and tests; no personal data;
only variables the event provides; and that it renders, to something, from
the event's example (or the data given) and from the example without its
optional fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes

from mpp_notify.domain.template_rendering import (
    CHANNELS,
    ENVIRONMENT,
    LANGUAGES,
    MPP_FILTERS,
    template_event_types,
)
from mpp_notify.domain.template_variables import allowed_variables, is_personal, variables_for
from mpp_shared.errors import Invalid
from mpp_shared.events import examples
from mpp_shared.events.envelope import EventData, registered_types

# Longest template text per channel: 10 SMS segments, WhatsApp's text limit, a long e-mail.
BODY_LIMITS = {"sms": 1600, "whatsapp": 4096, "email": 20000}
SUBJECT_LIMIT = 200


@dataclass(frozen=True)
class Problem:
    """Why a template cannot be saved, for the field named, in both languages."""

    field: str
    type: str
    message_id: str
    message_en: str
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)


class TemplateRefused(Invalid):
    """A template that cannot be saved: one refusal listing every problem,
    each naming its field (with its details, e.g. the line or the variables)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(
            "invalid",
            "Data tidak valid: " + "; ".join(f"{p.field}: {p.message_id}" for p in problems),
            "The request is not valid: "
            + "; ".join(f"{p.field}: {p.message_en}" for p in problems),
            errors=[
                {
                    "field": p.field,
                    "type": p.type,
                    "message_id": p.message_id,
                    "message_en": p.message_en,
                    **p.detail,
                }
                for p in problems
            ],
        )
        self.problems = problems


def _one_of(field: str, allowed: tuple[str, ...]) -> Problem:
    listing = ", ".join(allowed)
    return Problem(
        field, "literal_error", f"harus salah satu dari: {listing}", f"must be one of: {listing}"
    )


def check_target(event_type: str, channel: str, language: str) -> None:
    """TemplateRefused unless (event type, channel, language) has templates."""
    problems = []
    known = template_event_types()
    if event_type not in known:
        listing = ", ".join(known)
        problems.append(
            Problem(
                "event_type",
                "unknown_event_type",
                f"{event_type} tidak punya templat pesan; yang ada: {listing}",
                f"{event_type} has no message templates; these do: {listing}",
            )
        )
    if channel not in CHANNELS:
        problems.append(_one_of("channel", CHANNELS))
    if language not in LANGUAGES:
        problems.append(_one_of("language", LANGUAGES))
    if problems:
        raise TemplateRefused(problems)


def check(
    event_type: str,
    channel: str,
    language: str,
    subject: str | None,
    body: str,
    data: EventData | None = None,
) -> list[str]:
    """Refuse (TemplateRefused) a template that could fail or leak at send time;
    return the variables it uses. It is rendered against `data`, else the
    event's example, and against the example without its optional fields."""
    check_target(event_type, channel, language)
    problems = [*_body_shape(channel, body), *_subject_shape(channel, subject)]
    if problems:
        raise TemplateRefused(problems)
    parts = {"body": body} if channel != "email" else {"subject": subject or "", "body": body}
    used: set[str] = set()
    for part, source in parts.items():
        problem, names = _check_source(event_type, part, source)
        if problem is not None:
            raise TemplateRefused([problem])
        used |= names
    samples = [data] if data is not None else [examples.example(event_type)]
    samples.append(sparse_example(event_type))
    for sample, name in zip(samples, ("example", "sparse"), strict=True):
        variables = variables_for(sample, language)
        for part, source in parts.items():
            problem = _try_render(part, source, variables, sparse=name == "sparse")
            if problem is not None:
                raise TemplateRefused([problem])
    return sorted(used)


# --- the text's shape ---------------------------------------------------------------


def _body_shape(channel: str, body: str) -> list[Problem]:
    if not body.strip():
        return [Problem("body", "empty", "tidak boleh kosong", "must not be empty")]
    limit = BODY_LIMITS[channel]
    if len(body) > limit:
        return [
            Problem(
                "body",
                "too_long",
                f"terlalu panjang untuk {channel}: {len(body)} karakter, maksimal {limit}",
                f"is too long for {channel}: {len(body)} characters, at most {limit}",
            )
        ]
    return []


def _subject_shape(channel: str, subject: str | None) -> list[Problem]:
    """Only e-mail has a subject line, and there it is one line, required."""
    if channel != "email":
        if subject and subject.strip():
            return [
                Problem(
                    "subject",
                    "subject_not_allowed",
                    f"hanya e-mail yang punya subjek; {channel} tidak",
                    f"only e-mail has a subject line; {channel} does not",
                )
            ]
        return []
    if not subject or not subject.strip():
        return [Problem("subject", "missing", "wajib diisi untuk e-mail", "is required for e-mail")]
    if len(subject) > SUBJECT_LIMIT:
        return [
            Problem(
                "subject",
                "too_long",
                f"terlalu panjang: {len(subject)} karakter, maksimal {SUBJECT_LIMIT}",
                f"is too long: {len(subject)} characters, at most {SUBJECT_LIMIT}",
            )
        ]
    if "\n" in subject or "\r" in subject:
        return [Problem("subject", "multiline", "harus satu baris", "must be a single line")]
    return []


# --- the source: syntax, constructs, filters, variables -------------------------------


def _check_source(event_type: str, part: str, source: str) -> tuple[Problem | None, set[str]]:
    """The first problem of one part's source, and the variables it uses."""
    try:
        ast = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        return (
            Problem(
                part,
                "template_syntax",
                f"penulisan templat salah di baris {exc.lineno}: {exc.message}",
                f"template syntax error on line {exc.lineno}: {exc.message}",
                {"line": exc.lineno},
            ),
            set(),
        )
    problem = _outside_constructs(part, ast) or _unknown_filters(part, ast)
    if problem is not None:
        return problem, set()
    used = meta.find_undeclared_variables(ast) - set(ENVIRONMENT.globals)
    return _personal_data(part, used) or _unknown_variables(event_type, part, used), used


def _outside_constructs(part: str, ast: nodes.Template) -> Problem | None:
    """A message is one self-contained text: nothing pulled in from elsewhere."""
    if not any(ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))):
        return None
    return Problem(
        part,
        "template_not_allowed",
        "extends, include dan import tidak dapat dipakai; tulis seluruh pesan di sini",
        "extends, include and import cannot be used; write the whole message here",
    )


def _unknown_filters(part: str, ast: nodes.Template) -> Problem | None:
    unknown = sorted(
        {f.name for f in ast.find_all(nodes.Filter) if f.name not in ENVIRONMENT.filters}
        | {t.name for t in ast.find_all(nodes.Test) if t.name not in ENVIRONMENT.tests}
    )
    if not unknown:
        return None
    names, ours = ", ".join(unknown), ", ".join(MPP_FILTERS)
    return Problem(
        part,
        "unknown_filter",
        f"filter tidak dikenal: {names}. Filter MPP: {ours} (serta filter bawaan Jinja2)",
        f"unknown filter: {names}. MPP filters: {ours} (and Jinja2's built-in ones)",
        {"unknown": unknown, "filters": list(MPP_FILTERS)},
    )


def _personal_data(part: str, used: set[str]) -> Problem | None:
    personal = sorted(name for name in used if is_personal(name))
    if not personal:
        return None
    names = ", ".join(personal)
    return Problem(
        part,
        "personal_data",
        f"tidak boleh memuat data pribadi ({names}): pesan lewat SMS, WhatsApp dan "
        "e-mail dapat dibaca orang lain, jadi NIK, nama dan kontak tidak pernah "
        "dicantumkan, meski disamarkan",
        f"must not contain personal data ({names}): SMS, WhatsApp and e-mail can be "
        "read by others, so a message never carries a NIK, a name or a contact, "
        "not even masked",
        {"personal": personal},
    )


def _unknown_variables(event_type: str, part: str, used: set[str]) -> Problem | None:
    allowed = allowed_variables(event_type)
    unknown = sorted(used - set(allowed))
    if not unknown:
        return None
    names, listing = ", ".join(unknown), ", ".join(allowed)
    return Problem(
        part,
        "unknown_variable",
        f"variabel tidak dikenal untuk {event_type}: {names}. Yang tersedia: {listing}",
        f"unknown variable for {event_type}: {names}. Available: {listing}",
        {"unknown": unknown, "allowed": allowed},
    )


# --- rendering the samples ----------------------------------------------------------


def _try_render(
    part: str, source: str, variables: dict[str, Any], *, sparse: bool
) -> Problem | None:
    sample_id = "contoh peristiwa tanpa kolom opsional" if sparse else "contoh peristiwa"
    sample_en = "the example event without its optional fields" if sparse else "the example event"
    try:
        text = ENVIRONMENT.from_string(source).render(**variables)
    except Exception as exc:  # the officer's template, run on the event's data
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return Problem(
            part,
            "render_failed",
            f"gagal ditampilkan dengan {sample_id}: {reason}",
            f"cannot be rendered with {sample_en}: {reason}",
        )
    if not text.strip():
        return Problem(
            part,
            "renders_empty",
            f"menghasilkan pesan kosong dengan {sample_id}",
            f"renders an empty message with {sample_en}",
        )
    return None


def sparse_example(event_type: str) -> EventData:
    """The example with only its required fields: what an older producer sends."""
    model = registered_types()[event_type]
    full = examples.EXAMPLES[event_type]
    required = {k: v for k, v in full.items() if model.model_fields[k].is_required()}
    return model(**required)
