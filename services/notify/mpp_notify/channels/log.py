"""The stand-in channel (provider "log") for a channel whose provider is not
configured, as in development: it sends nothing, and the dispatcher's
delivery log is the only record of the message."""

from __future__ import annotations

import logging

from mpp_notify.channels.base import ChannelName, OutgoingMessage, Provider, SendResult

log = logging.getLogger(__name__)


class LogChannel:
    provider: Provider = "log"

    def __init__(self, name: ChannelName) -> None:
        self.name = name

    async def send(self, message: OutgoingMessage) -> SendResult:
        # The id only: addresses and texts are personal data and stay out of logs.
        log.info("%s provider not configured; notification %s only recorded", self.name, message.id)
        return SendResult(self.provider, None)

    async def aclose(self) -> None:
        return None
