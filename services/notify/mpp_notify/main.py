"""Notify service: templates, channels, delivery log, OPD subscriptions."""

from pathlib import Path

from fastapi import FastAPI

from mpp_notify.api.routes import (
    contract,
    notifications,
    personal_data,
    subscriptions,
    templates,
    whatsapp,
)
from mpp_notify.assistant.clients import ServiceClients
from mpp_notify.channels.registry import (
    build_channels,
    channel_status,
    close_channels,
    observe_channels,
)
from mpp_notify.delivery.dispatcher import MessageDispatcher
from mpp_notify.handlers import CONSUMED_TOPICS, Notifier
from mpp_notify.settings import NotifySettings
from mpp_notify.store.metrics import GAUGES
from mpp_notify.usecases import personal_data_erasure
from mpp_notify.usecases.whatsapp_assistant import Assistant
from mpp_notify.webhooks.dispatcher import WebhookDispatcher
from mpp_shared.pii import cipher_from_settings
from mpp_shared.runtime import ConsumerSpec, Runtime
from mpp_shared.service import create_service_app


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    cipher = cipher_from_settings(settings)
    channels = build_channels(settings)
    observe_channels(channels)
    messages = MessageDispatcher(settings, cipher, channels)
    webhooks = WebhookDispatcher(settings, cipher)
    notifier = Notifier(
        settings,
        cipher,
        channels,
        on_message_queued=messages.wake,
        on_webhook_queued=webhooks.wake,
    )

    async def message_dispatcher(runtime: Runtime) -> None:
        try:
            await messages.run(runtime)
        finally:
            await close_channels(channels)

    async def webhook_dispatcher(runtime: Runtime) -> None:
        await webhooks.run(runtime)

    app = create_service_app(
        settings=settings,
        title="MPP notify",
        description=(
            "Messages to citizens for every step (SMS, WhatsApp, e-mail), the delivery log, "
            "message templates, signed webhooks for other OPD systems and the event contract."
        ),
        migrations_dir=Path(__file__).parent / "migrations",
        gauges=GAUGES,
        readiness_info={"channels": channel_status(channels)},
        routers=[
            notifications.router,
            templates.router,
            subscriptions.router,
            contract.router,
            whatsapp.router,
            personal_data.router,
        ],
        consumers=[ConsumerSpec(topics=list(CONSUMED_TOPICS), handlers=notifier.handlers)],
        background=[
            message_dispatcher,
            webhook_dispatcher,
            personal_data_erasure.retention_job(settings),
        ],
    )
    app.state.cipher = cipher
    app.state.notify_settings = settings
    app.state.message_dispatcher = messages
    app.state.webhook_dispatcher = webhooks
    app.state.whatsapp_assistant = Assistant(
        settings,
        cipher,
        ServiceClients(
            intake_url=settings.intake_internal_url,
            complaints_url=settings.complaints_internal_url,
            timeout=settings.internal_http_timeout,
            channel_token_key=settings.channel_token_private_key,
        ),
        provider=channels["whatsapp"].provider,
        on_queued=messages.wake,
    )
    return app


app = create_app()
