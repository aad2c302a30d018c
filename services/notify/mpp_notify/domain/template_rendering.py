"""Rendering message templates: which event types have them, the sandbox
they run in, the MPP filters, and the templates officers saved, compiled once.

Templates are Jinja2 in a sandbox (an officer writes them, the service runs
them) with strict undefined: a variable the event lacks is an error, never a
gap in a message a citizen reads. All three channels are plain text, so
nothing is escaped; an absent optional value reads "-", never "None"; a
template cannot make the service build a huge string with `*` or `**`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, get_args

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from mpp_shared.errors import Language
from mpp_shared.events.envelope import registered_types
from mpp_shared.events.schemas import ComplaintEscalatedV1, PopulationFollowUpOverdueV1
from mpp_shared.wording import in_wib, long_date, time_words

Channel = Literal["sms", "whatsapp", "email"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
LANGUAGES: tuple[Language, ...] = get_args(Language)
# For the supervisor's desk, not a citizen.
ESCALATION = ComplaintEscalatedV1.event_type
# For the kecamatan's supervisor: a village's report not followed up in time.
POPULATION_OVERDUE = PopulationFollowUpOverdueV1.event_type
FOR_OFFICERS = frozenset({ESCALATION, POPULATION_OVERDUE})


def template_event_types() -> list[str]:
    """Event types with templates: every citizen-facing type, plus the officers' e-mails."""
    found = {t for t, model in registered_types().items() if model.citizen_facing}
    return sorted(found | FOR_OFFICERS)


def effective_language(language: str) -> Language:
    """A language without templates reads Indonesian."""
    return "en" if language == "en" else "id"


class TemplateKey(NamedTuple):
    """One template: an event type on one channel in one language."""

    event_type: str
    channel: str
    language: str


@dataclass(frozen=True)
class TemplateText:
    """A template's source: the body, and for e-mail the subject line."""

    subject: str | None
    body: str


@dataclass(frozen=True)
class Rendered:
    """One message's text: the body, and for e-mail the subject line."""

    subject: str | None
    body: str


@dataclass(frozen=True)
class StoredTemplate:
    """A template officers changed, as saved (version 1 on its first save)."""

    event_type: str
    channel: str
    language: str
    subject: str | None
    body: str
    version: int
    updated_by: str
    updated_at: datetime

    @property
    def key(self) -> TemplateKey:
        return TemplateKey(self.event_type, self.channel, self.language)


# --- the MPP filters ------------------------------------------------------------


def _when(value: str | None, language: Language) -> str:
    """An event's ISO timestamp as a citizen reads it, in WIB: "4 Desember
    2026, pukul 11.02 WIB" (a message has no room for the weekday)."""
    if not value:
        return "-"
    at = datetime.fromisoformat(value)
    joint = ", " if language == "en" else ", pukul "
    return long_date(in_wib(at).date(), language) + joint + time_words(at, language)


def _names(items: list[dict[str, Any]], language: Language) -> str:
    """Requirements (missing papers, corrections) by name, with their notes."""
    key = "name_en" if language == "en" else "name_id"
    parts = []
    for item in items:
        note = f" ({item['note']})" if item.get("note") else ""
        parts.append(f"{item[key]}{note}")
    return "; ".join(parts)


def _blank_none(value: Any) -> Any:
    """An absent optional value reads as "-", never as "None"."""
    return "-" if value is None else value


# --- the sandbox ------------------------------------------------------------------

MAX_REPEATED = 20_000  # characters one `*` may produce inside a template
MAX_EXPONENT = 64


class MessageEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus a cap on `*` and `**` so that a template cannot make
    the service build a gigabyte string."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError("exponent too large")
        if operator == "*":
            sized, times = (left, right) if isinstance(left, str | list | tuple) else (right, left)
            if isinstance(sized, str | list | tuple) and isinstance(times, int):
                if len(sized) * times > MAX_REPEATED:
                    raise SecurityError("repetition too long")
        return super().call_binop(context, operator, left, right)


ENVIRONMENT = MessageEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False, finalize=_blank_none
)
ENVIRONMENT.filters["tanggal"] = lambda v: _when(v, "id")
ENVIRONMENT.filters["date_en"] = lambda v: _when(v, "en")
ENVIRONMENT.filters["daftar"] = lambda v: _names(v, "id")
ENVIRONMENT.filters["listing_en"] = lambda v: _names(v, "en")
MPP_FILTERS = ("tanggal", "date_en", "daftar", "listing_en")


# --- templates officers saved -----------------------------------------------------

_CACHE_SIZE = 512
_cache: OrderedDict[tuple[str, str, str, int, str], tuple[str, Template]] = OrderedDict()


def _compiled(key: tuple[str, str, str, int, str], source: str) -> Template:
    """Compiled once per (event type, channel, language, version, part). The
    source is compared too: a template deleted and saved again restarts at
    version 1 with another text."""
    hit = _cache.get(key)
    if hit is not None and hit[0] == source:
        _cache.move_to_end(key)
        return hit[1]
    template = ENVIRONMENT.from_string(source)
    _cache[key] = (source, template)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return template


def render_stored(template: StoredTemplate, variables: dict[str, Any]) -> Rendered:
    """The message a saved template makes of `variables` (Jinja2's errors
    when they lack what it uses)."""
    key = (*template.key, template.version)
    body = _compiled((*key, "body"), template.body).render(**variables)
    if template.channel != "email":
        return Rendered(None, body)
    subject = _compiled((*key, "subject"), template.subject or "").render(**variables)
    return Rendered(subject.strip(), body)
