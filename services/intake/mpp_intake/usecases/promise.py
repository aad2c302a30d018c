"""The promise made at the counter: when the document will be ready.

The service's SLA counted on the working calendar of the pickup point (its
opening hours, national holidays, cuti bersama and local days off).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

import asyncpg

from mpp_intake.domain.catalog import ServiceVersion
from mpp_intake.store import pickup_points
from mpp_shared.settings import ServiceSettings
from mpp_shared.workcal import OfficeHours, WorkCalendar


@lru_cache(maxsize=64)
def _calendar(hours_json: str, days_off: str, cuti_bersama: bool) -> WorkCalendar:
    hours: dict[str, Any] | None = json.loads(hours_json)
    office_hours = OfficeHours.from_mapping(hours) if hours else OfficeHours.default()
    return WorkCalendar.from_settings(
        days_off, office_hours=office_hours, cuti_bersama=cuti_bersama
    )


async def expected_ready_at(
    conn: asyncpg.Connection,
    settings: ServiceSettings,
    service: ServiceVersion,
    pickup_point: str,
    received_at: datetime,
) -> datetime:
    hours = await pickup_points.opening_hours_cached(conn, pickup_point)
    calendar = _calendar(
        json.dumps(hours, sort_keys=True),
        settings.calendar_days_off,
        settings.calendar_cuti_bersama,
    )
    if service.sla_unit == "working_hours":
        return calendar.add_working_hours(received_at, service.sla_amount)
    return calendar.add_working_days(received_at, service.sla_amount)
