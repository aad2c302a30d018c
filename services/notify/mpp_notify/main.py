"""Notify service: templates, channels, delivery log, OPD subscriptions."""

from pathlib import Path

from fastapi import FastAPI

from mpp_notify.api.routes import notifications
from mpp_notify.handlers import Notifier
from mpp_notify.settings import NotifySettings
from mpp_shared.events.topics import Topic
from mpp_shared.pii import FieldCipher
from mpp_shared.service import ConsumerSpec, create_service_app


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    cipher = FieldCipher(settings.pii_encryption_key, settings.pii_index_key)
    notifier = Notifier(cipher, settings.notify_seal_private_key, settings.supervisor_email)
    app = create_service_app(
        settings=settings,
        title="MPP notify",
        description="Messages to citizens for every step, and events for other OPD systems.",
        migrations_dir=Path(__file__).parent / "migrations",
        routers=[notifications.router],
        consumers=[
            ConsumerSpec(
                topics=[Topic.APPLICATIONS, Topic.DOCUMENTS, Topic.COMPLAINTS, Topic.SLA],
                handlers=notifier.handlers,
            )
        ],
    )
    app.state.cipher = cipher
    return app


app = create_app()
