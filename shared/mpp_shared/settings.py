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


# --- identity provider — development keys of the tokens
# services mint themselves (mpp_shared.auth.Purpose)
def _dev_ed25519_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = hashlib.sha256(b"mpp-development:channel-token").digest()
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    return base64.b64encode(raw).decode(), base64.b64encode(public).decode()


DEV_CITIZEN_SESSION_SECRET = _dev_key("citizen-session")
DEV_CHANNEL_TOKEN_PRIVATE_KEY, DEV_CHANNEL_TOKEN_PUBLIC_KEY = _dev_ed25519_pair()
PLACEHOLDERS = {
    DEV_JWT_SECRET,
    DEV_PII_ENCRYPTION_KEY,
    DEV_PII_INDEX_KEY,
    DEV_SEAL_PRIVATE_KEY,
    DEV_SEAL_PUBLIC_KEY,
    DEV_CITIZEN_SESSION_SECRET,
    DEV_CHANNEL_TOKEN_PRIVATE_KEY,
    DEV_CHANNEL_TOKEN_PUBLIC_KEY,
    "",
    "changeme",
    "change-me",
}


# --- tamper-evident audit — the development key signing
# the audit chain's checkpoints (mpp_shared.audit_chain), and its public key.
def _dev_audit_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = hashlib.sha256(b"mpp-development:audit-signing").digest()
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    return base64.b64encode(raw).decode(), base64.b64encode(public).decode()


DEV_AUDIT_SIGNING_KEY, DEV_AUDIT_PUBLIC_KEY = _dev_audit_pair()
PLACEHOLDERS.update({DEV_AUDIT_SIGNING_KEY, DEV_AUDIT_PUBLIC_KEY})


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
    # Handled events are remembered this long (14 days), twice the topics'
    # retention (7 days, deploy/k8s/base/kafka-topics.yaml): an event read
    # again after its inbox row is gone would take effect twice.
    inbox_retention_hours: float = Field(default=336.0, ge=1.0)

    consumer_max_attempts: int = 5
    consumer_retry_backoff: float = 0.2
    # How long the group waits for members to rejoin; Tansu joins take about
    # this plus 1 s, so the embedded stack runs with a short one.
    consumer_rebalance_timeout_ms: int = 10_000
    consumer_session_timeout_ms: int = 10_000
    # How long the broker may hold a fetch that finds nothing new. Idle
    # consumers ask this often; Tansu answers a held fetch only when the wait
    # is over, so this is also about twice the median added latency of a hop
    # on a quiet stack (50 ms: 10 ms a hop and 15 % of a core idle for the
    # stack; 200 ms: 35 ms and 7 %).
    consumer_fetch_max_wait_ms: int = 200

    # --- identity provider (mpp_shared.auth, mpp_shared.oidc).
    # Development tokens (`make token`): HS256 with JWT_SECRET, issuer
    # JWT_ISSUER; accepted outside production only (JWT_SECRET is then unused).
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "mpp"
    # The district's OpenID Connect provider (e.g. a Keycloak realm URL,
    # https://sso.kedirikab.go.id/realms/mpp): required when MPP_ENV=production.
    oidc_issuer: str | None = None
    # Its JWKS; unset: the `jwks_uri` of OIDC_ISSUER/.well-known/openid-configuration.
    oidc_jwks_url: str | None = None
    # The `aud` this service accepts; unset: "mpp-<service>" (mpp-intake, ...).
    oidc_audience: str | None = None
    # Dotted claim paths: the roles (Keycloak realm roles by default), the
    # counter/point an officer serves from, the OPD an opd_system client speaks for.
    oidc_roles_claim: str = "realm_access.roles"
    oidc_counter_claim: str = "counter"
    oidc_opd_claim: str = "opd"
    # Keys are fetched again on an unknown `kid` at most this often (seconds),
    # and in any case once the cached set is this old.
    oidc_jwks_min_refresh_seconds: float = Field(default=30.0, ge=0)
    oidc_jwks_max_age_seconds: float = Field(default=3600.0, gt=0)
    oidc_http_timeout: float = Field(default=5.0, gt=0)
    # Clock skew tolerated on `exp`/`nbf`/`iat` of every token (seconds).
    jwt_leeway_seconds: float = Field(default=30.0, ge=0, le=300)
    pii_encryption_key: str = DEV_PII_ENCRYPTION_KEY
    pii_index_key: str = DEV_PII_INDEX_KEY
    notify_seal_public_key: str = DEV_SEAL_PUBLIC_KEY

    # --- Keys that rotate (docs/ARCHITECTURE.md, "Keys that rotate").
    # Several keys by id, "2:<base64>,1:<base64>": the active one (the
    # highest id, or PII_*_KEY_ID) writes, every one reads. When set, they
    # replace PII_ENCRYPTION_KEY / PII_INDEX_KEY, which are key id 1 (the key
    # of data written before key ids: keep the old key as id 1 to rotate it).
    # After `make rotate-keys` moved every row, an old id can be dropped.
    pii_encryption_keys: str = ""
    pii_encryption_key_id: int | None = None
    pii_index_keys: str = ""
    pii_index_key_id: int | None = None
    # The id of NOTIFY_SEAL_PUBLIC_KEY's pair (written into every sealed value;
    # notify opens it with NOTIFY_SEAL_PRIVATE_KEYS' key of that id).
    notify_seal_key_id: int = Field(default=1, ge=1, le=65535)

    def pii_encryption_ring(self) -> dict[int, str]:
        from mpp_shared.pii import parse_key_ids

        if self.pii_encryption_keys.strip():
            return parse_key_ids(self.pii_encryption_keys, name="PII_ENCRYPTION_KEYS")
        return {1: self.pii_encryption_key}

    def pii_index_ring(self) -> dict[int, str]:
        from mpp_shared.pii import parse_key_ids

        if self.pii_index_keys.strip():
            return parse_key_ids(self.pii_index_keys, name="PII_INDEX_KEYS")
        return {1: self.pii_index_key}

    @model_validator(mode="after")
    def _pii_key_rings(self) -> ServiceSettings:
        from mpp_shared.pii import KeyRing

        for name, ring, active in (
            ("PII_ENCRYPTION_KEY", self.pii_encryption_ring, self.pii_encryption_key_id),
            ("PII_INDEX_KEY", self.pii_index_ring, self.pii_index_key_id),
        ):
            if getattr(self, f"{name.lower()}s").strip():
                name += "S"
            keys = ring()
            if self.mpp_env == "production" and any(k in PLACEHOLDERS for k in keys.values()):
                raise ValueError(f"{name} must be set to a real secret when MPP_ENV=production")
            try:
                KeyRing(keys, active)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        return self

    # Days the offices are closed beyond national holidays: cuti bersama and
    # local days off, as ISO dates separated by commas ("2026-12-24,2026-12-26").
    calendar_days_off: str = ""
    # Count the government's cuti bersama (as the `holidays` package lists them) as days off.
    calendar_cuti_bersama: bool = True

    # How often the gauges read from the database are read again (seconds).
    metrics_refresh_interval: float = 15.0

    # --- tamper-evident audit (mpp_shared.audit_chain).
    # The Ed25519 private key that signs the audit chain's checkpoints: its
    # raw 32 bytes in base64 (`python -m mpp_shared.audit_verify --new-key`
    # prints a pair). Refused in production while it is the development key.
    # Verifiers need only its public key.
    audit_signing_key: str = DEV_AUDIT_SIGNING_KEY
    # Public keys (base64, comma separated) of earlier signing keys, so that
    # checkpoints signed before a key change still verify.
    audit_verify_keys: str = ""
    # The sealer: how often it looks for new entries (seconds), how many it
    # chains per transaction, and a signed checkpoint every so many entries
    # or seconds, whichever comes first.
    audit_seal_interval: float = Field(default=1.0, gt=0)
    audit_seal_batch: int = Field(default=500, ge=1, le=100_000)
    audit_checkpoint_every: int = Field(default=1000, ge=1)
    audit_checkpoint_interval: float = Field(default=300.0, gt=0)
    # The verifier reports entries left unsealed longer than this (seconds).
    audit_unsealed_bound: float = Field(default=300.0, gt=0)
    # The retention job (mpp_shared.retention): how often it looks for records
    # whose retention period has passed (seconds), and how many records it
    # erases per transaction. The periods are each service's own settings.
    retention_interval: float = Field(default=3600.0, gt=0)
    retention_batch: int = Field(default=500, ge=1, le=100_000)

    @model_validator(mode="after")
    def _audit_keys(self) -> ServiceSettings:
        from mpp_shared.audit_chain import public_key, signing_key

        signing_key(self.audit_signing_key)
        earlier = [k.strip() for k in self.audit_verify_keys.split(",") if k.strip()]
        for key in earlier:
            public_key(key)
        if self.mpp_env == "production" and (
            self.audit_signing_key == DEV_AUDIT_SIGNING_KEY or DEV_AUDIT_PUBLIC_KEY in earlier
        ):
            raise ValueError(
                "AUDIT_SIGNING_KEY and AUDIT_VERIFY_KEYS must not hold the development "
                "audit key when MPP_ENV=production"
            )
        return self

    # What citizens see: the office's name on every public page and receipt,
    # and where each service's public pages are reached from outside (the
    # QR code on a receipt opens PUBLIC_INTAKE_URL/track/<code>; the one
    # printed with a document opens PUBLIC_DOCUMENTS_URL/verify/<code>).
    office_name: str = "Mal Pelayanan Publik"
    public_intake_url: str = "http://127.0.0.1:8001"
    public_documents_url: str = "http://127.0.0.1:8002"
    public_complaints_url: str = "http://127.0.0.1:8003"

    # --- Admission control (mpp_shared.web.admission): at most
    # MAX_CONCURRENT_REQUESTS requests are handled at once by each process; a
    # request waits at most ADMISSION_WAIT_MS for its turn (0: not at all) and,
    # once in, at most DB_POOL_WAIT_MS for its first database connection.
    # Past either bound it is answered 503 with Retry-After:
    # OVERLOAD_RETRY_AFTER seconds. Health probes and /metrics are never refused.
    max_concurrent_requests: int = Field(default=64, ge=1, le=10_000)
    admission_wait_ms: int = Field(default=500, ge=0, le=60_000)
    db_pool_wait_ms: int = Field(default=500, ge=1, le=60_000)
    overload_retry_after: int = Field(default=2, ge=1, le=3600)

    log_level: str = "INFO"
    log_file: str | None = Field(default=None)

    # Tests only: a file holding how many seconds the service's clock runs
    # ahead of the machine's (mpp_shared.clock). Refused in production.
    clock_file: str | None = None

    # --- Hardening at the edges: limits and proxies (mpp_shared.proxies,
    # mpp_shared.web.client_address). The proxies whose forwarded header is
    # believed: IP addresses and CIDR ranges separated by commas, e.g. the
    # ingress controller's pod range. A request from any other peer is that
    # peer, whatever its headers say. Unset: loopback outside production
    # (`make run`, the tests), none in production; "" trusts none.
    trusted_proxies: str | None = None
    # The header those proxies write: x-forwarded-for (ingress-nginx, most
    # load balancers) or forwarded (RFC 7239). The other one is never read: a
    # proxy passes it on from the client untouched.
    trusted_proxy_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"

    def trusted_proxy_list(self) -> str:
        """TRUSTED_PROXIES, or its default for MPP_ENV."""
        from mpp_shared.proxies import LOOPBACK

        if self.trusted_proxies is not None:
            return self.trusted_proxies
        return "" if self.mpp_env == "production" else LOOPBACK

    @model_validator(mode="after")
    def _trusted_proxies_readable(self) -> ServiceSettings:
        from mpp_shared.proxies import TrustedProxies

        TrustedProxies.parse(self.trusted_proxy_list())  # ValueError names the entry
        return self

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
            if not self.oidc_issuer:
                raise ValueError(
                    "OIDC_ISSUER must name the district's identity provider when "
                    "MPP_ENV=production (development tokens are refused there)"
                )
        return self

    def token_audience(self) -> str:
        """The `aud` of the identity provider's tokens for this service."""
        return self.oidc_audience or f"mpp-{self.service_name}"

    def _secret_fields(self) -> list[str]:
        # JWT_SECRET is not among them: production accepts no token it signs.
        return [
            # The single-key settings only count when no key ring replaces them.
            *(["pii_encryption_key"] if not self.pii_encryption_keys.strip() else []),
            *(["pii_index_key"] if not self.pii_index_keys.strip() else []),
            "notify_seal_public_key",
            "audit_signing_key",
        ]
