from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class JobTransition(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    to: Literal["produced", "ready_for_pickup", "picked_up"]
    pickup_point: str | None = Field(
        default=None, description="Where the document waits; needed for ready_for_pickup"
    )
    expected_version: int | None = Field(
        default=None, description="Refuse if the job changed since read"
    )


class JobPublic(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    tracking_code: str
    service_code: str
    state: str
    pickup_point: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class JobList(BaseModel):
    items: list[JobPublic]
    count: int
