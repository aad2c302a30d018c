"""The WhatsApp assistant's conversation on a real database, with intake and
complaints faked on loopback (their documented internal HTTP routes): each
message answered once through the delivery log, state per sender with the
number only encrypted, the fallback when a service does not answer, and the
per-sender limits."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from mpp_complaints.settings import ComplaintsSettings
from mpp_notify.assistant.clients import ServiceClients
from mpp_notify.assistant.payload import InboundMessage
from mpp_notify.settings import NotifySettings
from mpp_notify.usecases.whatsapp_assistant import Assistant
from mpp_shared import clock, codes
from mpp_shared.auth import Role
from mpp_shared.pii import FieldCipher
from mpp_shared.tokens import TokenVerifier
from tests.support.identities import phone as make_phone

SERVICES: list[dict[str, Any]] = [
    {
        "code": "ktp_el",
        "name": "KTP-el",
        "fee_text": "Gratis (Rp 0)",
        "sla_text": "14 hari kerja",
        "pickup_points": ["MPP", "KEC-PARE"],
        "requirements": [
            {"code": "kk", "name": "Kartu Keluarga", "mandatory": True, "alternatives": []},
            {
                "code": "bukti_usia_17",
                "name": "Bukti usia 17 tahun",
                "mandatory": True,
                "alternatives": [{"code": "akta", "name": "Akta kelahiran"}],
            },
        ],
    },
    {
        "code": "kia",
        "name": "Kartu Identitas Anak",
        "fee_text": "Gratis (Rp 0)",
        "sla_text": "3 hari kerja",
        "pickup_points": ["MPP"],
        "requirements": [
            {"code": "akta", "name": "Akta kelahiran anak", "mandatory": True, "alternatives": []},
            {"code": "foto", "name": "Pas foto anak", "mandatory": False, "alternatives": []},
        ],
    },
]
POINTS = [
    {"code": "MPP", "name": "Mal Pelayanan Publik"},
    {"code": "KEC-PARE", "name": "Kec. Pare"},
]
TRACKING = codes.new_code(10)  # a valid tracking code (check character)


class Services:
    """Intake and complaints as the assistant calls them."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.down = False
        self.complaints: list[tuple[dict[str, Any], dict[str, str]]] = []
        for path, handler in {
            "/v1/services": self.services,
            "/v1/pickup-points": self.points,
            "/v1/channel/complaints": self.complaint,
        }.items():
            server.expect_request(path).respond_with_handler(handler)
        server.expect_request(f"/v1/track/{TRACKING}").respond_with_handler(self.track)
        server.expect_request("/v1/track/ZZ99ZZ99ZZ").respond_with_json(
            {"detail": "not found"}, status=404
        )

    def _answer(self, body: Any, status: int = 200) -> Response:
        if self.down:
            return Response("busy", status=503)
        return Response(json.dumps(body), status=status, content_type="application/json")

    def services(self, request: Request) -> Response:
        english = request.headers.get("Accept-Language") == "en"
        items = [{**s, "name": s["name"] + (" (en)" if english else "")} for s in SERVICES]
        return self._answer({"items": items, "count": len(items)})

    def points(self, request: Request) -> Response:
        return self._answer({"items": POINTS, "count": len(POINTS)})

    def track(self, request: Request) -> Response:
        return self._answer(
            {
                "tracking_code": TRACKING,
                "service_name": "KTP-el",
                "status": "in_production",
                "status_label": "sedang dicetak",
                "missing_requirements": [],
                "next_step": "Tunggu pesan bahwa dokumen siap diambil.",
            }
        )

    def complaint(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.complaints.append((body, dict(request.headers)))
        return self._answer({"id": str(uuid.uuid4()), "complaint_code": "P12345678X"}, 201)


@pytest.fixture
def services(httpserver: HTTPServer) -> Services:
    return Services(httpserver)


def assistant(services: Services, **extra: Any) -> Assistant:
    settings = NotifySettings(
        whatsapp_phone_number_id="1065",
        intake_internal_url=services.server.url_for(""),
        complaints_internal_url=services.server.url_for(""),
        internal_http_timeout=2.0,
        **extra,
    )
    cipher = FieldCipher(settings.pii_encryption_key, settings.pii_index_key)
    clients = ServiceClients(
        intake_url=settings.intake_internal_url,
        complaints_url=settings.complaints_internal_url,
        timeout=settings.internal_http_timeout,
        channel_token_key=settings.channel_token_private_key,
    )
    return Assistant(settings, cipher, clients, provider="whatsapp_cloud")


def inbound(sender: str, text: str, message_id: str | None = None) -> InboundMessage:
    return InboundMessage(
        message_id=message_id or f"wamid.IN{uuid.uuid4().hex}",
        sender=sender,
        text=text,
        kind="text",
        sent_at=clock.now(),
    )


async def replies(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch(
        "SELECT body FROM delivery_log WHERE channel = 'whatsapp' ORDER BY created_at"
    )
    return [r["body"] for r in rows]


async def test_a_conversation_is_answered_once_per_message(
    notify_pool: asyncpg.Pool, services: Services
) -> None:
    bot = assistant(services)
    sender = make_phone("0812").e164

    first = inbound(sender, "Halo")
    assert await bot.handle(notify_pool, first)
    assert not await bot.handle(notify_pool, first)  # WhatsApp retried the webhook
    [menu] = await replies(notify_pool)
    assert "1. KTP-el" in menu and "2. Kartu Identitas Anak" in menu and "status" in menu

    await bot.handle(notify_pool, inbound(sender, "2"))
    details = (await replies(notify_pool))[-1]
    assert "Kartu Identitas Anak" in details and "Akta kelahiran anak" in details
    assert "Gratis (Rp 0)" in details and "3 hari kerja" in details
    assert "Mal Pelayanan Publik" in details and "[jika ada]" in details

    await bot.handle(notify_pool, inbound(sender, "1"))
    ktp = (await replies(notify_pool))[-1]
    assert "(atau: Akta kelahiran)" in ktp and "Kec. Pare" in ktp

    await bot.handle(notify_pool, inbound(sender, f"status {TRACKING.lower()}"))
    state = (await replies(notify_pool))[-1]
    assert TRACKING in state and "sedang dicetak" in state and "Tunggu pesan" in state
    await bot.handle(notify_pool, inbound(sender, "status ZZ99ZZ99ZZ"))
    assert "tidak ditemukan" in (await replies(notify_pool))[-1]

    complaint = inbound(sender, f"pengaduan antrean di loket 3 terlalu lama {TRACKING}")
    await bot.handle(notify_pool, complaint)
    assert "P12345678X" in (await replies(notify_pool))[-1]
    [(body, headers)] = services.complaints
    assert body == {
        "description": "antrean di loket 3 terlalu lama",
        "tracking_code": TRACKING,
        "phone": sender,
        "language": "id",
        "kind": "pengaduan",
    }
    assert headers["Idempotency-Key"] == complaint.message_id
    # Complaints verifies it with notify's public key: the channel role alone.
    complaints = TokenVerifier.from_settings(ComplaintsSettings())
    caller = await complaints.principal(headers["Authorization"].removeprefix("Bearer "))
    assert caller.roles == frozenset({Role.CHANNEL})

    await bot.handle(notify_pool, inbound(sender, "online"))
    assert f"{bot.settings.public_intake_url}/online" in (await replies(notify_pool))[-1]
    await bot.handle(notify_pool, inbound(sender, "english"))
    assert "1. KTP-el (en)" in (await replies(notify_pool))[-1]
    await bot.handle(notify_pool, inbound(sender, "apa ini?"))
    assert "Reply with a service's number" in (await replies(notify_pool))[-1]

    # Every reply logged to the sender, due now; the number never in clear.
    rows = await notify_pool.fetch("SELECT * FROM delivery_log")
    assert len(rows) == 9 and {r["status"] for r in rows} == {"queued"}
    assert {r["recipient_index"] for r in rows} == {bot.sender_index(sender)}
    dump = json.dumps(
        [dict(r) for r in await notify_pool.fetch("SELECT * FROM wa_conversations")], default=str
    )
    dump += json.dumps([dict(r) for r in rows], default=str)
    assert sender not in dump and sender[1:] not in dump
    assert await notify_pool.fetchval("SELECT count(*) FROM wa_inbound_messages") == 9


async def test_a_suggestion_and_a_question_are_filed_as_their_kinds(
    notify_pool: asyncpg.Pool, services: Services
) -> None:
    bot = assistant(services)
    sender = make_phone("0813").e164
    await bot.handle(notify_pool, inbound(sender, "aspirasi mohon loket dibuka hari Sabtu"))
    suggestion = (await replies(notify_pool))[-1]
    assert "Aspirasi Anda" in suggestion and "P12345678X" in suggestion
    await bot.handle(notify_pool, inbound(sender, "Tanya berapa anggaran pelayanan MPP 2026?"))
    question = (await replies(notify_pool))[-1]
    assert "Permintaan informasi Anda" in question and "10 hari kerja" in question
    await bot.handle(notify_pool, inbound(sender, "informasi pendek"))
    assert "setelah kata *tanya*" in (await replies(notify_pool))[-1]  # too short: how to ask
    sent = [(body["kind"], body["description"]) for body, _ in services.complaints]
    assert sent == [
        ("aspirasi", "mohon loket dibuka hari Sabtu"),
        ("permintaan_informasi", "berapa anggaran pelayanan MPP 2026?"),
    ]
    assert all("publication_consent" not in body for body, _ in services.complaints)


async def test_a_service_that_does_not_answer_gets_try_again(
    notify_pool: asyncpg.Pool, services: Services
) -> None:
    bot = assistant(services)
    services.down = True
    await bot.handle(notify_pool, inbound(make_phone("0813").e164, "halo"))
    assert "coba lagi sebentar" in (await replies(notify_pool))[-1]


async def test_per_sender_limits(notify_pool: asyncpg.Pool, services: Services) -> None:
    bot = assistant(services, assistant_messages_per_hour=3, assistant_complaints_per_day=1)
    sender = make_phone("0814").e164
    await bot.handle(notify_pool, inbound(sender, "pengaduan petugas tidak ramah sekali"))
    await bot.handle(notify_pool, inbound(sender, "pengaduan lagi, antrean terlalu panjang"))
    assert len(services.complaints) == 1
    assert "beberapa pengaduan" in (await replies(notify_pool))[-1]
    await bot.handle(notify_pool, inbound(sender, "halo"))
    await bot.handle(notify_pool, inbound(sender, "halo lagi"))  # the 4th in the hour
    assert len(await replies(notify_pool)) == 3
    assert await notify_pool.fetchval("SELECT count(*) FROM wa_inbound_messages") == 4


async def test_the_conversation_forgets_its_menu_after_the_idle_timeout(
    notify_pool: asyncpg.Pool, services: Services
) -> None:
    bot = assistant(services)
    sender = make_phone("0815").e164
    await bot.handle(notify_pool, inbound(sender, "halo"))
    await notify_pool.execute(
        "UPDATE wa_conversations SET updated_at = now() - interval '2 hours', "
        'menu = \'["kia", "ktp_el"]\''
    )
    await bot.handle(notify_pool, inbound(sender, "1"))  # the current catalog's 1, not the old
    assert "*KTP-el*" in (await replies(notify_pool))[-1]
