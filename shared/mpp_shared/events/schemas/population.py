"""Events of `mpp.population`, published by intake: a desa's report of a
birth, a death or a move (with the documents the family now needs), a report
not followed up in time (for the kecamatan), and the monthly figures a
kecamatan sent up to the regency. Never a NIK, a name or a KK number."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from mpp_shared.events.envelope import EventData
from mpp_shared.events.topics import Topic

PopulationKind = Literal["birth", "death", "move_in", "move_out"]


class PopulationEvent(EventData):
    """Fields every population event starts with (the base itself is not published)."""

    topic = Topic.POPULATION

    kecamatan_code: str


class PopulationReportedV1(PopulationEvent):
    """A desa reported a birth, a death or a move; `services` are the documents
    the family now needs, one outreach entry each (`entry_ids`, same order)."""

    event_type = "mpp.population.reported.v1"

    report_id: uuid.UUID
    kind: PopulationKind
    desa_code: str
    occurred_on: date
    services: list[str]
    entry_ids: list[uuid.UUID]
    reported_at: datetime


class PopulationFollowUpOverdueV1(PopulationEvent):
    """A report was not followed up by its due moment: for the kecamatan's
    supervisor, once per report."""

    event_type = "mpp.population.follow_up_overdue.v1"

    report_id: uuid.UUID
    kind: PopulationKind
    desa_code: str
    due_at: datetime
    escalated_at: datetime


class PeriodFigures(BaseModel):
    """The counts of one desa and kind in a period report."""

    desa_code: str
    kind: PopulationKind
    reported: int
    followed_up: int
    applied: int
    overdue: int
    escalated: int


class PopulationPeriodReportedV1(PopulationEvent):
    """A kecamatan sent a month's figures up to the regency, frozen as sent."""

    event_type = "mpp.population.period_reported.v1"

    period_report_id: uuid.UUID
    period: str
    figures: list[PeriodFigures]
    sent_at: datetime
