from mpp_shared.settings import ServiceSettings


class DocumentsSettings(ServiceSettings):
    service_name: str = "documents"
    port: int = 8002

    # SLA clocks: warn when this share of a job's time is used; the scheduler
    # sleeps until the next clock comes due, but never longer than the interval
    # (seconds), so a clock started by another instance fires at most this late.
    sla_warning_share: float = 0.75
    sla_scheduler_interval: float = 5.0
    # Issuing office in document numbers (Disdukcapil Kabupaten Kediri = 3506).
    register_office: str = "3506"
