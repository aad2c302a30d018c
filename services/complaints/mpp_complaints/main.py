"""Complaints service: aspirasi, pengaduan and permintaan informasi, routing
to OPD, response deadlines, published questions and answers."""

from pathlib import Path

from fastapi import FastAPI

from mpp_complaints.api.routes import (
    categories,
    channel,
    complaints,
    lifecycle,
    pages,
    personal_data,
    publication,
    question_pages,
    queue,
    reports,
    status,
)
from mpp_complaints.api.routes.open311 import requests, services
from mpp_complaints.api.schemas import VALIDATION_MESSAGES
from mpp_complaints.handlers import HANDLERS
from mpp_complaints.settings import ComplaintsSettings
from mpp_complaints.store.metrics import GAUGES
from mpp_complaints.usecases import deadlines, personal_data_erasure
from mpp_complaints.usecases import queue as work_queue
from mpp_shared.events.topics import Topic
from mpp_shared.pii import cipher_from_settings
from mpp_shared.runtime import ConsumerSpec
from mpp_shared.service import create_service_app
from mpp_shared.web import register_messages


def create_app(settings: ComplaintsSettings | None = None) -> FastAPI:
    settings = settings or ComplaintsSettings()
    register_messages(VALIDATION_MESSAGES)
    app = create_service_app(
        settings=settings,
        pages="mpp_complaints",
        title="MPP complaints",
        description="Complaints, suggestions and requests for information (SP4N-LAPOR!), "
        "routed to the responsible OPD.",
        migrations_dir=Path(__file__).parent / "migrations",
        gauges=GAUGES,
        routers=[
            queue.router,
            complaints.router,
            channel.router,
            lifecycle.router,
            status.router,
            categories.router,
            services.router,
            requests.router,
            reports.router,
            personal_data.router,
            publication.router,
            pages.router,
            question_pages.router,
        ],
        consumers=[
            ConsumerSpec(topics=[Topic.APPLICATIONS, Topic.DOCUMENTS, Topic.SLA], handlers=HANDLERS)
        ],
        background=[
            deadlines.scheduler_task(settings),
            personal_data_erasure.retention_job(settings),
            work_queue.counts_fold_task(settings.queue_counts_interval),
        ],
    )
    app.state.cipher = cipher_from_settings(settings)
    return app


app = create_app()
