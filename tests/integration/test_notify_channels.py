"""The notify channel clients against real loopback servers: an HTTP server
standing in for the SMS gateway and for the WhatsApp Cloud API
(pytest-httpserver), and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from pytest_httpserver import HTTPServer

from mpp_notify.channels.base import DeliveryError, OutgoingMessage
from mpp_notify.channels.email import SmtpEmail
from mpp_notify.channels.log import LogChannel
from mpp_notify.channels.registry import build_channels, close_channels
from mpp_notify.channels.sms import SmsGateway
from mpp_notify.channels.whatsapp import WhatsAppCloud
from mpp_notify.settings import NotifySettings

PHONE = "+6281234567890"
BODY_ID = "KTP-el Anda sudah siap diambil di loket 3 — MPP Kabupaten Kediri. Terima kasih 🙏"
FAST = 2.0  # seconds: generous for loopback, short enough to keep failures quick


def message(channel: str, address: str = PHONE, **changes: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "channel": channel,
        "address": address,
        "language": "id",
        "subject": None,
        "body": BODY_ID,
    }
    values.update(changes)
    return OutgoingMessage(**values)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """An HTTP endpoint that accepts the connection and never answers."""
    release = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/send"
    release.set()
    server.close()
    await server.wait_closed()


async def expect_failure(coro: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await coro
    return caught.value


# --- SMS gateway


@pytest.fixture
def sms_server(httpserver_ipv4: HTTPServer) -> HTTPServer:
    return httpserver_ipv4


async def test_sms_request_shape_and_gateway_id(sms_server: HTTPServer) -> None:
    msg = message("sms")
    sms_server.expect_oneshot_request(
        "/api/sms",
        method="POST",
        headers={"Authorization": "Bearer s3cret", "Idempotency-Key": str(msg.id)},
        json={"to": PHONE, "from": "MPPKEDIRI", "text": BODY_ID, "reference": str(msg.id)},
    ).respond_with_json({"status": "queued", "message_id": "gw-777"}, status=201)
    channel = SmsGateway(sms_server.url_for("/api/sms"), "s3cret", "MPPKEDIRI", FAST)
    try:
        result = await channel.send(msg)
    finally:
        await channel.aclose()

    assert (result.provider, result.provider_message_id, result.status_code) == (
        "sms_gateway",
        "gw-777",
        201,
    )
    sms_server.check_assertions()
    [(request, _)] = sms_server.log
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.get_data())["text"] == BODY_ID


async def test_sms_without_token_sends_no_authorization_and_reads_plain_id(
    sms_server: HTTPServer,
) -> None:
    sms_server.expect_oneshot_request("/sms", method="POST").respond_with_json({"id": 4242})
    channel = SmsGateway(sms_server.url_for("/sms"), "", "MPPKEDIRI", FAST)
    try:
        result = await channel.send(message("sms"))
    finally:
        await channel.aclose()
    assert result.provider_message_id == "4242"
    [(request, _)] = sms_server.log
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("status", "headers", "transient", "retry_after"),
    [
        (500, {}, True, None),
        (503, {"Retry-After": "7"}, True, 7.0),
        (429, {"Retry-After": "30"}, True, 30.0),
        (400, {}, False, None),
        (401, {}, False, None),
    ],
)
async def test_sms_error_answers_are_classified(
    sms_server: HTTPServer,
    status: int,
    headers: dict[str, str],
    transient: bool,
    retry_after: float | None,
) -> None:
    sms_server.expect_oneshot_request("/sms").respond_with_data(
        "invalid destination number " + "x" * 500, status=status, headers=headers
    )
    channel = SmsGateway(sms_server.url_for("/sms"), "t", "MPPKEDIRI", FAST)
    try:
        failure = await expect_failure(channel.send(message("sms")))
    finally:
        await channel.aclose()
    assert failure.transient is transient
    assert failure.status_code == status
    assert failure.retry_after == retry_after
    assert "invalid destination number" in failure.detail
    assert str(status) in failure.detail
    assert len(failure.detail) < 300  # the body is cut short


async def test_sms_gateway_down_is_transient() -> None:
    channel = SmsGateway(f"http://127.0.0.1:{closed_port()}/sms", "t", "MPPKEDIRI", FAST)
    try:
        failure = await expect_failure(channel.send(message("sms")))
    finally:
        await channel.aclose()
    assert failure.transient
    assert "unreachable" in failure.detail


async def test_sms_gateway_too_slow_is_transient(silent_server: str) -> None:
    channel = SmsGateway(silent_server, "t", "MPPKEDIRI", 0.2)
    started = asyncio.get_running_loop().time()
    try:
        failure = await expect_failure(channel.send(message("sms")))
    finally:
        await channel.aclose()
    assert failure.transient
    assert "did not answer within 0.2 s" in failure.detail
    assert asyncio.get_running_loop().time() - started < 1.5


async def test_sms_refuses_a_number_that_is_not_e164(sms_server: HTTPServer) -> None:
    channel = SmsGateway(sms_server.url_for("/sms"), "t", "MPPKEDIRI", FAST)
    try:
        failure = await expect_failure(channel.send(message("sms", address="081234567890")))
    finally:
        await channel.aclose()
    assert not failure.transient
    assert sms_server.log == []


# --- WhatsApp Cloud API


def graph_error(code: int, message_text: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message_text,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def whatsapp(server: HTTPServer, timeout: float = FAST) -> WhatsAppCloud:
    return WhatsAppCloud(server.url_for("/v21.0/"), "1098765432", "EAAG-token", timeout)


async def test_whatsapp_request_shape_and_wamid(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_oneshot_request(
        "/v21.0/1098765432/messages",
        method="POST",
        headers={"Authorization": "Bearer EAAG-token"},
        json={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "6281234567890",
            "type": "text",
            "text": {"preview_url": False, "body": BODY_ID},
        },
    ).respond_with_json(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "6281234567890", "wa_id": "6281234567890"}],
            "messages": [{"id": "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ1"}],
        }
    )
    channel = whatsapp(httpserver_ipv4)
    try:
        result = await channel.send(message("whatsapp"))
    finally:
        await channel.aclose()
    httpserver_ipv4.check_assertions()
    assert result.provider == "whatsapp_cloud"
    assert result.provider_message_id == "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ1"
    assert result.status_code == 200


@pytest.mark.parametrize(
    ("status", "code", "headers", "transient"),
    [
        (400, 131026, {}, False),  # message undeliverable (not on WhatsApp, old app)
        (400, 100, {}, False),  # invalid parameter
        (400, 130429, {}, True),  # throughput limit
        (400, 131056, {}, True),  # pair rate limit
        (400, 80007, {}, True),  # WABA rate limit
        (429, 4, {"Retry-After": "12"}, True),  # app rate limit
        (500, 2, {}, True),  # temporary downtime
        (503, 131016, {}, True),  # service unavailable
    ],
)
async def test_whatsapp_graph_errors_are_classified(
    httpserver_ipv4: HTTPServer,
    status: int,
    code: int,
    headers: dict[str, str],
    transient: bool,
) -> None:
    httpserver_ipv4.expect_oneshot_request("/v21.0/1098765432/messages").respond_with_json(
        graph_error(code, f"(#{code}) refusal explained", subcode=2494010),
        status=status,
        headers=headers,
    )
    channel = whatsapp(httpserver_ipv4)
    try:
        failure = await expect_failure(channel.send(message("whatsapp")))
    finally:
        await channel.aclose()
    assert failure.transient is transient
    assert failure.status_code == status
    assert f"Graph error {code}/2494010" in failure.detail
    assert "refusal explained" in failure.detail
    assert "AbCdEf123" in failure.detail
    assert failure.retry_after == (12.0 if headers else None)


async def test_whatsapp_error_without_graph_body(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_oneshot_request("/v21.0/1098765432/messages").respond_with_data(
        "<html>Bad Gateway</html>", status=502
    )
    channel = whatsapp(httpserver_ipv4)
    try:
        failure = await expect_failure(channel.send(message("whatsapp")))
    finally:
        await channel.aclose()
    assert failure.transient
    assert failure.status_code == 502
    assert "Bad Gateway" in failure.detail


async def test_whatsapp_unreachable_and_slow_are_transient(silent_server: str) -> None:
    down = WhatsAppCloud(f"http://127.0.0.1:{closed_port()}/v21.0", "1", "t", FAST)
    slow = WhatsAppCloud(silent_server, "1", "t", 0.2)
    try:
        refused = await expect_failure(down.send(message("whatsapp")))
        timed_out = await expect_failure(slow.send(message("whatsapp")))
    finally:
        await close_channels({"a": down, "b": slow})
    assert refused.transient and "unreachable" in refused.detail
    assert timed_out.transient and "did not answer" in timed_out.detail


# --- SMTP


@dataclass
class MailSink:
    """aiosmtpd handler keeping what arrives; a RCPT reply can be forced."""

    rcpt_reply: str | None = None
    data_delay: float = 0.0
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"rahasia", handled=False)


@dataclass
class SmtpServer:
    sink: MailSink
    port: int

    def channel(self, username: str = "", password: str = "", timeout: float = FAST) -> SmtpEmail:
        return SmtpEmail(
            "127.0.0.1",
            self.port,
            username,
            password,
            starttls=False,
            use_tls=False,
            sender="MPP Kabupaten Kediri <noreply@mpp.kedirikab.go.id>",
            timeout=timeout,
        )


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    sink = MailSink()
    port = closed_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=sink.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer(sink, port)
    finally:
        controller.stop()


async def test_email_arrives_with_headers_and_utf8_text(smtp_server: SmtpServer) -> None:
    msg = message(
        "email", address="warga@example.id", subject="Dokumen Anda siap — nomor 3517/2024"
    )
    channel = smtp_server.channel()
    result = await channel.send(msg)
    await channel.aclose()

    assert (result.provider, result.status_code) == ("smtp", 250)
    assert result.provider_message_id == f"<{msg.id}@mpp.notify>"
    [envelope] = smtp_server.sink.envelopes
    assert envelope.mail_from == "noreply@mpp.kedirikab.go.id"
    assert envelope.rcpt_tos == ["warga@example.id"]
    assert isinstance(envelope.content, bytes)
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["From"] == "MPP Kabupaten Kediri <noreply@mpp.kedirikab.go.id>"
    assert mail["To"] == "warga@example.id"
    assert mail["Subject"] == "Dokumen Anda siap — nomor 3517/2024"
    assert mail["Message-ID"] == f"<{msg.id}@mpp.notify>"
    assert mail["Content-Language"] == "id"
    assert mail["Date"].datetime is not None
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().strip() == BODY_ID


async def test_email_default_subject_by_language_and_stable_message_id(
    smtp_server: SmtpServer,
) -> None:
    msg_id = message("email", address="a@example.id", language="en", body="Your KTP is ready")
    channel = smtp_server.channel()
    await channel.send(msg_id)
    await channel.send(message("email", address="b@example.id", language="id"))
    await channel.send(msg_id)  # a resend after an unclear failure
    subjects, ids = [], []
    for envelope in smtp_server.sink.envelopes:
        assert isinstance(envelope.content, bytes)
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        subjects.append(mail["Subject"])
        ids.append(mail["Message-ID"])
    assert subjects == [
        "MPP service information",
        "Informasi layanan MPP",
        "MPP service information",
    ]
    assert ids[0] == ids[2] == f"<{msg_id.id}@mpp.notify>"
    assert ids[1] != ids[0]


async def test_email_logs_in_when_a_username_is_set(smtp_server: SmtpServer) -> None:
    await smtp_server.channel("mpp-relay", "rahasia").send(message("email", address="c@example.id"))
    assert smtp_server.sink.logins == [(b"mpp-relay", b"rahasia")]
    assert len(smtp_server.sink.envelopes) == 1

    failure = await expect_failure(
        smtp_server.channel("mpp-relay", "salah").send(message("email", address="c@example.id"))
    )
    assert failure.status_code == 535 and not failure.transient
    assert len(smtp_server.sink.envelopes) == 1


async def test_email_without_username_does_not_log_in(smtp_server: SmtpServer) -> None:
    await smtp_server.channel().send(message("email", address="d@example.id"))
    assert smtp_server.sink.logins == []
    assert len(smtp_server.sink.envelopes) == 1


@pytest.mark.parametrize(
    ("reply", "transient"),
    [
        ("550 5.1.1 <nobody@example.id>: Recipient address rejected: User unknown", False),
        ("451 4.3.0 Temporary lookup failure, try again later", True),
    ],
)
async def test_email_recipient_refusals_are_classified(
    smtp_server: SmtpServer, reply: str, transient: bool
) -> None:
    smtp_server.sink.rcpt_reply = reply
    failure = await expect_failure(
        smtp_server.channel().send(message("email", address="nobody@example.id"))
    )
    assert failure.transient is transient
    assert failure.status_code == int(reply[:3])
    assert reply[4:] in failure.detail
    assert smtp_server.sink.envelopes == []


async def test_email_server_down_is_transient() -> None:
    channel = SmtpEmail(
        "127.0.0.1", closed_port(), "", "", False, False, "noreply@mpp.example", FAST
    )
    failure = await expect_failure(channel.send(message("email", address="e@example.id")))
    assert failure.transient
    assert "unreachable" in failure.detail


async def test_email_server_too_slow_is_transient(smtp_server: SmtpServer) -> None:
    smtp_server.sink.data_delay = 1.0
    failure = await expect_failure(
        smtp_server.channel(timeout=0.2).send(message("email", address="f@example.id"))
    )
    assert failure.transient
    assert "Timeout" in failure.detail


# --- registry


async def test_nothing_configured_gives_log_channels() -> None:
    settings = NotifySettings(sms_gateway_url=None, whatsapp_phone_number_id=None, smtp_host=None)
    channels = build_channels(settings)
    try:
        assert set(channels) == {"sms", "whatsapp", "email"}
        for name, channel in channels.items():
            assert isinstance(channel, LogChannel)
            assert (channel.name, channel.provider) == (name, "log")
            result = await channel.send(message(name))
            assert (result.provider, result.provider_message_id) == ("log", None)
    finally:
        await close_channels(channels)


async def test_configured_providers_give_real_clients(
    httpserver_ipv4: HTTPServer, smtp_server: SmtpServer
) -> None:
    httpserver_ipv4.expect_oneshot_request("/sms", method="POST").respond_with_json(
        {"message_id": "gw-1"}
    )
    httpserver_ipv4.expect_oneshot_request(
        "/graph/55501/messages", method="POST"
    ).respond_with_json({"messages": [{"id": "wamid.X"}]})
    settings = NotifySettings(
        sms_gateway_url=httpserver_ipv4.url_for("/sms"),
        sms_gateway_token="gw-token",
        whatsapp_api_url=httpserver_ipv4.url_for("/graph"),
        whatsapp_phone_number_id="55501",
        whatsapp_access_token="wa-token",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_starttls=False,
        provider_timeout=FAST,
    )
    channels = build_channels(settings)
    try:
        assert isinstance(channels["sms"], SmsGateway)
        assert isinstance(channels["whatsapp"], WhatsAppCloud)
        assert isinstance(channels["email"], SmtpEmail)
        assert {c.provider for c in channels.values()} == {"sms_gateway", "whatsapp_cloud", "smtp"}
        sent = [
            await channels["sms"].send(message("sms")),
            await channels["whatsapp"].send(message("whatsapp")),
            await channels["email"].send(message("email", address="g@example.id")),
        ]
    finally:
        await close_channels(channels)
    assert [r.provider_message_id for r in sent[:2]] == ["gw-1", "wamid.X"]
    assert len(smtp_server.sink.envelopes) == 1
    auth = [request.headers.get("Authorization") for request, _ in httpserver_ipv4.log]
    assert auth == ["Bearer gw-token", "Bearer wa-token"]
    httpserver_ipv4.check_assertions()
