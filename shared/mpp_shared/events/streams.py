"""What each topic carries, who writes it and how its records are keyed, as
the event contract tells outsiders."""

from __future__ import annotations

from dataclasses import dataclass

from mpp_shared.events.topics import Topic


@dataclass(frozen=True)
class Stream:
    """What a topic carries, who writes it and how its messages are keyed."""

    producer: str
    summary: str
    subject_field: str
    subject: str
    key: str


STREAMS: dict[str, Stream] = {
    Topic.APPLICATIONS: Stream(
        producer="intake",
        summary="Applications taken at the MPP and kecamatan / desa counters, and their "
        "verification.",
        subject_field="application_id",
        subject="the application id",
        key="the application id, so one request's events stay in order",
    ),
    Topic.DOCUMENTS: Stream(
        producer="documents",
        summary="Production jobs of the requested documents, up to the handover at the "
        "pickup point.",
        subject_field="job_id",
        subject="the production job id",
        key="the application id the job belongs to, so one request's events stay in order",
    ),
    Topic.SLA: Stream(
        producer="documents",
        summary="SLA clocks: a warning when most of the time is used, a breach when the due "
        "moment passed with the work still open.",
        subject_field="subject_id",
        subject="the id of the timed work (`subject_id`: the job)",
        key="the id of the timed work (`subject_id`)",
    ),
    Topic.COMPLAINTS: Stream(
        producer="complaints",
        summary="Reports of three kinds (aspirasi, pengaduan, permintaan_informasi): filing, "
        "verification, assignment to an OPD, response, closing, reopening, escalation and the "
        "extension of a request for information's deadline.",
        subject_field="complaint_id",
        subject="the complaint id",
        key="the complaint id, so one complaint's events stay in order",
    ),
    Topic.NOTIFICATIONS: Stream(
        producer="notify",
        summary="What notify sent to citizens and officers, with masked recipients only.",
        subject_field="notification_id",
        subject="the notification id",
        key="the application or complaint id the message was about",
    ),
    Topic.CITIZEN: Stream(
        producer="intake",
        summary="Residents' access to the online application: one-time sign-in codes, sealed "
        "for notify, which sends them.",
        subject_field="request_id",
        subject="the code request id",
        key="the code request id",
    ),
    Topic.POPULATION: Stream(
        producer="intake",
        summary="The village's reports of births, deaths and moves (the documents each "
        "family now needs), reports not followed up in time, and the monthly figures each "
        "kecamatan sends up to the regency. No NIK, name or family card number.",
        subject_field="report_id",
        subject="the report id (`period_report_id` for a period report)",
        key="the desa code, so one village's reports stay in order (the kecamatan code for "
        "a period report)",
    ),
}


def stream_of(topic: str) -> Stream:
    """The stream description of `topic`; a topic added without one still gets a plain entry."""
    return STREAMS.get(
        topic,
        Stream(
            producer="mpp",
            summary=f"Events of {topic}.",
            subject_field="",
            subject="the aggregate id",
            key="the aggregate id, so one aggregate's events stay in order",
        ),
    )
