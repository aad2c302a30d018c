"""Request models of the OPD webhook subscriptions API, and the lists it
answers with (the items are the use cases' own models).

Checks that need no settings live here and fail with their own error types,
whose messages (Bahasa Indonesia and English) are in `VALIDATION_MESSAGES`,
registered with the shared validation handler when this module is imported.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from mpp_notify.usecases.subscription_views import DeliveryPublic, SubscriptionPublic
from mpp_notify.webhooks import fanout, signing
from mpp_shared.web import register_messages

SECRET_MIN, SECRET_MAX = 24, 256
URL_MAX = 2000

VALIDATION_MESSAGES: dict[str, tuple[str, str]] = {
    "webhook_url": (
        "harus berupa alamat http:// atau https:// dengan nama host",
        "must be an http:// or https:// address with a host name",
    ),
    "webhook_url_length": (
        f"maksimal {URL_MAX} karakter",
        f"must be at most {URL_MAX} characters long",
    ),
    "webhook_secret_standard": signing.STANDARD_SECRET_TEXTS,
    "webhook_secret_length": (
        f"harus {SECRET_MIN} sampai {SECRET_MAX} karakter",
        f"must be {SECRET_MIN} to {SECRET_MAX} characters long",
    ),
    "event_types_empty": (
        "pilih minimal satu jenis peristiwa",
        "name at least one event type",
    ),
    "event_type_unknown": (
        "jenis peristiwa tidak dikenal: {value} (gunakan jenis terdaftar atau pola "
        "seperti mpp.application.*)",
        "unknown event type: {value} (use a registered type or a pattern such as "
        "mpp.application.*)",
    ),
    "timezone_aware": (
        "harus menyertakan zona waktu, mis. 2024-08-17T09:00:00+07:00",
        "must include a time zone, e.g. 2024-08-17T09:00:00+07:00",
    ),
    "datetime_parsing": (
        "bukan tanggal dan waktu yang sah (ISO 8601)",
        "is not a valid date and time (ISO 8601)",
    ),
    "datetime_from_date_parsing": (
        "bukan tanggal dan waktu yang sah (ISO 8601)",
        "is not a valid date and time (ISO 8601)",
    ),
    "list_type": ("harus berupa daftar", "must be a list"),
    "time_range_order": (
        "harus lebih akhir daripada from",
        "must be later than from",
    ),
}
register_messages(VALIDATION_MESSAGES)


def check_url(value: str) -> str:
    value = value.strip()
    if len(value) > URL_MAX:
        raise PydanticCustomError("webhook_url_length", "too long")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise PydanticCustomError("webhook_url", "not an http(s) URL with a host")
    return value


def check_event_types(values: list[str]) -> list[str]:
    """Each a subscribable type or a ``prefix.*`` pattern (at least
    ``mpp.<stream>.*``) that takes one; duplicates dropped, order kept."""
    if not values:
        raise PydanticCustomError("event_types_empty", "empty")
    known = fanout.subscribable_types()
    out: list[str] = []
    for raw in values:
        value = raw.strip()
        if fanout.is_pattern(value):
            ok = value.count(".") >= 2 and any(fanout.matches(value, t) for t in known)
        else:
            ok = value in known
        if not ok:
            raise PydanticCustomError("event_type_unknown", "unknown event type", {"value": raw})
        if value not in out:
            out.append(value)
    return out


def check_secret(value: str) -> str:
    if not SECRET_MIN <= len(value) <= SECRET_MAX:
        raise PydanticCustomError("webhook_secret_length", "wrong length")
    return value


_URL_DOC = "Where deliveries are POSTed: https (http only outside production)"
_TYPES_DOC = (
    "Registered event types (mpp.application.verified.v1) or patterns: "
    "mpp.<stream>.* for a whole stream, mpp.<stream>.<name>.* for every version of one type"
)
_SECRET_DOC = (
    f"Shared secret for the HMAC-SHA256 signature ({SECRET_MIN}-{SECRET_MAX} characters); "
    "with signature_scheme standard_webhooks a Standard Webhooks secret: whsec_ followed by "
    "the base64 of 24 to 64 random bytes. Never shown again"
)
_SCHEME_DOC = (
    "How deliveries are signed: mpp_v1 (X-MPP-Timestamp, X-MPP-Signature: v1=<hex>) or "
    "standard_webhooks (webhook-id, webhook-timestamp, webhook-signature: v1,<base64>; "
    "https://www.standardwebhooks.com), for the ready verifiers of that specification"
)


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description=_URL_DOC, examples=["https://dukcapil.example.go.id/mpp/events"])
    event_types: list[str] = Field(description=_TYPES_DOC, examples=[["mpp.application.*"]])
    # Before `secret`, whose check depends on it.
    signature_scheme: signing.SignatureScheme = Field(
        default=signing.MPP_V1, description=_SCHEME_DOC
    )
    secret: str = Field(description=_SECRET_DOC)
    description: str | None = Field(default=None, max_length=500)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return check_event_types(value)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str, info: ValidationInfo) -> str:
        scheme = info.data.get("signature_scheme", signing.MPP_V1)
        if scheme == signing.STANDARD_WEBHOOKS and not signing.is_standard_secret(value):
            raise PydanticCustomError("webhook_secret_standard", "not a whsec_ secret")
        return check_secret(value)


class SubscriptionUpdate(BaseModel):
    """Only the fields sent change; a new secret signs the next attempt on."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description=_URL_DOC)
    event_types: list[str] | None = Field(default=None, description=_TYPES_DOC)
    signature_scheme: signing.SignatureScheme | None = Field(
        default=None,
        description=_SCHEME_DOC + "; switching to standard_webhooks needs a whsec_ secret "
        "in the same request",
    )
    secret: str | None = Field(default=None, description=_SECRET_DOC)
    description: str | None = Field(default=None, max_length=500)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_event_types(value)

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return None if value is None else check_secret(value)


class SubscriptionList(BaseModel):
    items: list[SubscriptionPublic]
    count: int


class RedeliveryRequest(BaseModel):
    """Send again every journaled event of the subscription's types that
    occurred in [from, to)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: AwareDatetime = Field(alias="from", description="Inclusive, with a time zone")
    to: AwareDatetime = Field(description="Exclusive, with a time zone")
    event_types: list[str] | None = Field(
        default=None,
        description="Only these (types or patterns among the subscription's event types)",
    )

    @field_validator("to")
    @classmethod
    def _after_from(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and value <= start:
            raise PydanticCustomError("time_range_order", "to must be later than from")
        return value

    @field_validator("event_types")
    @classmethod
    def _types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_event_types(value)


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
    count: int
