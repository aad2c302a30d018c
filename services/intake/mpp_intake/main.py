"""Intake service: catalog, applications, verification, public tracking."""

from pathlib import Path

from fastapi import FastAPI

from mpp_intake.api import population_schemas
from mpp_intake.api.catalog_schemas import CATALOG_MESSAGES
from mpp_intake.api.errors import install_intake_errors
from mpp_intake.api.routes import (
    application_files,
    applications,
    catalog,
    citizen_applications,
    citizen_signin,
    online_pages,
    outreach_entries,
    outreach_lists,
    pages,
    personal_data,
    population,
    receipts,
    tracking,
)
from mpp_intake.api.schemas import VALIDATION_MESSAGES
from mpp_intake.handlers import HANDLERS
from mpp_intake.settings import IntakeSettings
from mpp_intake.store.metrics import GAUGES
from mpp_intake.usecases import personal_data_erasure, population_deadlines
from mpp_intake.usecases.application_files import retention_task
from mpp_shared.events.topics import Topic
from mpp_shared.pii import cipher_from_settings
from mpp_shared.runtime import ConsumerSpec
from mpp_shared.service import create_service_app
from mpp_shared.web import register_messages


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    register_messages(
        {
            **VALIDATION_MESSAGES,
            **CATALOG_MESSAGES,
            **personal_data.MESSAGES,
            **population_schemas.MESSAGES,
        }
    )
    app = create_service_app(
        settings=settings,
        pages="mpp_intake",
        title="MPP intake",
        description=(
            "Service catalog, pickup points, applications for population documents "
            "(complete on the first visit) and their receipts, verification, public "
            "tracking (also as pages), outreach lists of residents who lack a document, and "
            "the village's reports of births, deaths and moves."
        ),
        migrations_dir=Path(__file__).parent / "migrations",
        gauges=GAUGES,
        routers=[
            catalog.services_router,
            catalog.points_router,
            applications.router,
            receipts.router,
            tracking.router,
            outreach_lists.router,
            outreach_entries.router,
            population.router,
            pages.router,
            citizen_signin.router,
            citizen_signin.pages_router,
            citizen_applications.router,
            application_files.router,
            online_pages.router,
            personal_data.router,
        ],
        consumers=[ConsumerSpec(topics=[Topic.DOCUMENTS], handlers=HANDLERS)],
        background=[
            retention_task(settings),
            personal_data_erasure.retention_job(settings),
            population_deadlines.scheduler_task(settings),
        ],
    )
    install_intake_errors(app)
    app.state.cipher = cipher_from_settings(settings)
    return app


app = create_app()
