"""E-mail through an SMTP relay (provider "smtp"), with aiosmtplib.

Each notification is one UTF-8 plain-text message whose `Message-ID` is made
from the notification id, so a message sent again after an unclear failure
(the connection dropped after DATA) carries the same Message-ID and mail
systems can recognise the repeat. SMTP 4xx replies and connection trouble
are transient; 5xx replies are refusals of this message (unknown mailbox,
rejected sender or content).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from mpp_notify.channels.base import (
    ChannelName,
    DeliveryError,
    OutgoingMessage,
    Provider,
    SendResult,
)

DEFAULT_SUBJECTS = {"id": "Informasi layanan MPP", "en": "MPP service information"}


def message_id(message: OutgoingMessage) -> str:
    return f"<{message.id}@mpp.notify>"


class SmtpEmail:
    name: ChannelName = "email"
    provider: Provider = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        starttls: bool,
        use_tls: bool,
        sender: str,
        timeout: float,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        # Implicit TLS (port 465) and STARTTLS exclude each other; TLS from the start wins.
        self.use_tls = use_tls
        self.starttls = starttls and not use_tls
        self.sender = sender
        self.timeout = timeout

    def build(self, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject or DEFAULT_SUBJECTS.get(
            message.language, DEFAULT_SUBJECTS["id"]
        )
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = message_id(message)
        mail.set_content(message.body, charset="utf-8")
        # After set_content, which drops every Content-* header set before it.
        mail["Content-Language"] = message.language
        return mail

    async def send(self, message: OutgoingMessage) -> SendResult:
        mail = self.build(message)
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password if self.username else None,
                use_tls=self.use_tls,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            said = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise DeliveryError(
                f"SMTP server refused the recipient: {said}"[:300],
                # A 4xx refusal (greylisting, mailbox busy) may pass later.
                transient=any(_is_temporary(code) for code in codes) or not codes,
                status_code=codes[0] if codes else None,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP server answered {exc.code}: {exc.message}"[:300],
                transient=not _is_permanent(exc.code),
                status_code=exc.code,
            ) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            # The relay lacks what the settings demand (STARTTLS, AUTH): our set-up, not
            # a passing condition.
            raise DeliveryError(
                f"SMTP server does not support what the settings require: {exc}"[:300],
                transient=False,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Timeouts, refused or dropped connections (SMTPConnectError,
            # SMTPServerDisconnected and SMTPTimeoutError are OSErrors too).
            raise DeliveryError(
                f"SMTP server unreachable: {type(exc).__name__}: {exc}"[:300],
                transient=True,
            ) from exc
        return SendResult(self.provider, message_id(message), 250)

    async def aclose(self) -> None:
        # One connection per message: nothing is held open between sends.
        return None


def _is_temporary(code: int) -> bool:
    return 400 <= code < 500


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600
