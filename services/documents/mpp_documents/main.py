"""Documents service: production jobs, SLA clocks, pickup handover."""

from pathlib import Path

from fastapi import FastAPI

from mpp_documents.api.routes import (
    board,
    jobs,
    pages,
    personal_data,
    register,
    reports,
    verify,
)
from mpp_documents.api.schemas import VALIDATION_MESSAGES
from mpp_documents.handlers import make_handlers
from mpp_documents.settings import DocumentsSettings
from mpp_documents.store.metrics import GAUGES
from mpp_documents.usecases import personal_data_erasure, pickup_window, sla_clock
from mpp_documents.usecases.reports import report_counts_task
from mpp_shared.events.topics import Topic
from mpp_shared.runtime import ConsumerSpec
from mpp_shared.service import create_service_app
from mpp_shared.web import register_messages


def create_app(settings: DocumentsSettings | None = None) -> FastAPI:
    settings = settings or DocumentsSettings()
    register_messages(VALIDATION_MESSAGES)
    return create_service_app(
        settings=settings,
        pages="mpp_documents",
        title="MPP documents",
        description="Production of verified applications and handover at the pickup point.",
        migrations_dir=Path(__file__).parent / "migrations",
        gauges=GAUGES,
        routers=[
            jobs.router,
            *verify.routers,
            register.router,
            reports.router,
            board.router,
            personal_data.router,
            pages.router,
        ],
        consumers=[ConsumerSpec(topics=[Topic.APPLICATIONS], handlers=make_handlers(settings))],
        background=[
            sla_clock.scheduler_task(settings),
            pickup_window.scheduler_task(settings),
            personal_data_erasure.retention_job(settings),
            report_counts_task(settings.report_counts_interval),
        ],
    )


app = create_app()
