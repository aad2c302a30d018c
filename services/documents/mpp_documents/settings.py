"""The documents service's settings, read from the environment: SLA clocks,
the register's office, the pickup window and its reminders."""

from __future__ import annotations

from pydantic import Field, model_validator

from mpp_shared.settings import ServiceSettings


def reminder_days(text: str, window_days: int) -> tuple[int, ...]:
    """The reminder days of setting `pickup_reminder_days` ("3,7"), in order.

    Empty means no reminders. Each entry is a whole number of days after the
    document became ready, at least 1 and before the window's end; a repeated
    day is refused. Raises ValueError naming the setting and the bad entry.
    """
    if window_days < 1:
        raise ValueError(f"PICKUP_WINDOW_DAYS must be at least 1 day, got {window_days}")
    if not text.strip():
        return ()
    days: list[int] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry.isdecimal():
            raise ValueError(
                f"PICKUP_REMINDER_DAYS: {entry!r} is not a whole number of days; "
                f'expected days after the document is ready, e.g. "3,7"'
            )
        day = int(entry)
        if day < 1:
            raise ValueError(
                "PICKUP_REMINDER_DAYS: day 0 is the day the document became ready "
                "(the ready_for_pickup message); reminders start at day 1"
            )
        if day >= window_days:
            raise ValueError(
                f"PICKUP_REMINDER_DAYS: day {day} is not before the end of the pickup "
                f"window (PICKUP_WINDOW_DAYS={window_days}); a reminder must come before it"
            )
        if day in days:
            raise ValueError(f"PICKUP_REMINDER_DAYS: day {day} is given twice")
        days.append(day)
    return tuple(sorted(days))


class DocumentsSettings(ServiceSettings):
    service_name: str = "documents"
    port: int = 8002

    # SLA clocks: warn when this share of a job's time is used; the scheduler
    # sleeps until the next clock comes due, but never longer than the interval
    # (seconds), so a clock started by another instance fires at most this late.
    sla_warning_share: float = 0.75
    sla_scheduler_interval: float = 5.0
    # How often the report counts' deltas are folded into their daily rows
    # (seconds; mpp_documents.store.report_counts). Reports are exact at any
    # moment: they add the deltas not folded yet.
    report_counts_interval: float = Field(default=30.0, gt=0)
    # Issuing office in document numbers (Disdukcapil Kabupaten Kediri = 3506).
    register_office: str = "3506"

    # Pickup window: a document ready for longer than this many days is overdue
    # to collect (the pickup board counts it) and `document.uncollected` is
    # emitted (mpp_documents/usecases/pickup_window.py).
    pickup_window_days: int = 14
    # Reminders to collect: calendar days after the document became ready,
    # comma-separated, each before the window's end; empty for none. The
    # pickup window scheduler wakes like the SLA one (sla_scheduler_interval).
    pickup_reminder_days: str = "3,7"

    # The waiting room's board page (/board/<point>) reloads itself this often
    # (seconds), without JavaScript.
    board_refresh_seconds: int = Field(default=30, ge=5, le=600)
    # Days a production job keeps its holder's NIK check, masked names, the
    # representative's data and free-text notes after it ended (picked up,
    # cancelled, or its pickup window ended uncollected); then the retention
    # job erases them (mpp_documents/store/retention.py).
    retention_document_jobs_days: int = Field(default=365, ge=1)

    @model_validator(mode="after")
    def _check_pickup_window(self) -> DocumentsSettings:
        reminder_days(self.pickup_reminder_days, self.pickup_window_days)
        return self

    @property
    def pickup_reminders(self) -> tuple[int, ...]:
        """`pickup_reminder_days` as days, in order."""
        return reminder_days(self.pickup_reminder_days, self.pickup_window_days)
