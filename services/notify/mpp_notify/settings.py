"""Notify's settings: providers of each channel, delivery policy, quiet hours,
webhooks. Every one is read from the environment (upper-case name)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from mpp_notify.assistant.templates import WhatsAppTemplate
from mpp_shared.settings import (
    DEV_CHANNEL_TOKEN_PRIVATE_KEY,
    DEV_SEAL_PRIVATE_KEY,
    ServiceSettings,
)

# Development defaults of the provider secrets; refused in production.
DEV_WHATSAPP_APP_SECRET = "development-only-whatsapp-app-secret"
DEV_WHATSAPP_VERIFY_TOKEN = "development-only-whatsapp-verify-token"
DEV_SMS_REPORT_TOKEN = "development-only-sms-report-token"


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    port: int = 8004
    # Opens contact details sealed for notify; no other service holds it.
    notify_seal_private_key: str = DEV_SEAL_PRIVATE_KEY
    # --- Keys that rotate: notify's seal keys by id, "2:<base64>,1:<base64>"
    # (the new pair and the previous ones, while senders move to the new
    # NOTIFY_SEAL_PUBLIC_KEY / NOTIFY_SEAL_KEY_ID). When set, it replaces
    # NOTIFY_SEAL_PRIVATE_KEY (which is the key of id NOTIFY_SEAL_KEY_ID).
    notify_seal_private_keys: str = ""

    def seal_private_ring(self) -> dict[int, str]:
        from mpp_shared.pii import parse_key_ids

        if self.notify_seal_private_keys.strip():
            return parse_key_ids(self.notify_seal_private_keys, name="NOTIFY_SEAL_PRIVATE_KEYS")
        return {self.notify_seal_key_id: self.notify_seal_private_key}

    @model_validator(mode="after")
    def _seal_private_ring(self) -> NotifySettings:
        ring = self.seal_private_ring()  # also checks the form of NOTIFY_SEAL_PRIVATE_KEYS
        keys_set = bool(self.notify_seal_private_keys.strip())
        if keys_set and self.mpp_env == "production" and DEV_SEAL_PRIVATE_KEY in ring.values():
            raise ValueError(
                "NOTIFY_SEAL_PRIVATE_KEYS must be set to real secrets when MPP_ENV=production"
            )
        return self

    def _secret_fields(self) -> list[str]:
        seal = [] if self.notify_seal_private_keys.strip() else ["notify_seal_private_key"]
        # Identity provider — the channel token key below.
        return [*super()._secret_fields(), *seal, "channel_token_private_key"]

    # Identity provider — signs the assistant's 2-minute
    # `channel` tokens for complaints (Ed25519, base64 raw private key; its
    # public half is complaints' CHANNEL_TOKEN_PUBLIC_KEY).
    channel_token_private_key: str = DEV_CHANNEL_TOKEN_PRIVATE_KEY

    # Where escalations of missed complaint deadlines go (the supervisor's desk).
    supervisor_email: str = "pengaduan.supervisor@mpp.kedirikab.go.id"
    # Where a village's report not followed up in time goes: the kecamatan's
    # supervisor, as a JSON map of kecamatan code (6 digits) -> e-mail address
    # ('{"350617": "camat.pare@kedirikab.go.id"}'); a kecamatan not in it:
    # SUPERVISOR_EMAIL.
    kecamatan_supervisor_emails: dict[str, str] = Field(default_factory=dict)

    # --- channels: a channel whose provider is not configured only records
    # its messages in the delivery log (provider "log"), as in development.
    sms_gateway_url: str | None = None  # POST endpoint of the SMS gateway
    sms_gateway_token: str = ""  # sent as "Authorization: Bearer <token>"
    sms_sender_id: str = "MPPKEDIRI"
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_phone_number_id: str | None = None  # set to enable WhatsApp
    whatsapp_access_token: str = ""
    smtp_host: str | None = None  # set to enable e-mail
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_use_tls: bool = False
    smtp_from: str = "MPP Kabupaten Kediri <noreply@mpp.kedirikab.go.id>"
    provider_timeout: float = 10.0  # seconds for one call to a provider
    # In production notify refuses to start when no channel has a real
    # provider (it would tell no citizen anything, without a word), unless the
    # operator says so here: every message is then only recorded.
    notify_record_only: bool = False

    # --- delivery policy
    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_backoff_base: float = Field(default=2.0, gt=0)  # seconds before the 2nd attempt
    delivery_backoff_max: float = Field(default=600.0, gt=0)
    delivery_poll_interval: float = Field(default=1.0, gt=0)
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    delivery_batch_size: int = Field(default=50, ge=1)
    # Per-provider rate limits (messages per second, bursts of as many), for
    # all notify replicas together: kept in PostgreSQL (delivery.policy).
    sms_rate_per_second: float = Field(default=10.0, gt=0)
    whatsapp_rate_per_second: float = Field(default=20.0, gt=0)
    email_rate_per_second: float = Field(default=5.0, gt=0)
    # Non-urgent messages wait for the end of quiet hours, in the pickup
    # point's time zone (POINT_TIME_ZONES, e.g. {"KEC-PARE": "Asia/Jakarta"},
    # else TIME_ZONE).
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "06:00"
    time_zone: str = "Asia/Jakarta"
    point_time_zones: dict[str, str] = Field(default_factory=dict)

    # --- WhatsApp assistant (Cloud API webhook), status callbacks, templates
    # (mpp_notify.assistant). The app secret signs every webhook call
    # (X-Hub-Signature-256); the verify token answers Meta's subscription check.
    whatsapp_app_secret: str = DEV_WHATSAPP_APP_SECRET
    whatsapp_verify_token: str = DEV_WHATSAPP_VERIFY_TOKEN
    # Per event type, the approved template sent outside the 24-hour window:
    # {"mpp.document.ready_for_pickup.v1": {"name": "mpp_dokumen_siap",
    #  "languages": {"id": "id", "en": "en"}, "parameters": ["service", "tracking_code"]}}.
    # Event types not named here get the default naming (see assistant.templates)
    # unless WHATSAPP_DEFAULT_TEMPLATES=false.
    whatsapp_templates: dict[str, WhatsAppTemplate] = Field(default_factory=dict)
    whatsapp_default_templates: bool = True
    assistant_idle_minutes: float = Field(default=30.0, gt=0)  # conversation state expires
    assistant_messages_per_hour: int = Field(default=60, ge=1)  # per sender, then silence
    assistant_complaints_per_day: int = Field(default=3, ge=1)  # per sender
    # Internal HTTP calls of the assistant (catalog, tracking, filing complaints).
    intake_internal_url: str = "http://127.0.0.1:8001"
    complaints_internal_url: str = "http://127.0.0.1:8003"
    internal_http_timeout: float = Field(default=3.0, gt=0)
    # The SMS gateway posts delivery reports to POST /v1/providers/sms/reports
    # (Authorization: Bearer SMS_REPORT_TOKEN); with reports on, an accepted SMS
    # is `sent` until its report says delivered.
    sms_delivery_reports: bool = False
    sms_report_token: str = DEV_SMS_REPORT_TOKEN

    # --- OPD webhooks
    webhook_timeout: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_base: float = Field(default=5.0, gt=0)
    webhook_backoff_max: float = Field(default=900.0, gt=0)
    webhook_disable_after: int = Field(default=10, ge=1)  # consecutive failed attempts
    webhook_poll_interval: float = Field(default=1.0, gt=0)
    event_retention_days: int = Field(default=30, ge=1)  # how far back redelivery reaches

    # Personal data whose purpose is over (mpp_notify/store/retention.py): days
    # a message keeps its address, text and template parameters after it was
    # delivered, handed to the provider or given up (dead); days a contact kept
    # to tell a resident about an application or complaint stays after it was
    # kept, once no message about it was logged for as long; days a WhatsApp
    # conversation with the assistant stays after the resident's last message.
    retention_messages_days: int = Field(default=90, ge=1)
    retention_contacts_days: int = Field(default=365, ge=1)
    retention_whatsapp_days: int = Field(default=30, ge=1)

    # --- Hardening at the edges: webhook addresses (mpp_notify.webhooks.addresses).
    # A webhook URL that is, or resolves to, a loopback, private, link-local
    # (cloud metadata), CGNAT, multicast or reserved address is refused at
    # registration (422 on `url`) and at every connection (DNS rebinding).
    # Unset: refused in production, allowed elsewhere (the development and test
    # receivers listen on 127.0.0.1); true allows them, false refuses them
    # everywhere.
    webhook_allow_private_addresses: bool | None = None
    # Networks let through even so, e.g. ["10.20.0.0/16"] when OPD systems
    # live on the district's own network. Never the metadata range.
    webhook_allowed_networks: list[str] = Field(default_factory=list)

    def webhooks_check_addresses(self) -> bool:
        """Whether webhook addresses are checked (see WEBHOOK_ALLOW_PRIVATE_ADDRESSES)."""
        if self.webhook_allow_private_addresses is None:
            return self.mpp_env == "production"
        return not self.webhook_allow_private_addresses

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _allowed_networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        metadata = [ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254")]
        for text in value:
            network = ipaddress.ip_network(text.strip(), strict=False)  # ValueError: refused
            if any(a.version == network.version and a in network for a in metadata):
                raise ValueError(
                    f"WEBHOOK_ALLOWED_NETWORKS may not hold a cloud metadata address: {text}"
                )
        return [text.strip() for text in value]

    @field_validator("quiet_hours_start", "quiet_hours_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        from mpp_notify.delivery.quiet_hours import parse_clock

        parse_clock(value)
        return value

    def live_channels(self) -> dict[str, str]:
        """Each channel whose real provider is configured, with that provider."""
        live = {
            "sms": "sms_gateway" if self.sms_gateway_url else None,
            "whatsapp": "whatsapp_cloud" if self.whatsapp_phone_number_id else None,
            "email": "smtp" if self.smtp_host else None,
        }
        return {channel: provider for channel, provider in live.items() if provider}

    @model_validator(mode="after")
    def _refuse_silence(self) -> NotifySettings:
        if (
            self.mpp_env == "production"
            and not self.live_channels()
            and not self.notify_record_only
        ):
            raise ValueError(
                "no channel has a real provider (SMS_GATEWAY_URL, WHATSAPP_PHONE_NUMBER_ID "
                "and SMTP_HOST are all unset), so no citizen would be told anything: "
                "configure at least one, or set NOTIFY_RECORD_ONLY=true to run on purpose "
                "with every message only recorded"
            )
        return self

    @model_validator(mode="after")
    def _refuse_dev_provider_secrets(self) -> NotifySettings:
        """In production, a live WhatsApp channel (or SMS delivery reports)
        needs its own webhook secrets: the development ones are public."""
        if self.mpp_env != "production":
            return self
        checks = {
            "whatsapp_app_secret": (self.whatsapp_phone_number_id, DEV_WHATSAPP_APP_SECRET),
            "whatsapp_verify_token": (self.whatsapp_phone_number_id, DEV_WHATSAPP_VERIFY_TOKEN),
            "sms_report_token": (self.sms_delivery_reports, DEV_SMS_REPORT_TOKEN),
        }
        for name, (live, dev_value) in checks.items():
            if live and getattr(self, name) in ("", dev_value):
                raise ValueError(
                    f"{name.upper()} must be set to a real secret when MPP_ENV=production"
                )
        return self

    @model_validator(mode="after")
    def _zones(self) -> NotifySettings:
        for zone in [self.time_zone, *self.point_time_zones.values()]:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {zone!r} (use e.g. Asia/Jakarta)") from exc
        return self
