"""Finds clear personal data (NIK, phone number, e-mail address) in what the
services leave behind: events on shared topics, log lines, exported spans.

The architecture promises that none of these ever carries a clear NIK, phone
number or e-mail address; masked values (3506**********01, +62812*****890,
b***@example.co.id) are what they may carry. The end-to-end scan and the
fault-injection suite feed everything they captured through one
`PersonalDataDetector` and fail on any finding.

Detection:
- NIK: 16 digits (also written 3506 0426 0266 0001 or 35.06.04.260266.0001)
  that python-stdnum accepts as a NIK (a real province/regency code and a
  possible birth date), so a random 16-digit number rarely counts.
- Phone: Indonesian numbers written +62..., 62... or 08..., compact or with
  separators, that `phonenumbers` finds valid for region ID.
- E-mail: any address whose local part is not masked.

Exclusions, each on purpose:
- a value with a `*` next to it is a masked one, not a clear one;
- `allowed_emails`: office mailboxes the caller names (e.g. the supervisor's
  desk notify writes to), which are not a citizen's personal data;
- W3C trace context, UUIDs and the `trace_id` / `span_id` fields of the JSON
  logs: hex identifiers which, when a stretch of them happens to be decimal
  digits, look like a NIK or a phone number but are never personal data.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import phonenumbers
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from pytest_httpserver import HTTPServer
from stdnum.id import nik as stdnum_nik

from mpp_shared.pii import mask_email, mask_nik, mask_phone

Kind = Literal["nik", "phone", "email"]

# A masked value keeps `*` in place of digits or letters: a candidate touching
# a `*` is part of a masked value.
_NIK = re.compile(
    r"(?<![\w*])"
    r"(?:\d{16}|\d{4}([ .-])\d{4}\1\d{4}\1\d{4}|\d{2}\.\d{2}\.\d{2}\.\d{6}\.\d{4})"
    r"(?![\w*])"
)
# Compact phone numbers in any text; `phonenumbers` finds the separated forms.
_PHONE = re.compile(r"(?<![\w*+./])(?:\+62|62|0)8\d{7,11}(?![\w*])")
_PHONE_FORM = re.compile(r"^(?:\+\s*62|62|\(?0\s*8)")
_EMAIL = re.compile(
    r"(?<![\w.%+*-])[A-Za-z0-9][A-Za-z0-9._%+-]*@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![\w-])"
)
# Identifiers blanked out before detection (see the module docstring).
_IDENTIFIERS = re.compile(
    r"\b[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\b"  # W3C traceparent
    r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"  # UUID
)
# Fields of the JSON log lines (mpp_shared.telemetry.JsonFormatter) and of
# Kafka headers that hold hex trace identifiers.
HEX_ID_KEYS = frozenset({"trace_id", "span_id", "parent_span_id", "traceparent", "tracestate"})


@dataclass(frozen=True)
class Finding:
    kind: Kind
    value: str = field(repr=False)  # the clear value, as written; never printed
    where: str  # which event / log line / span, and which field
    context: str  # the text around it, the value itself masked

    def __str__(self) -> str:
        return f"clear {self.kind} {_mask(self.kind, self.value)} in {self.where}: …{self.context}…"


def _mask(kind: Kind, value: str) -> str:
    if kind == "nik":
        return mask_nik(re.sub(r"\D", "", value))
    if kind == "phone":
        return mask_phone(value)
    return mask_email(value)


@dataclass(frozen=True)
class SpanRecord:
    """One exported span with every piece of text it carries."""

    service: str
    name: str
    trace_id: str
    attributes: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status_message: str = ""
    links: list[dict[str, Any]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)


def _any_value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [_any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if which is None:
        return None
    return getattr(value, which)


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in pairs}


def spans_from_otlp(body: bytes) -> list[SpanRecord]:
    """Every span of one OTLP/HTTP protobuf export request, in full: attributes
    of any type, span events (e.g. recorded exceptions), status message, links
    and the resource."""
    export = ExportTraceServiceRequest()
    export.ParseFromString(body)
    found: list[SpanRecord] = []
    for resource_spans in export.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    SpanRecord(
                        service=str(resource.get("service.name", "")),
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        attributes=_attributes(span.attributes),
                        events=[(e.name, _attributes(e.attributes)) for e in span.events],
                        status_message=span.status.message,
                        links=[_attributes(link.attributes) for link in span.links],
                        resource=resource,
                    )
                )
    return found


def exported_spans(collector: HTTPServer) -> list[SpanRecord]:
    """Every span the services exported to an OTLP/HTTP `collector` (a
    pytest-httpserver), read from its request log."""
    return [
        span
        for request, _response in list(collector.log)
        if request.path == "/v1/traces"
        for span in spans_from_otlp(request.get_data())
    ]


class PersonalDataDetector:
    def __init__(self, allowed_emails: Iterable[str] = ()) -> None:
        self.allowed_emails = frozenset(e.lower() for e in allowed_emails)

    # --- plain text -------------------------------------------------------

    def find(self, text: str) -> list[tuple[Kind, str, int, int]]:
        """(kind, value, start, end) of every clear NIK, phone and e-mail in `text`."""
        # Spans and logs repeat the same texts (SQL of pollers) thousands of times.
        return list(_find(text, self.allowed_emails))

    def scan_text(self, text: str, where: str) -> list[Finding]:
        findings = []
        for kind, value, start, end in self.find(text):
            before = text[max(0, start - 40) : start]
            after = text[end : end + 40]
            findings.append(Finding(kind, value, where, f"{before}<{kind}>{after}"))
        return findings

    # --- structured data --------------------------------------------------

    def scan_json(self, doc: Any, where: str) -> list[Finding]:
        """Every string and number inside `doc`, each named by its path;
        hex trace identifiers are left out (see HEX_ID_KEYS)."""
        findings: list[Finding] = []
        for path, value in _leaves(doc, ""):
            findings.extend(self.scan_text(value, f"{where} {path or '.'}"))
        return findings

    def scan_log_line(self, line: str, where: str) -> list[Finding]:
        try:
            doc = json.loads(line)
        except ValueError:
            return self.scan_text(line, where)
        return self.scan_json(doc, where)

    def scan_event(
        self,
        value: bytes | None,
        where: str,
        *,
        key: bytes | None = None,
        headers: Iterable[tuple[str, bytes | None]] = (),
    ) -> list[Finding]:
        """A Kafka record: its key, its headers (but the trace context) and
        its value, read as JSON when it is JSON."""
        findings: list[Finding] = []
        if key:
            findings.extend(self.scan_text(key.decode(errors="replace"), f"{where} key"))
        for name, raw in headers:
            if raw and name.lower() not in HEX_ID_KEYS:
                text = raw.decode(errors="replace")
                findings.extend(self.scan_text(text, f"{where} header {name}"))
        if value:
            text = value.decode(errors="replace")
            try:
                doc = json.loads(text)
            except ValueError:
                findings.extend(self.scan_text(text, f"{where} value"))
            else:
                findings.extend(self.scan_json(doc, f"{where} value"))
        return findings

    def scan_span(self, span: SpanRecord, where: str | None = None) -> list[Finding]:
        where = where or f"span {span.service} {span.name!r} (trace {span.trace_id})"
        findings = self.scan_text(span.name, f"{where} name")
        findings += self.scan_json(span.attributes, f"{where} attribute")
        for name, attributes in span.events:
            findings += self.scan_text(name, f"{where} event")
            findings += self.scan_json(attributes, f"{where} event {name!r}")
        findings += self.scan_text(span.status_message, f"{where} status")
        for attributes in span.links:
            findings += self.scan_json(attributes, f"{where} link")
        findings += self.scan_json(span.resource, f"{where} resource")
        return findings


@functools.lru_cache(maxsize=100_000)
def _find(text: str, allowed_emails: frozenset[str]) -> tuple[tuple[Kind, str, int, int], ...]:
    text = _IDENTIFIERS.sub(lambda m: "-" * len(m.group()), text)
    found: list[tuple[Kind, str, int, int]] = []
    for m in _NIK.finditer(text):
        if stdnum_nik.is_valid(re.sub(r"\D", "", m.group())):
            found.append(("nik", m.group(), m.start(), m.end()))
    phones: dict[tuple[int, int], str] = {}
    for m in _PHONE.finditer(text):
        if _valid_phone(m.group()):
            phones[(m.start(), m.end())] = m.group()
    for match in phonenumbers.PhoneNumberMatcher(text, "ID"):
        raw = match.raw_string
        if (
            _PHONE_FORM.match(raw)
            and phonenumbers.is_valid_number(match.number)
            and not _touches_mask(text, match.start, match.end)
            and not any(s < match.end and match.start < e for s, e in phones)
        ):
            phones[(match.start, match.end)] = raw
    for (start, end), value in phones.items():
        # A NIK is not also a phone number.
        if not any(k == "nik" and s <= start and end <= e for k, _, s, e in found):
            found.append(("phone", value, start, end))
    for m in _EMAIL.finditer(text):
        if m.group().lower() not in allowed_emails:
            found.append(("email", m.group(), m.start(), m.end()))
    return tuple(sorted(found, key=lambda f: f[2]))


def _valid_phone(value: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, "ID"))
    except phonenumbers.NumberParseException:
        return False


def _touches_mask(text: str, start: int, end: int) -> bool:
    return text[max(0, start - 1) : start] == "*" or text[end : end + 1] == "*"


def _leaves(doc: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            if str(key).lower() in HEX_ID_KEYS:
                continue
            yield f"{path} (a key)", str(key)
            yield from _leaves(value, f"{path}.{key}")
    elif isinstance(doc, list | tuple):
        for i, value in enumerate(doc):
            yield from _leaves(value, f"{path}[{i}]")
    elif isinstance(doc, bool) or doc is None:
        return
    elif isinstance(doc, int | float | str):
        yield path, str(doc)


def office_mailboxes() -> set[str]:
    """Notify's own mailboxes (the supervisor's desk, the sender): the
    district office's addresses, not a citizen's."""
    from email.utils import parseaddr

    from mpp_notify.settings import NotifySettings

    settings = NotifySettings()
    return {settings.supervisor_email.lower(), parseaddr(settings.smtp_from)[1].lower()}
