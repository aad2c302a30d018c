"""Notify's request dependencies: the field cipher, what the settings decide
for a request, and the wake-up call a use case makes to a dispatcher once
its commit made work due (so it goes out now, not at the next poll)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from mpp_shared.pii import FieldCipher

Wake = Callable[[], None]


async def get_cipher(request: Request) -> FieldCipher:
    cipher: FieldCipher = request.app.state.cipher
    return cipher


async def in_production(request: Request) -> bool:
    """Production delivers webhooks over https only."""
    return bool(request.app.state.settings.mpp_env == "production")


async def retention_days(request: Request) -> int:
    """How far back (days) the event journal, and so a redelivery, reaches."""
    return int(request.app.state.settings.event_retention_days)


async def wake_webhooks(request: Request) -> Wake:
    def wake() -> None:
        # Absent when only the routes run (the webhook dispatcher not started).
        dispatcher = getattr(request.app.state, "webhook_dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake()

    return wake


async def wake_messages(request: Request) -> Wake:
    def wake() -> None:
        request.app.state.message_dispatcher.wake()

    return wake


CipherDep = Annotated[FieldCipher, Depends(get_cipher)]
InProduction = Annotated[bool, Depends(in_production)]
RetentionDays = Annotated[int, Depends(retention_days)]
WakeWebhooks = Annotated[Wake, Depends(wake_webhooks)]
WakeMessages = Annotated[Wake, Depends(wake_messages)]
