"""Documents service: production jobs, SLA clocks, pickup handover."""

from pathlib import Path

from fastapi import FastAPI

from mpp_documents.api.routes import jobs
from mpp_documents.handlers import HANDLERS
from mpp_documents.settings import DocumentsSettings
from mpp_shared.events.topics import Topic
from mpp_shared.service import ConsumerSpec, create_service_app


def create_app(settings: DocumentsSettings | None = None) -> FastAPI:
    settings = settings or DocumentsSettings()
    return create_service_app(
        settings=settings,
        title="MPP documents",
        description="Production of verified applications and handover at the pickup point.",
        migrations_dir=Path(__file__).parent / "migrations",
        routers=[jobs.router],
        consumers=[ConsumerSpec(topics=[Topic.APPLICATIONS], handlers=HANDLERS)],
    )


app = create_app()
