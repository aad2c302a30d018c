from pydantic import Field, model_validator

from mpp_complaints.domain.kinds import InformationClock
from mpp_shared.settings import DEV_CHANNEL_TOKEN_PUBLIC_KEY, PLACEHOLDERS, ServiceSettings

# Accepted only outside production, so that a fresh clone can try the Open311 facade.
DEV_OPEN311_KEY = "dev-open311-key"


class ComplaintsSettings(ServiceSettings):
    service_name: str = "complaints"
    port: int = 8003

    # Identity provider — notify's Ed25519 public key
    # (base64), verifying its short-lived `channel` tokens (audience
    # mpp-complaints). Complaints can verify them, never mint one.
    channel_token_public_key: str = DEV_CHANNEL_TOKEN_PUBLIC_KEY

    def _secret_fields(self) -> list[str]:
        return [*super()._secret_fields(), "channel_token_public_key"]

    # The reporter may reopen a responded complaint within this many working
    # days after the response (SP4N-LAPOR! default 10; a category's auto-close
    # deadline, 10 by default, closes it when nobody replies).
    reopen_window_days: int = 10
    # A request for information (UU 14/2008) is answered within this many
    # working days after filing; an officer may extend that once, with a
    # reason given to the requester, by INFORMATION_EXTENSION_DAYS.
    information_answer_days: int = Field(default=10, ge=1, le=60)
    information_extension_days: int = Field(default=7, ge=1, le=60)
    # The deadline scheduler sleeps until the next deadline, never longer than this (seconds).
    complaint_scheduler_interval: float = 5.0
    # How often the work queue's kept counts per status take in their deltas
    # (seconds; mpp_complaints.store.queue_counts). The queue's counts are
    # exact at any moment: it adds the deltas not folded yet.
    queue_counts_interval: float = Field(default=30.0, gt=0)

    # Keys of the systems allowed to file through the Open311 GeoReport v2
    # facade (POST /open311/v2/requests.json), separated by commas.
    open311_api_keys: str = DEV_OPEN311_KEY

    # Public filing (POST /v1/complaints, Open311 POST requests.json): tokens per
    # minute per client address (and api_key), burst = rate; 0 turns it off.
    # Kept in PostgreSQL: every replica counts against the same limit
    # (mpp_complaints.api.ratelimit, mpp_shared.ratelimit).
    complaint_rate_per_minute: int = Field(default=60, ge=0)
    # Looking a complaint up by its code (GET /v1/complaint-status/{code} and
    # the status page): tokens per minute per client address, its own bucket
    # (reading never uses up filing); 0 turns it off. Shared, like the above.
    complaint_status_rate_per_minute: int = Field(default=120, ge=0)
    # Days a complaint keeps its reporter's contact, description and free-text
    # answers after it was closed (or rejected); then the retention job erases
    # them (mpp_complaints/store/retention.py).
    retention_complaints_days: int = Field(default=365, ge=1)

    @model_validator(mode="after")
    def _refuse_dev_open311_key(self) -> "ComplaintsSettings":
        keys = self.open311_keys()
        placeholders = {DEV_OPEN311_KEY, *PLACEHOLDERS}
        if self.mpp_env == "production" and (not keys or keys & placeholders):
            raise ValueError("OPEN311_API_KEYS must be set to real keys when MPP_ENV=production")
        return self

    def information_clock(self) -> InformationClock:
        return InformationClock(self.information_answer_days, self.information_extension_days)

    def open311_keys(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.open311_api_keys.split(",") if k.strip())
