"""One valid example of every registered event type.

Used by the event contract (the examples in the AsyncAPI document), by
notify's template preview and save-time check, and by the tests. Ids are
fixed so the generated contract does not change between runs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from mpp_shared.events import schemas  # noqa: F401  (registers the event types)
from mpp_shared.events.envelope import EventData, registered_types

NOW = datetime(2024, 8, 17, 9, 30, 15, 123456, tzinfo=UTC)
APP_ID = uuid.UUID("0b5f8a5e-6f1c-4e55-9a43-2f8d7a1c9e01")
JOB_ID = uuid.UUID("6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
READY = datetime(2024, 8, 19, 8, 0, tzinfo=UTC)
MISSING_KK = {"code": "kk", "name_id": "Kartu Keluarga", "name_en": "Family card"}
MISSING_MARRIAGE = {
    "code": "buku_nikah",
    "name_id": "Buku nikah atau SPTJM",
    "name_en": "Marriage book or SPTJM",
}


def _job(**extra: Any) -> dict[str, Any]:
    return {
        "job_id": JOB_ID,
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "ktp_el",
        "state": "queued",
        "version": 1,
        "pickup_point": "MPP",
        "occurred_at": NOW,
        **extra,
    }


# One valid payload per registered event type (tests/unit/test_events.py keeps it complete).
EXAMPLES: dict[str, dict[str, Any]] = {
    "mpp.application.submitted.v1": {
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "ktp_el",
        "channel": "mpp_desk",
        "status": "submitted",
        "nik_masked": "3506**********01",
        "applicant_name_masked": "B*** S***",
        "pickup_point": "MPP",
        "language": "en",
        "preferred_channel": "sms",
        "contact_sealed": "c2VhbGVk",
        "submitted_at": NOW,
        "catalog_version": 2,
        "expected_ready_at": READY,
    },
    "mpp.application.incomplete.v1": {
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "akta_kelahiran",
        "channel": "kecamatan_desk",
        "nik_masked": "3506**********01",
        "applicant_name_masked": "B*** S***",
        "pickup_point": "KEC-PARE",
        "language": "id",
        "preferred_channel": "whatsapp",
        "contact_sealed": "c2VhbGVk",
        "catalog_version": 1,
        "missing": [MISSING_KK, MISSING_MARRIAGE],
        "submitted_at": NOW,
    },
    "mpp.application.completed.v1": {
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "akta_kelahiran",
        "expected_ready_at": READY,
        "completed_at": NOW,
    },
    "mpp.application.returned.v1": {
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "kk",
        "items": [{**MISSING_KK, "note": "fotokopi tidak terbaca"}],
        "returned_by": "officer-7",
        "returned_at": NOW,
    },
    "mpp.application.resubmitted.v1": {
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "kk",
        "expected_ready_at": READY,
        "resubmitted_at": NOW,
        "uploads": [
            {
                "requirement": "formulir_f101",
                "file_id": uuid.UUID("3c9e2a71-5b4d-4f8e-9a1b-7d6c5e4f3a21"),
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "size": 182344,
            }
        ],
    },
    "mpp.application.verified.v1": {
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "kk",
        "verified_by": "officer-7",
        "verified_at": NOW,
        "expected_ready_at": READY,
    },
    "mpp.application.rejected.v1": {
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "kk",
        "reason": "dokumen tidak asli",
        "reason_codes": ["dokumen_tidak_asli"],
        "rejected_by": "officer-7",
        "rejected_at": NOW,
    },
    "mpp.document.queued.v1": _job(),
    "mpp.document.in_production.v1": _job(state="in_production", version=2),
    "mpp.document.produced.v1": _job(
        state="produced", version=3, document_number="3506-KTP-2026-000001"
    ),
    "mpp.document.in_transit.v1": _job(state="in_transit", version=4),
    "mpp.document.on_hold.v1": _job(
        state="on_hold",
        version=2,
        reason_code="blanko_habis",
        reason_id="blanko KTP-el sedang habis",
        reason_en="blank KTP-el cards are out of stock",
    ),
    "mpp.document.cancelled.v1": _job(state="cancelled", version=2, reason="permohonan ganda"),
    "mpp.sla.warning.v1": {
        "clock_id": uuid.UUID("00000000-0000-4000-8000-000000000001"),
        "subject_type": "job",
        "subject_id": uuid.UUID("00000000-0000-4000-8000-000000000002"),
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "ktp_el",
        "pickup_point": "MPP",
        "started_at": NOW,
        "due_at": NOW,
        "fired_at": NOW,
        "share": 0.75,
    },
    "mpp.sla.breached.v1": {
        "clock_id": uuid.UUID("00000000-0000-4000-8000-000000000003"),
        "subject_type": "job",
        "subject_id": uuid.UUID("00000000-0000-4000-8000-000000000004"),
        "application_id": APP_ID,
        "tracking_code": "ABCDEFGH2J",
        "service_code": "ktp_el",
        "pickup_point": "MPP",
        "started_at": NOW,
        "due_at": NOW,
        "fired_at": NOW,
    },
    "mpp.document.ready_for_pickup.v1": _job(state="ready_for_pickup", version=3),
    "mpp.document.picked_up.v1": _job(state="picked_up", version=4, handed_over_by="desk-2"),
    "mpp.document.pickup_reminder.v1": _job(
        state="ready_for_pickup", version=3, reminder=1, window_ends_at=READY
    ),
    "mpp.document.uncollected.v1": _job(state="ready_for_pickup", version=3, window_ends_at=READY),
    "mpp.complaint.filed.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000005"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "channel": "web",
        "anonymous": False,
        "filed_at": NOW,
    },
    "mpp.complaint.verified.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000006"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "verified_by": "officer-1",
        "verified_at": NOW,
    },
    "mpp.complaint.assigned.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000007"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "anonymous": True,
        "opd": "INSPEKTORAT",
        "assigned_by": "officer-1",
        "assigned_at": NOW,
        "due_at": NOW,
    },
    "mpp.complaint.reopened.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000008"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "opd": "INSPEKTORAT",
        "reason": "belum selesai",
        "reopen_count": 1,
        "reopened_at": NOW,
        "due_at": NOW,
    },
    "mpp.complaint.escalated.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000009"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "status": "assigned",
        "step": "follow_up",
        "opd": "INSPEKTORAT",
        "due_at": NOW,
        "escalated_at": NOW,
    },
    "mpp.complaint.rejected.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000010"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "reason": "duplicate",
        "duplicate_of": uuid.UUID("00000000-0000-4000-8000-000000000011"),
        "duplicate_of_code": "P3456789AB",
        "rejected_by": "officer-1",
        "rejected_at": NOW,
    },
    "mpp.complaint.responded.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000012"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "opd": "INSPEKTORAT",
        "response": "Petugas telah diberi sanksi.",
        "responded_by": "opd-inspektorat",
        "responded_at": NOW,
        "reopen_until": NOW,
    },
    "mpp.complaint.closed.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000013"),
        "complaint_code": "P23456789A",
        "category": "pungli",
        "opd": "INSPEKTORAT",
        "closed_by": "reporter",
        "rating": 4,
        "closed_at": NOW,
    },
    "mpp.complaint.deadline_extended.v1": {
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000301"),
        "complaint_code": "P23456789A",
        "category": "pelayanan",
        "kind": "permintaan_informasi",
        "reason": "Data anggaran masih dihimpun dari tiga OPD.",
        "previous_due_at": NOW,
        "due_at": NOW,
        "extended_by": "officer-ani",
        "extended_at": NOW,
    },
    "mpp.notification.recorded.v1": {
        "notification_id": uuid.UUID("00000000-0000-4000-8000-000000000014"),
        "source_event_id": uuid.UUID("00000000-0000-4000-8000-000000000015"),
        "source_event_type": "mpp.application.submitted.v1",
        "channel": "sms",
        "recipient_masked": "+62812*****890",
        "status": "queued",
        "application_id": APP_ID,
    },
    "mpp.notification.delivered.v1": {
        "notification_id": uuid.UUID("00000000-0000-4000-8000-000000000101"),
        "source_event_id": uuid.UUID("00000000-0000-4000-8000-000000000102"),
        "source_event_type": "mpp.application.submitted.v1",
        "channel": "sms",
        "provider": "sms_gateway",
        "provider_message_id": "gw-7f3a91",
        "recipient_masked": "+62812*****890",
        "attempts": 1,
        "delivered_at": NOW,
        "application_id": APP_ID,
    },
    "mpp.notification.dead.v1": {
        "notification_id": uuid.UUID("00000000-0000-4000-8000-000000000103"),
        "source_event_id": uuid.UUID("00000000-0000-4000-8000-000000000104"),
        "source_event_type": "mpp.complaint.responded.v1",
        "channel": "email",
        "provider": "smtp",
        "recipient_masked": "b***@example.co.id",
        "attempts": 6,
        "error": "550 5.1.1 mailbox unavailable",
        "dead_at": NOW,
        "complaint_id": uuid.UUID("00000000-0000-4000-8000-000000000105"),
    },
    "mpp.citizen.signin_code_requested.v1": {
        "request_id": uuid.UUID("00000000-0000-4000-8000-000000000106"),
        "channel": "sms",
        "language": "id",
        "contact_sealed": "3q2+7w==...(sealed for notify)",
        "code_sealed": "u7D1hQ==...(sealed for notify)",
        "expires_at": NOW,
    },
    "mpp.population.reported.v1": {
        "kecamatan_code": "350617",
        "report_id": uuid.UUID("00000000-0000-4000-8000-000000000107"),
        "kind": "birth",
        "desa_code": "3506172001",
        "occurred_on": date(2024, 8, 15),
        "services": ["akta_kelahiran", "kk"],
        "entry_ids": [
            uuid.UUID("00000000-0000-4000-8000-000000000108"),
            uuid.UUID("00000000-0000-4000-8000-000000000109"),
        ],
        "reported_at": NOW,
    },
    "mpp.population.follow_up_overdue.v1": {
        "kecamatan_code": "350617",
        "report_id": uuid.UUID("00000000-0000-4000-8000-000000000107"),
        "kind": "birth",
        "desa_code": "3506172001",
        "due_at": READY,
        "escalated_at": NOW,
    },
    "mpp.population.period_reported.v1": {
        "kecamatan_code": "350617",
        "period_report_id": uuid.UUID("00000000-0000-4000-8000-000000000110"),
        "period": "2024-07",
        "figures": [
            {
                "desa_code": "3506172001",
                "kind": "birth",
                "reported": 4,
                "followed_up": 3,
                "applied": 3,
                "overdue": 1,
                "escalated": 1,
            }
        ],
        "sent_at": NOW,
    },
}


def example(event_type: str) -> EventData:
    """The example payload of `event_type` as its model."""
    return registered_types()[event_type](**EXAMPLES[event_type])
