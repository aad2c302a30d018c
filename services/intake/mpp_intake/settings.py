from typing import Literal

from pydantic import Field, model_validator

from mpp_shared.settings import DEV_CITIZEN_SESSION_SECRET, ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    port: int = 8001

    # Identity provider — signs and verifies the citizen
    # session tokens (HS256, role `citizen` only, audience mpp-intake). Only
    # intake holds it, so no other service can mint a citizen session.
    citizen_session_secret: str = DEV_CITIZEN_SESSION_SECRET

    def _secret_fields(self) -> list[str]:
        return [*super()._secret_fields(), "citizen_session_secret"]

    # Citizen sign-in with a one-time code (the online application): how long
    # a code and a session live, and the rate limits (kept in PostgreSQL, so
    # every replica counts alike) per NIK, per phone and per client address.
    citizen_code_ttl_seconds: int = 300
    citizen_session_ttl_seconds: int = 1800
    citizen_code_window_seconds: int = 900
    citizen_codes_per_nik: int = 3
    citizen_codes_per_phone: int = 3
    # Generous: many phones share one address behind a carrier's NAT.
    citizen_codes_per_address: int = 30
    citizen_exchanges_per_address: int = 60

    # Uploaded papers of online applications: where they are kept (the
    # database by default; an S3-compatible bucket, e.g. MinIO, in
    # production), the size limits, and how long they stay after pickup.
    upload_storage: Literal["postgres", "s3"] = "postgres"
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_region: str = "us-east-1"
    upload_max_file_bytes: int = 5 * 1024 * 1024
    upload_max_application_bytes: int = 20 * 1024 * 1024
    upload_retention_days: int = 30

    # Personal data whose purpose is over (mpp_intake/store/retention.py):
    # days an application keeps its NIK, name and contacts after it ended
    # (rejected, picked up, cancelled, or its document left uncollected); an
    # online draft never submitted after its last change; an expired citizen
    # session or sign-in code; an outreach entry after it was closed (applied,
    # refused, moved). Uploaded papers: UPLOAD_RETENTION_DAYS above.
    retention_applications_days: int = Field(default=365, ge=1)
    retention_drafts_days: int = Field(default=30, ge=1)
    retention_citizen_sessions_days: int = Field(default=1, ge=1)
    retention_outreach_days: int = Field(default=365, ge=1)
    # A village's report of a birth, a death or a move after it was closed
    # (followed up): the KK number, the names and NIKs in it.
    retention_population_days: int = Field(default=365, ge=1)

    # The village's reports (POST /v1/population/reports): working days (on
    # the working calendar) for the desa to follow a report up before it is
    # escalated to the kecamatan, and how often the escalation looks (seconds).
    population_follow_up_days: int = Field(default=5, ge=1)
    population_scheduler_interval: float = Field(default=30.0, gt=0)

    # A resident's requests about their data (POST /v1/personal-data/requests):
    # intake asks each service for its part by a documented internal call,
    # the supervisor's token forwarded; one that does not answer within the
    # timeout is named in a partial answer.
    documents_internal_url: str = "http://127.0.0.1:8002"
    complaints_internal_url: str = "http://127.0.0.1:8003"
    notify_internal_url: str = "http://127.0.0.1:8004"
    personal_data_call_timeout: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _s3_complete(self) -> "IntakeSettings":
        if self.upload_storage != "s3":
            return self
        if not self.s3_bucket:
            raise ValueError("UPLOAD_STORAGE=s3 needs S3_BUCKET")
        if self.mpp_env == "production":
            for name in ("s3_access_key_id", "s3_secret_access_key"):
                if getattr(self, name) in S3_PLACEHOLDERS:
                    raise ValueError(
                        f"{name.upper()} must be set to a real secret when "
                        "UPLOAD_STORAGE=s3 and MPP_ENV=production"
                    )
        return self


# MinIO's out-of-the-box login and the words the examples use: refused in production.
S3_PLACEHOLDERS = {None, "", "minioadmin", "changeme", "change-me"}
