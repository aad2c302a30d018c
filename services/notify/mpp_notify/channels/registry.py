"""Which client serves each channel, chosen from the settings: the real
provider where it is configured, else the recording stand-in (`LogChannel`).

Each HTTP channel keeps its own `httpx.AsyncClient` (the SMS gateway and the
Cloud API are different hosts, so a shared pool would share nothing) and
closes it in `aclose`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

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


async def close_channels(channels: Mapping[str, Channel]) -> None:
    """Close every client; one failing to close does not keep the others open."""
    results = await asyncio.gather(
        *(channel.aclose() for channel in channels.values()), return_exceptions=True
    )
    for name, result in zip(channels, results, strict=True):
        if isinstance(result, BaseException):
            log.warning("closing the %s channel failed: %r", name, result)
