"""Which client serves each channel, chosen from the settings: the real
provider where it is configured, else the recording stand-in (`LogChannel`).

Each HTTP channel keeps its own `httpx.AsyncClient` (the SMS gateway and the
Cloud API are different hosts, so a shared pool would share nothing) and
closes it in `aclose`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from opentelemetry import metrics
from opentelemetry.metrics import Meter

from mpp_notify.channels.base import Channel, ChannelName
from mpp_notify.channels.email import SmtpEmail
from mpp_notify.channels.log import LogChannel
from mpp_notify.channels.sms import SmsGateway
from mpp_notify.channels.whatsapp import WhatsAppCloud
from mpp_notify.settings import NotifySettings

CHANNEL_NAMES: tuple[ChannelName, ...] = ("sms", "whatsapp", "email")

log = logging.getLogger(__name__)


def build_channels(settings: NotifySettings) -> dict[str, Channel]:
    """One client for each of "sms", "whatsapp" and "email"."""
    channels: dict[str, Channel] = {}
    if settings.sms_gateway_url:
        channels["sms"] = SmsGateway(
            settings.sms_gateway_url,
            settings.sms_gateway_token,
            settings.sms_sender_id,
            settings.provider_timeout,
        )
    if settings.whatsapp_phone_number_id:
        channels["whatsapp"] = WhatsAppCloud(
            settings.whatsapp_api_url,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_access_token,
            settings.provider_timeout,
        )
    if settings.smtp_host:
        channels["email"] = SmtpEmail(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_starttls,
            settings.smtp_use_tls,
            settings.smtp_from,
            settings.provider_timeout,
        )
    for name in CHANNEL_NAMES:
        channels.setdefault(name, LogChannel(name))
    return channels


def channel_status(channels: Mapping[str, Channel]) -> dict[str, str]:
    """What each channel does with a message, for /health/ready: "live (<provider>)"
    or "record only" (the stand-in: nobody receives it)."""
    return {
        name: "record only" if channel.provider == "log" else f"live ({channel.provider})"
        for name, channel in channels.items()
    }


def observe_channels(channels: Mapping[str, Channel], meter: Meter | None = None) -> None:
    """The gauge `mpp.notify.channel.live`: 1 for a channel a real provider
    serves, 0 for one whose messages are only recorded."""
    observations = [
        metrics.Observation(
            0 if channel.provider == "log" else 1, {"channel": name, "provider": channel.provider}
        )
        for name, channel in channels.items()
    ]
    (meter or metrics.get_meter("mpp.notify.channels")).create_observable_gauge(
        "mpp.notify.channel.live",
        callbacks=[lambda _options: observations],
        description="1 when a real provider sends on the channel, 0 when messages are only recorded",
    )


async def close_channels(channels: Mapping[str, Channel]) -> None:
    """Close every client; one failing to close does not keep the others open."""
    results = await asyncio.gather(
        *(channel.aclose() for channel in channels.values()), return_exceptions=True
    )
    for name, result in zip(channels, results, strict=True):
        if isinstance(result, BaseException):
            log.warning("closing the %s channel failed: %r", name, result)
