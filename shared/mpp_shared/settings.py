"""Settings base read from the environment (one subclass per service)."""

from __future__ import annotations

import base64
import hashlib
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development defaults are derived from fixed words so that a fresh clone runs
# without any configuration. They are refused outside development.
DEV_JWT_SECRET = "development-only-jwt-secret-do-not-use-in-production"


def _dev_key(label: str) -> str:
    return base64.b64encode(hashlib.sha256(f"mpp-development:{label}".encode()).digest()).decode()


def _dev_x25519_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    raw = hashlib.sha256(b"mpp-development:notify-seal").digest()
    private = X25519PrivateKey.from_private_bytes(raw)
    public = private.public_key().public_bytes_raw()
    return base64.b64encode(raw).decode(), base64.b64encode(public).decode()


DEV_PII_ENCRYPTION_KEY = _dev_key("pii-encryption")
DEV_PII_INDEX_KEY = _dev_key("pii-index")
DEV_SEAL_PRIVATE_KEY, DEV_SEAL_PUBLIC_KEY = _dev_x25519_pair()
PLACEHOLDERS = {
    DEV_JWT_SECRET,
    DEV_PII_ENCRYPTION_KEY,
    DEV_PII_INDEX_KEY,
    DEV_SEAL_PRIVATE_KEY,
    DEV_SEAL_PUBLIC_KEY,
    "",
    "changeme",
    "change-me",
}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    service_name: str = "mpp"
    mpp_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    database_pool_min: int = 2
    database_pool_max: int = 10
    database_command_timeout: float = 5.0

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Apache Kafka supports idempotent producers; the embedded Tansu broker does not.
    kafka_enable_idempotence: bool = False
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    # How the clients reach an authenticated cluster (Strimzi's SCRAM listener:
    # SASL_SSL, SCRAM-SHA-512, the user's name and password, the cluster's CA).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None

    outbox_poll_interval: float = 0.5
    outbox_batch_size: int = 500
    # After a wake-up, wait this long so rows committing together go out in
    # one round trip instead of one each.
    outbox_linger: float = 0.005
    outbox_retention_hours: float = 72.0
    outbox_amnesia_check_interval: float = 5.0

    consumer_max_attempts: int = 5
    consumer_retry_backoff: float = 0.2
    # How long the group waits for members to rejoin; Tansu joins take about
    # this plus 1 s, so the embedded stack runs with a short one.
    consumer_rebalance_timeout_ms: int = 10_000
    consumer_session_timeout_ms: int = 10_000

    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "mpp"
    pii_encryption_key: str = DEV_PII_ENCRYPTION_KEY
    pii_index_key: str = DEV_PII_INDEX_KEY
    notify_seal_public_key: str = DEV_SEAL_PUBLIC_KEY

    # Days the offices are closed beyond national holidays: cuti bersama and
    # local days off, as ISO dates separated by commas ("2026-12-24,2026-12-26").
    calendar_days_off: str = ""
    # Count the government's cuti bersama (as the `holidays` package lists them) as days off.
    calendar_cuti_bersama: bool = True

    # How often the gauges read from the database are read again (seconds).
    metrics_refresh_interval: float = 15.0

    # What citizens see: the office's name on every public page and receipt,
    # and where each service's public pages are reached from outside (the
    # QR code on a receipt opens PUBLIC_INTAKE_URL/track/<code>; the one
    # printed with a document opens PUBLIC_DOCUMENTS_URL/verify/<code>).
    office_name: str = "Mal Pelayanan Publik"
    public_intake_url: str = "http://127.0.0.1:8001"
    public_documents_url: str = "http://127.0.0.1:8002"
    public_complaints_url: str = "http://127.0.0.1:8003"

    log_level: str = "INFO"
    log_file: str | None = Field(default=None)

    # Tests only: a file holding how many seconds the service's clock runs
    # ahead of the machine's (mpp_shared.clock). Refused in production.
    clock_file: str | None = None

    @model_validator(mode="after")
    def _kafka_login_complete(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.mpp_env == "production":
            if self.clock_file:
                raise ValueError(
                    "CLOCK_FILE moves the service's clock for tests and is refused "
                    "when MPP_ENV=production"
                )
            for name in self._secret_fields():
                if getattr(self, name) in PLACEHOLDERS:
                    raise ValueError(
                        f"{name.upper()} must be set to a real secret when MPP_ENV=production"
                    )
        return self

    def _secret_fields(self) -> list[str]:
        return ["jwt_secret", "pii_encryption_key", "pii_index_key", "notify_seal_public_key"]
