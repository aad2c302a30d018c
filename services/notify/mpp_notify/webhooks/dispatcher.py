"""(placeholder, being written)"""

from __future__ import annotations

from mpp_notify.settings import NotifySettings
from mpp_shared.pii import FieldCipher
from mpp_shared.service import Runtime


class WebhookDispatcher:
    def __init__(self, settings: NotifySettings, cipher: FieldCipher) -> None:
        self.settings = settings
        self.cipher = cipher

    def wake(self) -> None:
        pass

    async def run(self, runtime: Runtime) -> None:
        pass
