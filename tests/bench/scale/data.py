"""The rows of a district's years of data, generated chunk by chunk.

Application `i` (0 <= i < size) is one resident's request; residents apply
twice, for two different services (applications 2r and 2r + 1 belong to
resident r). Its submission time spreads the applications evenly over
`YEARS` years of working days before the fill's anchor (the moment the fill
first started, kept in the database so that a resumed fill makes the same
rows). The older an application, the more surely it ended (picked up,
rejected, cancelled, uncollected); the last weeks hold every state.

Everything follows from `i` and the anchor: ids are keyed hashes of (table,
i), a chunk's random choices come from a generator seeded by the chunk's
number. Personal data is protected with the services' own functions: every
NIK blind index is the real HMAC of the application's NIK (a search by NIK
finds the resident's applications), the ciphertexts come from a pool of a
few thousand values made with the real cipher (nothing in the measured
paths decrypts them). What the services' retention would already have done
(personal data erased after a year, the event journal kept 30 days, the
outbox 72 hours) is done here too, so that the first retention pass of the
measured stack finds only what comes due then.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from stdnum import luhn

from mpp_documents.domain.register import format_number
from mpp_shared import codes
from mpp_shared.pii import FieldCipher, mask_name, mask_nik, mask_phone
from mpp_shared.retention import ERASED

YEARS = 3
SPAN_DAYS = 365 * YEARS
# Kecamatan codes of the regency (3506xx). 350604 is left to the load
# generator's residents (tests.bench.loadgen), so its POSTs never meet a
# filled resident's active application.
REGIONS = [f"3506{k:02d}" for k in range(1, 27) if k != 4]
# Catalog services with a district's rough weights.
SERVICES = [
    ("ktp_el", 30),
    ("kk", 20),
    ("akta_kelahiran", 15),
    ("kia", 10),
    ("akta_kematian", 5),
    ("pindah_keluar", 5),
    ("pindah_datang", 5),
    ("ktp_el_rusak_hilang", 5),
    ("perubahan_data", 3),
    ("akta_perkawinan", 1),
    ("akta_perceraian", 1),
]
SERVICE_CODES = [code for code, _ in SERVICES]
SERVICE_WEIGHTS = [w for _, w in SERVICES]
DESK_ONLY = {"ktp_el", "ktp_el_rusak_hilang", "akta_perkawinan", "akta_perceraian"}
POINTS = ["MPP", "DUKCAPIL", "KEC-BANYAKAN", "KEC-WATES", "KEC-PAPAR", "KEC-PARE", "KEC-NGADILUWIH"]
POINT_WEIGHTS = [45, 10, 9, 9, 9, 9, 9]
DOCUMENTS = ["kartu_keluarga", "bukti_usia_17"]
NAMES = ["Budi Santoso", "Siti Aminah", "Agus Setiawan", "Dewi Lestari", "Slamet Riyadi"]

# Final outcomes of applications older than RECENT_DAYS (weights).
OLD_OUTCOMES = [
    ("picked_up", 86),
    ("rejected", 4),
    ("cancelled", 2),
    # A document still waiting weeks after it was ready is uncollected: its
    # pickup window (14 days) ended and the scheduler marked it.
    ("uncollected", 8),
]
# The last weeks: every step.
RECENT_OUTCOMES = [
    ("incomplete", 3),
    ("submitted", 10),
    ("returned", 3),
    ("queued", 8),
    ("in_production", 10),
    ("produced", 8),
    ("in_transit", 6),
    ("on_hold", 2),
    ("ready_for_pickup", 20),
    ("picked_up", 24),
    ("rejected", 4),
    ("cancelled", 2),
]
RECENT_DAYS = 21
RETENTION_DAYS = 365  # applications, document jobs, complaints, contacts
MESSAGE_RETENTION_DAYS = 90
JOURNAL_DAYS = 30
OUTBOX_HOURS = 72
# Steps after which a document exists (the register holds it).
ISSUED = {"produced", "in_transit", "ready_for_pickup", "picked_up", "uncollected"}
JOB_STEPS = {"queued", "in_production", "produced", "in_transit", "ready_for_pickup"}
# A complaint for one application in this many.
COMPLAINT_EVERY = 40
COMPLAINT_CATEGORIES = [
    ("keterlambatan", "DISDUKCAPIL"),
    ("pelayanan", "DISDUKCAPIL"),
    ("sikap_petugas", "INSPEKTORAT"),
    ("pungli", "INSPEKTORAT"),
    ("lainnya", "DPMPTSP"),
]
# The outbox rows left by retention go to a topic no service consumes (a
# measured stack's relay may publish them again after a broker restart).
HISTORY_TOPIC = "mpp.bench"
WEBHOOK_TYPES = ["mpp.application.verified.v1", "mpp.document.ready_for_pickup.v1"]
SUBSCRIPTION_IDS = [uuid.UUID(int=0xB5CA1E00 + n) for n in (1, 2)]
POOL_SIZE = 2000

ALPHABET = codes.ALPHABET


def parse_size(text: str) -> int:
    """'2k' -> 2000, '100k' -> 100000, '5m' -> 5000000, '1234' -> 1234."""
    t = text.strip().lower().replace("_", "")
    factor = 1
    if t.endswith("k"):
        factor, t = 1000, t[:-1]
    elif t.endswith("m"):
        factor, t = 1_000_000, t[:-1]
    return int(float(t) * factor)


def row_id(table: str, i: int) -> uuid.UUID:
    """A stable, random-looking id of row `i` of `table`."""
    digest = hashlib.blake2b(f"{table}:{i}".encode(), digest_size=16).digest()
    return uuid.UUID(bytes=digest, version=4)


def _code(number: int, length: int, prefix: str = "") -> str:
    """A unique, valid public code (Luhn mod 32) for `number`: its digits in
    the code alphabet, scrambled by a bijection of the code space."""
    body_length = length - 1
    space = len(ALPHABET) ** body_length
    value = (number * 0x9E3779B1 + 0x5BD1E995) % space  # odd multiplier: a bijection
    chars = []
    for _ in range(body_length):
        value, digit = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[digit])
    body = prefix + "".join(chars)
    return body + luhn.calc_check_digit(body, alphabet=ALPHABET)


def tracking_code(i: int) -> str:
    return _code(i, 10)


def complaint_code(i: int) -> str:
    return _code(i, 9, "P")


def verification_code(i: int) -> str:
    return _code(i, 10, "V")


def resident_nik(r: int) -> str:
    """A valid NIK, unique per resident r (< 25 regions x 9999 x 28 x 12)."""
    region = REGIONS[r % len(REGIONS)]
    rest = r // len(REGIONS)
    serial = rest % 9999 + 1
    rest //= 9999
    day = rest % 28 + 1 + (40 if r % 2 else 0)
    month = (rest // 28) % 12 + 1
    year = 60 + (rest // (28 * 12)) % 40
    return f"{region}{day:02d}{month:02d}{year:02d}{serial:04d}"


def application_nik(i: int) -> str:
    return resident_nik(i // 2)


def day_start(anchor: datetime) -> datetime:
    return anchor.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def created_at(i: int, size: int, anchor: datetime) -> datetime:
    """Spread over SPAN_DAYS days before the anchor's day, 08:00-15:00 WIB."""
    position = i * SPAN_DAYS / size
    day = int(position)
    within = position - day
    start = day_start(anchor) - timedelta(days=SPAN_DAYS)
    return start + timedelta(days=day, hours=1, seconds=within * 7 * 3600)


@dataclass
class Pools:
    """Ciphertexts made with the real cipher, reused across rows."""

    nik_enc: list[bytes]
    name_enc: list[bytes]
    phone_enc: list[bytes]
    phone_index: list[bytes]
    contact_enc: list[bytes]
    secret_enc: bytes

    @classmethod
    def make(cls, cipher: FieldCipher, size: int = POOL_SIZE) -> Pools:
        rng = random.Random(7)
        phones = [f"08{rng.randrange(10**9, 10**10)}" for _ in range(size)]
        return cls(
            nik_enc=[cipher.encrypt(resident_nik(n), context="nik") for n in range(size)],
            name_enc=[cipher.encrypt(NAMES[n % len(NAMES)], context="name") for n in range(size)],
            phone_enc=[cipher.encrypt(p, context="phone") for p in phones],
            phone_index=[cipher.blind_index(p, context="phone") for p in phones],
            contact_enc=[cipher.encrypt(p, context="contact") for p in phones],
            secret_enc=cipher.encrypt("bench-webhook-secret", context="webhook_secret"),
        )


@dataclass
class Chunk:
    """The rows of one chunk: database -> table -> (columns, records)."""

    tables: dict[str, dict[str, tuple[list[str], list[tuple[Any, ...]]]]] = field(
        default_factory=lambda: defaultdict(dict)
    )

    def add(self, db: str, table: str, columns: list[str], record: tuple[Any, ...]) -> None:
        entry = self.tables[db].get(table)
        if entry is None:
            entry = self.tables[db][table] = (columns, [])
        entry[1].append(record)

    def rows(self, db: str) -> int:
        return sum(len(records) for _, records in self.tables[db].values())


APPLICATION_COLUMNS = [
    "id", "tracking_code", "service_code", "channel", "status", "progress", "nik_enc",
    "nik_index", "nik_masked", "name_enc", "name_masked", "phone_enc", "language",
    "pickup_point", "decision_reason", "submitted_by", "counter", "version", "created_at",
    "updated_at", "documents", "domicile_region", "expected_ready_at", "active",
    "personal_data_erased_at",
]  # fmt: skip
TIMELINE_COLUMNS = ["application_id", "step", "at", "pickup_point", "source_event_id"]
JOB_COLUMNS = [
    "id", "application_id", "tracking_code", "service_code", "state", "pickup_point", "version",
    "created_at", "updated_at", "due_at", "held_from", "hold_reason_code", "cancel_reason",
    "document_number", "verification_code", "holder_masked", "ready_at", "picked_up_at",
    "collected_by", "uncollected_at", "document_id", "personal_data_erased_at",
]  # fmt: skip
HISTORY_COLUMNS = ["job_id", "from_state", "to_state", "actor", "at"]
CLOCK_COLUMNS = [
    "id", "subject_type", "subject_id", "application_id", "tracking_code", "service_code",
    "pickup_point", "started_at", "due_at", "warn_share", "warn_at", "warned_at",
    "breached_at", "stopped_at", "stop_reason", "created_at",
]  # fmt: skip
ISSUED_COLUMNS = [
    "id", "job_id", "application_id", "doc_type", "office", "year", "seq", "number",
    "verification_code", "holder_masked", "issued_at",
]  # fmt: skip
TIMER_COLUMNS = [
    "id", "job_id", "kind", "seq", "ready_at", "fire_at", "window_ends_at", "fired_at",
    "outcome", "closed_at", "close_reason", "created_at",
]  # fmt: skip
KNOWN_COLUMNS = [
    "tracking_code", "application_id", "service_code", "progress", "updated_at", "due_at",
    "picked_up_at", "progress_at",
]  # fmt: skip
COMPLAINT_COLUMNS = [
    "id", "complaint_code", "category", "description", "channel", "anonymous", "status",
    "tracking_code", "application_id", "reporter_enc", "language", "version", "created_at",
    "updated_at", "opd", "step", "step_due_at", "response_text", "rating", "responded_at",
    "closed_at", "closed_by", "kind", "reporter_phone_index", "reporter_indexed",
    "personal_data_erased_at",
]  # fmt: skip
DEADLINE_COLUMNS = [
    "id", "complaint_id", "step", "opd", "started_at", "due_at", "fired_at", "cancelled_at",
]  # fmt: skip
RECIPIENT_COLUMNS = [
    "subject_type", "subject_id", "contact_enc", "created_at", "personal_data_erased_at",
]  # fmt: skip
DELIVERY_COLUMNS = [
    "id", "source_event_id", "source_event_type", "channel", "provider", "recipient_index",
    "recipient_masked", "language", "body", "status", "application_id", "tracking_code",
    "created_at", "recipient_enc", "urgent", "attempts", "delivered_at", "sent_at", "updated_at",
    "personal_data_erased_at",
]  # fmt: skip
JOURNAL_COLUMNS = [
    "event_id", "event_type", "topic", "subject", "occurred_at", "received_at", "envelope",
]  # fmt: skip
WEBHOOK_COLUMNS = [
    "id", "subscription_id", "event_id", "event_type", "status", "attempts", "next_attempt_at",
    "last_status_code", "delivered_at", "created_at", "updated_at",
]  # fmt: skip
OUTBOX_COLUMNS = ["event_id", "topic", "key", "event_type", "payload", "created_at", "published_at"]
INBOX_COLUMNS = ["consumer", "event_id", "event_type", "topic", "partition", "offset", "handled_at"]

DATABASES = ("intake", "documents", "complaints", "notify")
# The consumer of each service (inbox rows), and the events it takes.
CONSUMERS = {
    "intake": ("intake", "mpp.document.ready_for_pickup.v1", "mpp.documents"),
    "documents": ("documents", "mpp.application.verified.v1", "mpp.applications"),
    "complaints": ("complaints", "mpp.application.submitted.v1", "mpp.applications"),
    "notify": ("notify", "mpp.application.submitted.v1", "mpp.applications"),
}


def _pick(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


class Generator:
    def __init__(self, size: int, anchor: datetime, cipher: FieldCipher, pools: Pools) -> None:
        self.size, self.anchor, self.cipher, self.pools = size, anchor, cipher, pools
        self.retention_cut = anchor - timedelta(days=RETENTION_DAYS)
        self.message_cut = anchor - timedelta(days=MESSAGE_RETENTION_DAYS)
        self.journal_cut = anchor - timedelta(days=JOURNAL_DAYS)
        self.outbox_cut = anchor - timedelta(hours=OUTBOX_HOURS)
        self.history_payload = json.dumps(
            {"specversion": "1.0", "type": "mpp.bench.history.v1", "source": "/mpp/bench"}
        ).encode()

    def chunk(self, number: int, first: int, end: int) -> Chunk:
        """Rows of applications first <= i < end (first even)."""
        rng = random.Random(number * 7919 + 17)
        out = Chunk()
        previous_service = ""
        for i in range(first, end):
            service = rng.choices(SERVICE_CODES, SERVICE_WEIGHTS)[0]
            if i % 2 and service == previous_service:  # the resident's second, another service
                service = SERVICE_CODES[(SERVICE_CODES.index(service) + 1) % len(SERVICE_CODES)]
            previous_service = service
            self._application(out, rng, i, service)
        return out

    def _application(self, out: Chunk, rng: random.Random, i: int, service: str) -> None:
        p = self.pools
        made = created_at(i, self.size, self.anchor)
        age = self.anchor - made
        recent = age < timedelta(days=RECENT_DAYS)
        progress = _pick(rng, RECENT_OUTCOMES if recent else OLD_OUTCOMES)
        status = {
            "incomplete": "incomplete",
            "submitted": "submitted",
            "returned": "returned",
            "rejected": "rejected",
        }.get(progress, "verified")
        app_id = row_id("application", i)
        code = tracking_code(i)
        point = rng.choices(POINTS, POINT_WEIGHTS)[0]
        channel = (
            ("mpp_desk" if point in ("MPP", "DUKCAPIL") else "kecamatan_desk")
            if service in DESK_ONLY or rng.random() < 0.8
            else rng.choice(("desa", "online"))
        )
        nik = application_nik(i)
        pool_n = i % len(p.nik_enc)
        verified_at = made + timedelta(minutes=rng.randint(5, 240))
        due = made + timedelta(days=1 if service not in DESK_ONLY else 3, hours=2)
        late = rng.random() < 0.12
        ready_at = (
            due + timedelta(hours=rng.randint(1, 48))
            if late
            else due - timedelta(hours=rng.randint(1, 20))
        )
        picked_at = ready_at + timedelta(days=rng.randint(0, 10), hours=rng.randint(0, 5))
        final = status == "rejected" or progress in ("picked_up", "cancelled", "uncollected")
        ended = {
            "picked_up": picked_at,
            "rejected": verified_at,
            "cancelled": verified_at + timedelta(days=1),
            "uncollected": ready_at + timedelta(days=14),
        }.get(progress)
        erased = final and ended is not None and ended <= self.retention_cut
        updated = ended or (ready_at if progress == "ready_for_pickup" else verified_at)
        if updated > self.anchor:
            updated = self.anchor - timedelta(minutes=1)
        active = not final
        out.add(
            "intake",
            "applications",
            APPLICATION_COLUMNS,
            (
                app_id, code, service, channel, status, progress,
                None if erased else p.nik_enc[pool_n],
                None if erased else self.cipher.blind_index(nik, context="nik"),
                ERASED if erased else mask_nik(nik),
                None if erased else p.name_enc[pool_n],
                ERASED if erased else mask_name(NAMES[i % len(NAMES)]),
                None if erased else p.phone_enc[pool_n],
                "id", point,
                "missing_requirement" if status == "rejected" and not erased else None,
                f"officer-{i % 40:02d}", f"counter-{i % 12:02d}", 1 + (status != "submitted"),
                made, updated, DOCUMENTS, nik[:6],
                due if status == "verified" else None, active,
                ended + timedelta(days=RETENTION_DAYS, hours=1) if erased and ended else None,
            ),
        )  # fmt: skip
        steps: list[tuple[str, datetime, uuid.UUID | None]] = [("submitted", made, None)]
        if status in ("verified", "rejected"):
            steps.append((status, verified_at, None))
        if status == "verified" and progress != "verified":
            at = {"picked_up": picked_at, "uncollected": ready_at + timedelta(days=14)}.get(
                progress, ready_at if progress == "ready_for_pickup" else verified_at
            )
            steps.append((progress, at, row_id("timeline-event", i)))
        for step, at, source in steps:
            out.add(
                "intake",
                "application_timeline",
                TIMELINE_COLUMNS,
                (app_id, step, at, point, source),
            )

        # --- complaints: what it knows of every request ------------------------
        picked = picked_at if progress == "picked_up" else None
        out.add(
            "complaints",
            "known_requests",
            KNOWN_COLUMNS,
            (
                code,
                app_id,
                service,
                progress,
                updated,
                due if status == "verified" else None,
                picked,
                updated,
            ),
        )
        if i % COMPLAINT_EVERY == 7:
            self._complaint(out, rng, i, app_id, code, made, recent)

        # --- documents -----------------------------------------------------------
        if status == "verified":
            self._job(out, rng, i, app_id, code, service, point, progress, nik, made, verified_at,
                      due, ready_at, picked_at, erased)  # fmt: skip

        # --- notify --------------------------------------------------------------
        contact_erased = made <= self.retention_cut
        out.add(
            "notify",
            "recipients",
            RECIPIENT_COLUMNS,
            (
                "application", app_id, None if contact_erased else p.contact_enc[pool_n], made,
                made + timedelta(days=RETENTION_DAYS) if contact_erased else None,
            ),
        )  # fmt: skip
        messages = [("mpp.application.submitted.v1", made)]
        if progress in ("ready_for_pickup", "picked_up", "uncollected"):
            messages.append(("mpp.document.ready_for_pickup.v1", ready_at))
        for n, (event_type, at) in enumerate(messages):
            msg_erased = at <= self.message_cut
            body = (
                ERASED
                if msg_erased
                else f"MPP Kediri: permohonan {code} {'diterima' if n == 0 else 'siap diambil'}."
            )
            out.add(
                "notify",
                "delivery_log",
                DELIVERY_COLUMNS,
                (
                    row_id(f"delivery-{n}", i), row_id(f"event-{n}", i), event_type,
                    "whatsapp" if i % 3 else "sms", "log",
                    None if msg_erased else p.phone_index[pool_n],
                    ERASED if msg_erased else mask_phone("081234567890"), "id", body,
                    "delivered", app_id, code, at, None if msg_erased else p.contact_enc[pool_n],
                    True, 1, at + timedelta(seconds=2), at + timedelta(seconds=1),
                    at + timedelta(seconds=2),
                    at + timedelta(days=MESSAGE_RETENTION_DAYS) if msg_erased else None,
                ),
            )  # fmt: skip
        events = [
            ("mpp.application.submitted.v1", "mpp.applications", made),
            *([("mpp.application.verified.v1", "mpp.applications", verified_at)] if status == "verified" else []),
            *([("mpp.document.ready_for_pickup.v1", "mpp.documents", ready_at)]
              if progress in ("ready_for_pickup", "picked_up", "uncollected") else []),
        ]  # fmt: skip
        for n, (event_type, topic, at) in enumerate(events):
            if at <= self.journal_cut or at > self.anchor:
                continue
            event_id = row_id(f"event-{n}", i)
            envelope = json.dumps(
                {
                    "specversion": "1.0", "id": str(event_id), "source": "/mpp/bench", "type": event_type,
                    "subject": str(app_id), "time": at.isoformat(),
                    "data": {"application_id": str(app_id), "tracking_code": code, "service_code": service},
                }
            )  # fmt: skip
            out.add("notify", "event_journal", JOURNAL_COLUMNS,
                    (event_id, event_type, topic, str(app_id), at, at, envelope))  # fmt: skip
            if event_type in WEBHOOK_TYPES:
                sub = SUBSCRIPTION_IDS[i % 2]
                out.add(
                    "notify",
                    "webhook_deliveries",
                    WEBHOOK_COLUMNS,
                    (row_id(f"webhook-{n}", i), sub, event_id, event_type, "delivered", 1, at, 200,
                     at + timedelta(seconds=1), at, at + timedelta(seconds=1)),
                )  # fmt: skip
        # --- what outbox and inbox retention leave (72 hours) ----------------------
        if made > self.outbox_cut:
            for db in DATABASES:
                event_id = row_id(f"outbox-{db}", i)
                out.add(db, "outbox", OUTBOX_COLUMNS,
                        (event_id, HISTORY_TOPIC, str(app_id), "mpp.bench.history.v1",
                         self.history_payload, made, made + timedelta(milliseconds=20)))  # fmt: skip
                consumer, event_type, topic = CONSUMERS[db]
                out.add(db, "inbox", INBOX_COLUMNS,
                        (consumer, row_id(f"inbox-{db}", i), event_type, topic, i % 4, i, made))  # fmt: skip

    def _job(
        self, out: Chunk, rng: random.Random, i: int, app_id: uuid.UUID, code: str, service: str,
        point: str, progress: str, nik: str, made: datetime, verified_at: datetime,
        due: datetime, ready_at: datetime, picked_at: datetime, erased: bool,
    ) -> None:  # fmt: skip
        job_id = row_id("job", i)
        state = {"verified": "queued", "uncollected": "ready_for_pickup"}.get(progress, progress)
        issued = progress in ISSUED
        doc_id = row_id("document", i) if issued else None
        holder = ERASED if erased else mask_nik(nik)
        number = verification = None
        if issued:
            issued_at = ready_at - timedelta(hours=2)
            year = issued_at.year
            number = format_number(doc_type=service, office="3506", year=year, seq=i + 1)
            verification = verification_code(i)
            out.add("documents", "issued_documents", ISSUED_COLUMNS,
                    (doc_id, job_id, app_id, service, "3506", year, i + 1, number, verification,
                     holder, issued_at))  # fmt: skip
        uncollected_at = ready_at + timedelta(days=14) if progress == "uncollected" else None
        updated = {
            "picked_up": picked_at,
            "cancelled": verified_at + timedelta(days=1),
        }.get(state, uncollected_at or (ready_at if state == "ready_for_pickup" else verified_at))
        if updated > self.anchor:
            updated = self.anchor - timedelta(minutes=1)
        out.add(
            "documents",
            "jobs",
            JOB_COLUMNS,
            (
                job_id, app_id, code, service, state, point, 2 + (state != "queued"),
                verified_at, updated, due,
                "in_production" if state == "on_hold" else None,
                "missing_blank" if state == "on_hold" else None,
                None if erased or state != "cancelled" else "Dibatalkan pemohon",
                number, verification, holder if issued else None,
                ready_at if state in ("ready_for_pickup", "picked_up") else None,
                picked_at if state == "picked_up" else None,
                "holder" if state == "picked_up" else None,
                uncollected_at, doc_id,
                updated + timedelta(days=RETENTION_DAYS) if erased else None,
            ),
        )  # fmt: skip
        history: list[tuple[str | None, str, datetime]] = [(None, "queued", verified_at)]
        if state != "queued":
            at = (
                picked_at
                if state == "picked_up"
                else (ready_at if issued else verified_at + timedelta(hours=3))
            )
            history.append(("queued", state, min(at, self.anchor)))
        for from_state, to_state, at in history:
            out.add("documents", "job_history", HISTORY_COLUMNS,
                    (job_id, from_state, to_state, f"officer-{i % 40:02d}", at))  # fmt: skip
        warn_at = verified_at + (due - verified_at) * 0.75
        stopped = state in ("picked_up", "cancelled")
        stopped_at = updated if stopped else None
        warned_at = (
            warn_at if warn_at <= self.anchor and (not stopped or updated >= warn_at) else None
        )
        breached_at = (
            due
            if due <= self.anchor and (not stopped or updated >= due) and ready_at > due
            else None
        )
        if not stopped and due <= self.anchor and breached_at is None:
            breached_at = due  # a running clock past its due time has fired
        if not stopped and warn_at <= self.anchor and warned_at is None:
            warned_at = warn_at
        out.add(
            "documents",
            "sla_clocks",
            CLOCK_COLUMNS,
            (
                row_id("clock", i), "job", job_id, app_id, code, service, point, verified_at, due,
                0.75, warn_at, warned_at, breached_at, stopped_at,
                state if stopped else None, verified_at,
            ),
        )  # fmt: skip
        if state == "ready_for_pickup":
            fire_at = ready_at + timedelta(days=7)
            window = ready_at + timedelta(days=14)
            fired = fire_at <= self.anchor
            closed = uncollected_at is not None and not fired
            out.add(
                "documents",
                "pickup_timers",
                TIMER_COLUMNS,
                (
                    row_id("timer", i), job_id, "reminder", 1, ready_at, fire_at, window,
                    fire_at if fired else None, "sent" if fired else None,
                    uncollected_at if closed else None, "uncollected" if closed else None, ready_at,
                ),
            )  # fmt: skip

    def _complaint(
        self, out: Chunk, rng: random.Random, i: int, app_id: uuid.UUID, code: str,
        made: datetime, recent: bool,
    ) -> None:  # fmt: skip
        p = self.pools
        complaint_id = row_id("complaint", i)
        category, opd = rng.choice(COMPLAINT_CATEGORIES)
        filed = made + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 4))
        if filed > self.anchor:
            filed = self.anchor - timedelta(hours=1)
        kind = rng.choices(["pengaduan", "aspirasi", "permintaan_informasi"], [80, 12, 8])[0]
        status = (
            rng.choice(["received", "assigned", "in_progress", "responded"])
            if recent
            else ("rejected" if rng.random() < 0.06 else "closed")
        )
        responded = (
            filed + timedelta(days=rng.randint(1, 8)) if status in ("responded", "closed") else None
        )
        if responded and responded > self.anchor:
            responded = self.anchor - timedelta(minutes=30)
        closed = (
            (responded or filed) + timedelta(days=rng.randint(1, 10))
            if status in ("closed", "rejected")
            else None
        )
        erased = closed is not None and closed <= self.retention_cut
        steps: dict[str, tuple[str | None, datetime | None]] = {
            "received": ("verification", filed + timedelta(days=3)),
            "assigned": ("follow_up", filed + timedelta(days=8)),
            "in_progress": ("follow_up", filed + timedelta(days=8)),
            "responded": ("auto_close", (responded or filed) + timedelta(days=10)),
        }
        step, step_due = steps.get(status, (None, None))
        out.add(
            "complaints",
            "complaints",
            COMPLAINT_COLUMNS,
            (
                complaint_id, complaint_code(i), category,
                ERASED if erased else "Dokumen belum selesai padahal sudah lewat janji layanan.",
                rng.choice(["web", "mpp_desk", "whatsapp", "sms"]), False, status, code, app_id,
                None if erased else p.contact_enc[i % len(p.contact_enc)], "id",
                1 + (status != "received"), filed, closed or responded or filed,
                None if status == "received" else opd, step, step_due,
                None if responded is None else (ERASED if erased else "Sudah kami tindak lanjuti."),
                rng.randint(1, 5) if status == "closed" else None, responded, closed,
                "officer-01" if closed else None, kind,
                None if erased else p.phone_index[i % len(p.phone_index)], True,
                closed + timedelta(days=RETENTION_DAYS) if erased and closed else None,
            ),
        )  # fmt: skip
        # The verification step, then the follow-up step, ended as the complaint moved on.
        verified = filed + timedelta(days=1)
        out.add("complaints", "complaint_deadlines", DEADLINE_COLUMNS,
                (row_id("deadline-1", i), complaint_id, "verification", None, filed,
                 filed + timedelta(days=3), None,
                 None if status == "received" else verified))  # fmt: skip
        if status != "received":
            open_step = status in ("assigned", "in_progress")
            out.add("complaints", "complaint_deadlines", DEADLINE_COLUMNS,
                    (row_id("deadline-2", i), complaint_id, "follow_up", opd, verified,
                     verified + timedelta(days=7), None,
                     None if open_step else (responded or closed or verified)))  # fmt: skip
        if status == "responded":
            out.add("complaints", "complaint_deadlines", DEADLINE_COLUMNS,
                    (row_id("deadline-3", i), complaint_id, "auto_close", opd, responded,
                     step_due, None, None))  # fmt: skip


def subscription_rows(pools: Pools, anchor: datetime) -> list[tuple[Any, ...]]:
    since = anchor - timedelta(days=SPAN_DAYS)
    return [
        (sub, f"opd-system-{n}", f"https://opd{n}.example.invalid/hook", WEBHOOK_TYPES,
         pools.secret_enc, "active", since, since)
        for n, sub in enumerate(SUBSCRIPTION_IDS, 1)
    ]  # fmt: skip


SUBSCRIPTION_COLUMNS = [
    "id",
    "owner",
    "url",
    "event_types",
    "secret_enc",
    "status",
    "created_at",
    "updated_at",
]
