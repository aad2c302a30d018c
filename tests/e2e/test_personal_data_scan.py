"""At the end of the end-to-end session: nothing the system wrote where others
read it carries a clear NIK, phone number or e-mail address.

Scanned (by tests.privacy.PersonalDataDetector):
- every record on the shared topics: what the outside reader (`opd_reader`,
  its own consumer group on every stream) collected during the session, plus
  a final read of every stream and its `.dlq` twin from the beginning;
- every line of every service's log (`<stack.workdir>/logs/*.log`);
- every span the services exported to the OTLP receiver, in full (attributes
  of any type, span events such as recorded exceptions, status messages,
  links, resource), parsed again from the raw export requests the receiver
  logged;
- what people hold and look at, for the application and the complaint this
  test sends: the receipt (thermal and A4 pages, and the PDF's text), the
  public tracking page, the complaint's status page and the pickup board,
  with their JSON twins; there the name sent is looked for too.

The citizen channels are in what it sends too: a resident signs in with a
one-time code and applies online with two uploaded papers (a PDF whose text
holds another NIK, and a photo), and a WhatsApp user files a complaint
through the assistant. Their NIKs, numbers, the paper's NIK and the sign-in
code are looked for everywhere; the resident's own online pages are scanned.
A resident asks for information giving their name, NIK, number and e-mail,
and the answer is published: the public questions and answers (page and
JSON) are scanned.

Marked `scan_last` so it runs after every other test of the session (see
tests/conftest.py); it also sends a request of its own carrying a NIK, a
phone number and an e-mail address, so it never scans an empty system.

Left out on purpose:
- e-mail addresses of notify's office mailboxes (the supervisor's desk
  escalations are sent to, and the sender address of its mails), read from
  notify's settings: they belong to the district office, not to a citizen;
- the request URL attributes (http.target, http.url, url.*) of the server
  spans of requests the API fuzzer made (from 127.0.0.2, or with a
  schemathesis User-Agent): they echo the fuzzer's generated path and query
  text, not anyone's data. What the services themselves log, publish or put
  in other attributes about those requests is still scanned, and so are the
  URLs of every other caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pypdf import PdfReader

from mpp_devstack.stack import SERVICES, Stack
from mpp_shared.events.topics import ALL_TOPICS
from tests.conftest import Servers
from tests.e2e.test_online_application import signed_in, upload
from tests.e2e.test_whatsapp_assistant import say
from tests.integration.test_online_application import jpeg_photo, pdf_paper
from tests.privacy import (
    Finding,
    PersonalDataDetector,
    SpanRecord,
    exported_spans,
    office_mailboxes,
    spans_from_otlp,
)
from tests.support.auth import auth
from tests.support.citizen import mentions_code
from tests.support.clock import WIB
from tests.support.identities import email, nik, phone
from tests.support.opd import OutsideReader, stop_reading
from tests.support.otlp import OtlpReceiver
from tests.support.polling import eventually
from tests.support.providers import Providers

pytestmark = pytest.mark.scan_last

SHOWN = 30  # findings listed in a failure message


@dataclass
class Sent:
    """What `_send_personal_data` created, to read its pages."""

    application_id: str
    tracking_code: str
    complaint_code: str
    online_application_id: str = ""
    citizen_token: str = ""
    published_question: str = ""  # words that find the published answer


@dataclass
class Scanned:
    pages: int = 0
    events: int = 0
    log_lines: int = 0
    spans: int = 0
    fuzzed_spans: int = 0  # spans whose URL attributes were left out (see above)
    findings: list[Finding] = field(default_factory=list, repr=False)
    # Everything read, for the check of the values this test sent.
    texts: list[str] = field(default_factory=list, repr=False)


async def _send_personal_data(
    stack: Stack, http: httpx.AsyncClient, providers: Providers, opd_reader: OutsideReader
) -> tuple[dict[str, str], Sent]:
    """One application and one complaint carrying clear personal data, followed
    until notify has contacted the citizen (so the data crossed every service)."""
    mobile = phone("0813")
    digits = mobile.typed
    known = {
        "nik": nik(),
        "phone": f"{digits[:4]}-{digits[4:8]}-{digits[8:]}",  # as the front desk typed it
        "phone_national": digits,
        "phone_international": mobile.international,  # also inside +62...
        "email": email("siti.aminah"),
        "complaint_email": email("pelapor"),
    }
    intake = stack.services["intake"].url
    submitted = await http.post(
        f"{intake}/v1/applications",
        json={
            "service_code": "ktp_el",
            "nik": known["nik"],
            "full_name": "Siti Aminah",
            "phone": known["phone"],
            "email": known["email"],
            "preferred_channel": "whatsapp",
            "channel": "mpp_desk",
            "pickup_point": "MPP",
            "documents": ["kartu_keluarga", "bukti_usia_17"],
        },
        headers=auth("frontdesk"),
    )
    assert submitted.status_code == 201, submitted.text
    application_id = submitted.json()["id"]
    verified = await http.post(
        f"{intake}/v1/applications/{application_id}/verification",
        json={"decision": "verified"},
        headers=auth("verifier"),
    )
    assert verified.status_code == 200, verified.text
    complaint = await http.post(
        f"{stack.services['complaints'].url}/v1/complaints",
        json={
            "description": "Petugas meminta biaya tambahan",
            "reporter_name": "Siti Aminah",
            "email": known["complaint_email"],
        },
    )
    assert complaint.status_code == 201, complaint.text

    await eventually(lambda: providers.to("+" + known["phone_international"]), timeout=60)
    await eventually(lambda: providers.to(known["complaint_email"]), timeout=60)
    await eventually(
        lambda: opd_reader.events(
            lambda d: (
                d.get("type") == "mpp.document.queued.v1"
                and (d.get("data") or {}).get("application_id") == application_id
            )
        ),
        timeout=60,
    )
    sent = Sent(
        application_id=application_id,
        tracking_code=submitted.json()["tracking_code"],
        complaint_code=complaint.json()["complaint_code"],
    )
    await _apply_online(stack, http, providers, known, sent)
    await _complain_on_whatsapp(stack, http, providers, known, sent)
    await _ask_and_publish(stack, http, known, sent)
    await _report_a_death(stack, http, known, opd_reader)
    return known, sent


async def _apply_online(
    stack: Stack, http: httpx.AsyncClient, providers: Providers, known: dict[str, str], sent: Sent
) -> None:
    """A resident signs in with a code and applies online with two papers."""
    intake = stack.services["intake"].url
    mobile = phone("0857")
    known |= {"online_nik": nik(), "online_phone": mobile.typed, "paper_nik": nik()}
    token, code = await signed_in(intake, providers, known["online_nik"], mobile.typed)
    known["signin_code"] = code
    citizen = {"Authorization": f"Bearer {token}"}
    draft = await http.post(
        f"{intake}/v1/citizen/drafts", json={"service_code": "pindah_datang"}, headers=citizen
    )
    assert draft.status_code == 201, draft.text
    files = f"{intake}/v1/citizen/drafts/{draft.json()['id']}/files"
    for document, name, data, kind in (
        ("skpwni", "skpwni.pdf", pdf_paper(f"NIK {known['paper_nik']}"), "application/pdf"),
        ("ktp_el_pemohon", "ktp.jpg", jpeg_photo(), "image/jpeg"),
    ):
        added = await http.post(files, headers=citizen, **upload(document, name, data, kind))
        assert added.status_code == 201, added.text
    submitted = await http.post(
        f"{intake}/v1/citizen/drafts/{draft.json()['id']}/submission",
        json={"full_name": "Rini Kusuma"},
        headers=citizen,
    )
    assert submitted.status_code == 201, submitted.text
    sent.online_application_id = submitted.json()["id"]
    sent.citizen_token = token
    await eventually(lambda: len(providers.to(mobile.e164)) >= 2, timeout=60)  # code + receipt


async def _complain_on_whatsapp(
    stack: Stack, http: httpx.AsyncClient, providers: Providers, known: dict[str, str], sent: Sent
) -> None:
    """A WhatsApp user greets the assistant and files a complaint about `sent`."""
    mobile = phone("0878")
    known["whatsapp_phone"] = mobile.typed
    await say(stack, http, mobile.e164, "halo")
    await say(stack, http, mobile.e164, f"pengaduan loket tutup lebih awal {sent.tracking_code}")
    await eventually(lambda: len(providers.to(mobile.e164)) >= 2, timeout=60)


async def _ask_and_publish(
    stack: Stack, http: httpx.AsyncClient, known: dict[str, str], sent: Sent
) -> None:
    """A resident asks for information with their name, NIK, number and
    e-mail in the question; the answer is published on the public list of
    questions and answers (the officer's texts, with the asker's consent)."""
    complaints = stack.services["complaints"].url
    mobile = phone("0819")
    known |= {"asker_nik": nik(), "asker_phone": mobile.typed, "asker_email": email("penanya")}
    asked = await http.post(
        f"{complaints}/v1/complaints",
        json={
            "kind": "permintaan_informasi",
            "description": (
                f"Saya Wulan Pratiwi, NIK {known['asker_nik']}, HP {known['asker_phone']}: "
                "berapa jadwal perekaman KTP-el keliling di kecamatan?"
            ),
            "reporter_name": "Wulan Pratiwi",
            "phone": known["asker_phone"],
            "email": known["asker_email"],
            "publication_consent": True,
        },
    )
    assert asked.status_code == 201, asked.text
    question_id = asked.json()["id"]
    officer = auth("complaint_officer")
    for action, body in (
        ("verification", {"decision": "verified"}),
        ("assignment", {}),
        ("progress", {}),
        ("response", {"text": "Perekaman keliling setiap Selasa pertama di balai desa."}),
        (
            "publication",
            {
                "question": "Kapan jadwal perekaman KTP-el keliling di kecamatan?",
                "answer": "Perekaman keliling setiap Selasa pertama di balai desa.",
            },
        ),
    ):
        moved = await http.post(
            f"{complaints}/v1/complaints/{question_id}/{action}", json=body, headers=officer
        )
        assert moved.status_code == 200, (action, moved.text)
    sent.published_question = "perekaman keliling"


async def _report_a_death(
    stack: Stack, http: httpx.AsyncClient, known: dict[str, str], opd_reader: OutsideReader
) -> None:
    """A desa officer reports a death: the deceased's NIK, the family's KK
    number, the relative who will apply and their number; the report's event
    reaches the outside reader."""
    mobile = phone("0821")
    known |= {
        "deceased_nik": nik("350617"),
        "relative_nik": nik("350617"),
        "relative_phone": mobile.typed,
        "kk_number": "3506170101990007",
    }
    reported = await http.post(
        f"{stack.services['intake'].url}/v1/population/reports",
        json={
            "kind": "death",
            "occurred_on": (datetime.now(WIB).date() - timedelta(days=2)).isoformat(),
            "kk_number": known["kk_number"],
            "subject_nik": known["deceased_nik"],
            "subject_name": "Sutrisno Hadi",
            "applicant_nik": known["relative_nik"],
            "applicant_name": "Wahyu Hadi",
            "applicant_phone": known["relative_phone"],
            "papers_held": ["surat_keterangan_kematian"],
        },
        headers=auth("frontdesk", subject="desa-officer-scan", counter="DESA-3506172201"),
    )
    assert reported.status_code == 201, reported.text
    assert known["deceased_nik"] not in reported.text and "Sutrisno" not in reported.text
    await eventually(
        lambda: opd_reader.events(
            lambda d: (
                d.get("type") == "mpp.population.reported.v1"
                and d.get("subject") == reported.json()["id"]
            )
        ),
        timeout=60,
    )


async def _scan_pages(
    detector: PersonalDataDetector, stack: Stack, http: httpx.AsyncClient, sent: Sent
) -> list[str]:
    """The receipt, the public pages and their JSON twins of what `sent`
    created: their texts, scanned (into `Scanned` by the caller)."""
    intake = stack.services["intake"].url
    documents = stack.services["documents"].url
    complaints = stack.services["complaints"].url
    receipt = f"{intake}/v1/applications/{sent.application_id}/receipt"
    officer = auth("frontdesk")
    reads: list[tuple[str, dict[str, str]]] = [
        (f"{receipt}?format=thermal", officer),
        (f"{receipt}?format=a4", officer),
        (f"{receipt}?format=thermal&lang=en", officer),
        (f"{intake}/track/{sent.tracking_code}", {}),
        (f"{intake}/v1/track/{sent.tracking_code}", {}),
        (f"{complaints}/complaints/status/{sent.complaint_code}", {}),
        (f"{complaints}/v1/complaint-status/{sent.complaint_code}", {}),
        (f"{documents}/board/MPP", {}),
        (f"{documents}/v1/pickup-points/MPP/ready", {}),
        (f"{complaints}/tanya-jawab?q={sent.published_question}", {}),
        (f"{complaints}/v1/public/questions?q={sent.published_question}", {}),
    ]
    texts = []
    for url, headers in reads:
        answer = await http.get(url, headers=headers)
        assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
        texts.append(answer.text)
    assert "Selasa pertama" in texts[len(reads) - 1], "the published answer was not found"
    citizen = {"Authorization": f"Bearer {sent.citizen_token}"}
    for url in (
        f"{intake}/online",
        f"{intake}/online/permohonan/{sent.online_application_id}",
        f"{intake}/v1/citizen/applications/{sent.online_application_id}",
    ):
        answer = await http.get(url, headers=citizen)
        assert answer.status_code == 200, f"{url}: {answer.status_code} {answer.text[:300]}"
        texts.append(answer.text)
    pdf = await http.get(f"{receipt}?format=pdf", headers=officer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:300]
    texts.append(
        "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    )
    assert sent.tracking_code in texts[-1], "the receipt's PDF text was not read"
    return texts


async def _settled(count: Any, quiet: float = 1.5, timeout: float = 60.0) -> None:
    """Wait until `count()` has not changed for `quiet` seconds; fail when it
    still changes after `timeout` seconds (what comes later would go unscanned)."""
    deadline = time.monotonic() + timeout
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise AssertionError(f"still growing after {timeout} s (last count {last})")


async def _exported_until_now(otlp: OtlpReceiver, stack: Stack, http: httpx.AsyncClient) -> None:
    """Wait until each service has exported every span it ended until now: a
    request sent to each now (a traced 404 at a marker path) has come back in
    one of its exports, and a service exports its spans in the order they
    ended. (A quiet service makes no span at all: waiting for exports alone
    could wait for ever, or end before the last spans went out.)"""
    marker = f"/v1/_exported/{uuid.uuid4().hex}"
    for service in SERVICES:
        await http.get(stack.services[service].url + marker)

    def exported() -> bool:
        seen = {
            span.service
            for request, _ in list(otlp.server.log)
            if request.path == "/v1/traces"
            for span in spans_from_otlp(request.get_data())
            if span.attributes.get("url.path") == marker
        }
        return all(f"mpp-{service}" in seen for service in SERVICES)

    await eventually(exported, timeout=60, interval=0.25, what="every service's marker span")


async def _read_every_stream(bootstrap: str) -> list[Any]:
    """Every record now on the streams and their .dlq twins, from the start."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # metadata of every topic
        partitions = [
            TopicPartition(topic, p)
            for topic in ALL_TOPICS
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + 60
        while True:
            behind = [tp for tp, end in ends.items() if await consumer.position(tp) < end]
            if not behind:
                break
            assert time.monotonic() < deadline, f"streams not read to their end: {behind}"
            batch = await consumer.getmany(timeout_ms=500)
            for found in batch.values():
                records.extend(found)
        return records
    finally:
        await stop_reading(consumer)


def _scan_events(detector: PersonalDataDetector, records: list[Any], scanned: Scanned) -> None:
    seen: set[tuple[str, int, int, bytes]] = set()
    for record in records:
        identity = (record.topic, record.partition, record.offset, record.value or b"")
        if identity in seen:
            continue
        seen.add(identity)
        scanned.events += 1
        where = f"event {record.topic}[{record.partition}]@{record.offset}"
        headers = [(name, value) for name, value in record.headers or ()]
        scanned.findings += detector.scan_event(
            record.value, where, key=record.key, headers=headers
        )
        scanned.texts += [
            (record.value or b"").decode(errors="replace"),
            (record.key or b"").decode(errors="replace"),
        ]


def _scan_logs(detector: PersonalDataDetector, logs: Path, scanned: Scanned) -> None:
    files = sorted(logs.glob("*.log"))
    assert {f.stem for f in files} >= set(SERVICES), f"service logs missing in {logs}"
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            scanned.log_lines += 1
            scanned.findings += detector.scan_log_line(line, f"log {path.name}:{number}")
            scanned.texts.append(line)


URL_ATTRIBUTES = frozenset({"http.target", "http.url", "url.path", "url.query", "url.full"})
# tests/e2e/test_api_fuzzing.py sends its generated requests from this address
# (its requests session replaces schemathesis's User-Agent).
FUZZER_ADDRESS = "127.0.0.2"
FUZZER_AGENT = "schemathesis/"


def _from_the_fuzzer(span: SpanRecord) -> bool:
    attributes = span.attributes
    peer = attributes.get("net.peer.ip") or attributes.get("client.address")
    agent = str(attributes.get("http.user_agent") or attributes.get("user_agent.original") or "")
    return peer == FUZZER_ADDRESS or agent.startswith(FUZZER_AGENT)


def _without_fuzzed_urls(span: SpanRecord) -> SpanRecord:
    if not _from_the_fuzzer(span):
        return span
    kept = {k: v for k, v in span.attributes.items() if k not in URL_ATTRIBUTES}
    return dataclasses.replace(span, attributes=kept)


def _scan_spans(detector: PersonalDataDetector, otlp: OtlpReceiver, scanned: Scanned) -> None:
    collected = len(otlp.find(lambda _span: True))
    spans = exported_spans(otlp.server)
    # The raw export requests hold at least every span the receiver collected.
    assert len(spans) >= collected
    for span in spans:
        scanned.spans += 1
        kept = _without_fuzzed_urls(span)
        scanned.fuzzed_spans += kept is not span
        scanned.findings += detector.scan_span(kept)
        scanned.texts += [span.name, repr(span.attributes), repr(span.events), span.status_message]


def _detector() -> PersonalDataDetector:
    return PersonalDataDetector(allowed_emails=office_mailboxes())


async def test_no_clear_personal_data_on_pages_on_topics_in_logs_or_in_spans(
    stack: Stack,
    servers: Servers,
    http: httpx.AsyncClient,
    providers: Providers,
    opd_reader: OutsideReader,
    otlp: OtlpReceiver,
) -> None:
    known, sent = await _send_personal_data(stack, http, providers, opd_reader)
    page_texts = await _scan_pages(detector := _detector(), stack, http, sent)
    # Let the last outbox rows of the session reach the topics, then let every
    # service export the spans it ended until then.
    await _settled(lambda: len(opd_reader.messages))
    await _exported_until_now(otlp, stack, http)

    scanned = Scanned()
    for number, text in enumerate(page_texts):
        scanned.pages += 1
        scanned.findings += detector.scan_text(text, f"page or receipt {number}")
        scanned.texts.append(text)
        for name in ("Siti Aminah", "Wulan Pratiwi"):
            assert name not in text, f"the name sent is on page or receipt {number}"
    _scan_events(
        detector, [*opd_reader.messages, *await _read_every_stream(servers.bootstrap)], scanned
    )
    _scan_logs(detector, stack.workdir / "logs", scanned)
    _scan_spans(detector, otlp, scanned)

    summary = (
        f"{scanned.pages} pages and receipts, {scanned.events} events, "
        f"{scanned.log_lines} log lines, {scanned.spans} spans"
    )
    print(
        f"personal-data scan: {summary} ({scanned.fuzzed_spans} fuzzer requests' URLs left out), "
        f"{len(scanned.findings)} findings"
    )
    assert scanned.events > 0 and scanned.log_lines > 0 and scanned.spans > 0, summary
    assert scanned.pages == len(page_texts) > 0, summary
    # Positive control: where the clear values belong (the messages handed to
    # the providers), the same detector does find them.
    delivered = [
        (m.to, m.channel)
        for m in providers.sent
        if m.to in ("+" + known["phone_international"], known["complaint_email"])
    ]
    control = [detector.scan_text(to, f"{channel} recipient") for to, channel in delivered]
    assert len(delivered) >= 2 and all(control), delivered
    # The detector's verdict ...
    listing = "\n".join(str(f) for f in scanned.findings[:SHOWN])
    assert len(scanned.findings) == 0, (
        f"{len(scanned.findings)} clear personal data found in {summary}:\n{listing}"
    )
    # ... and, independent of its patterns, the values this test itself sent.
    code = known.pop("signin_code")
    for name, value in known.items():
        assert not any(value in text for text in scanned.texts), f"the {name} sent leaked"
    assert not any(mentions_code(text, code) for text in scanned.texts), "the sign-in code leaked"
