"""The personal-data detector behind the end-to-end scan catches clear NIKs,
phone numbers and e-mail addresses wherever they hide (event JSON, log lines,
span attributes, span events, status messages) and lets masked values pass."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, Status, StatusCode

from mpp_shared.pii import mask_email, mask_nik, mask_phone
from mpp_shared.telemetry import JsonFormatter
from tests.privacy import Finding, PersonalDataDetector, SpanRecord, spans_from_otlp

NIK = "3506042602660001"
EMAIL = "budi.santoso@example.co.id"
OFFICE = "pengaduan.supervisor@mpp.kedirikab.go.id"
MASKED = ["3506**********01", "+62812*****890", "+628*******890", "b***@example.co.id"]
PHONE_FORMS = [
    "+6281234567890",
    "6281234567890",
    "081234567890",
    "0812-3456-7890",
    "0812 3456 7890",
    "+62 812 3456 7890",
    "08123456789",
]

detector = PersonalDataDetector(allowed_emails=[OFFICE])


def kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


def event(data: Mapping[str, object]) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/mpp/intake",
            "type": "mpp.application.submitted.v1",
            "subject": str(uuid.uuid4()),
            "time": "2025-03-03T08:15:00+07:00",
            "datacontenttype": "application/json",
            "data": data,
        }
    ).encode()


def test_a_clear_nik_in_an_event_is_found_with_its_field() -> None:
    [finding] = detector.scan_event(event({"nik": NIK}), "mpp.applications@0:7")
    assert finding.kind == "nik" and finding.value == NIK
    assert finding.where == "mpp.applications@0:7 value .data.nik"
    assert NIK not in str(finding) and mask_nik(NIK) in str(finding)


@pytest.mark.parametrize("phone", PHONE_FORMS)
def test_every_written_form_of_a_phone_number_is_found_in_an_event(phone: str) -> None:
    findings = detector.scan_event(event({"note": f"hubungi {phone} segera"}), "e")
    assert kinds(findings) == ["phone"]
    assert findings[0].value == phone


def test_a_clear_email_in_an_event_is_found() -> None:
    assert kinds(detector.scan_event(event({"contact": {"email": EMAIL}}), "e")) == ["email"]


def test_numbers_nested_as_json_numbers_or_keys_are_read_too() -> None:
    found = detector.scan_json({"applicants": [{"nik": int(NIK)}], EMAIL: True}, "doc")
    assert sorted(kinds(found)) == ["email", "nik"]


def test_the_record_key_and_headers_are_read_but_not_the_trace_context() -> None:
    digits_only_ids = "00-12345678901234567890123456789012-3506042602660001-01"
    findings = detector.scan_event(
        event({"application_id": str(uuid.uuid4())}),
        "e",
        key=NIK.encode(),
        headers=[("traceparent", digits_only_ids.encode()), ("x-reply-to", EMAIL.encode())],
    )
    assert [(f.kind, f.where) for f in findings] == [
        ("nik", "e key"),
        ("email", "e header x-reply-to"),
    ]


def test_masked_values_as_the_services_write_them_pass() -> None:
    masked = {
        "nik_masked": mask_nik(NIK),
        "recipient_masked": mask_phone("+6281234567890"),
        "email_masked": mask_email(EMAIL),
        "literal": MASKED,
        "sentence": "Penerima " + " dan ".join(MASKED),
    }
    assert mask_nik(NIK) == MASKED[0] and mask_email(EMAIL) == MASKED[3]
    assert detector.scan_event(event(masked), "e") == []
    for value in MASKED:
        assert detector.find(value) == [], value


def test_office_mailboxes_named_by_the_caller_pass_and_others_do_not() -> None:
    assert detector.find(f"escalation sent to {OFFICE}") == []
    assert kinds(PersonalDataDetector().scan_text(f"sent to {OFFICE}", "x")) == ["email"]


@pytest.mark.parametrize(
    "harmless",
    [
        str(uuid.UUID("550e8400-e29b-41d4-a716-081234567890")),  # digits in a uuid
        "took 0.8123456789 s",  # a duration is not an 08... number
        "epoch_us=1718000000123456",  # 16 digits but no NIK (no such region, no such date)
        "tracking code MPP-250303-7KQ4X2, queue 0812",  # short digit runs
        '{"trace_id": "12345678901234567890123456789012", "span_id": "3506042602660001"}',
        "traceparent=00-0af7651916cd43dd8448eb211c80319c-3506042602660001-01",
    ],
)
def test_identifiers_that_merely_look_numeric_pass(harmless: str) -> None:
    assert detector.scan_log_line(harmless, "log") == []


def _log_line(message: str, *args: object, **fields: object) -> str:
    record = logging.LogRecord(
        "mpp_intake.submission", logging.INFO, __file__, 1, message, args, None
    )
    record.fields = fields
    return JsonFormatter("intake").format(record)


def test_log_lines_in_the_services_json_format_are_read() -> None:
    leaking = _log_line("application submitted for %s", NIK, phone="0812-3456-7890")
    findings = detector.scan_log_line(leaking, "intake.log:12")
    assert [(f.kind, f.where) for f in findings] == [
        ("nik", "intake.log:12 .message"),
        ("phone", "intake.log:12 .phone"),
    ]
    clean = _log_line("application submitted", nik_masked=mask_nik(NIK), application_id="a1")
    assert detector.scan_log_line(clean, "intake.log:13") == []


def test_plain_text_log_lines_such_as_tracebacks_are_read() -> None:
    traceback_line = (
        f"asyncpg.exceptions.UniqueViolationError: Key (email)=({EMAIL}) already exists"
    )
    assert kinds(detector.scan_log_line(traceback_line, "notify.log:99")) == ["email"]


def _exported(configure: Callable[[Span], None]) -> list[SpanRecord]:
    """Spans made by the real OpenTelemetry SDK and encoded as the OTLP
    exporter posts them, read back the way the end-to-end scan reads them."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "intake"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("test").start_as_current_span("POST /v1/applications") as span:
        configure(span)
    body = encode_spans(memory.get_finished_spans()).SerializeToString()
    return spans_from_otlp(body)


def test_span_attributes_events_and_status_are_read() -> None:
    def leak(span: Span) -> None:
        span.set_attribute("applicant.nik", NIK)
        span.set_attribute("recipients", ["6281234567890"])
        span.add_event("lookup", {"query": f"email = {EMAIL}"})
        span.set_status(Status(StatusCode.ERROR, f"no contact for {NIK}"))

    [span] = _exported(leak)
    assert span.service == "intake" and span.name == "POST /v1/applications"
    findings = detector.scan_span(span)
    assert [(f.kind, f.where.split(") ")[1]) for f in findings] == [
        ("nik", "attribute .applicant.nik"),
        ("phone", "attribute .recipients[0]"),
        ("email", "event 'lookup' .query"),
        ("nik", "status"),
    ]


def test_recorded_exceptions_on_a_span_are_read() -> None:
    def fail(span: Span) -> None:
        span.record_exception(ValueError(f"phone {PHONE_FORMS[0]} refused"))

    [span] = _exported(fail)
    assert "phone" in kinds(detector.scan_span(span))


def test_a_span_with_masked_values_passes() -> None:
    def masked(span: Span) -> None:
        span.set_attribute("applicant.nik_masked", MASKED[0])
        span.set_attribute("notify.recipient", MASKED[1])
        span.add_event("sent", {"to": MASKED[3], "escalated_to": OFFICE})

    [span] = _exported(masked)
    assert span.attributes["notify.recipient"] == MASKED[1]
    assert detector.scan_span(span) == []
