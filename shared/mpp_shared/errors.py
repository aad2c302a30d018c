"""Refusals: the expected business outcomes that turn a request down (not
found, forbidden, a conflict with the state in force, invalid input, too
many requests), raised by use cases and domain helpers in both languages.

Nothing here knows HTTP: the edge (`mpp_shared.web.errors`) gives each kind
its status code in one place, so a use case never imports the API layer."""

from __future__ import annotations

from typing import Any, Literal

Language = Literal["id", "en"]


class Refusal(Exception):
    """A refusal with a stable `code` for programs and a message in each
    language; `extra` travels in the answer (e.g. `current_state`, `errors`)."""

    def __init__(self, code: str, message_id: str, message_en: str, **extra: Any) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_id = message_id
        self.message_en = message_en
        self.extra = extra

    def body(self, language: Language) -> dict[str, Any]:
        extra = dict(self.extra)
        if "errors" in extra:
            extra["errors"] = [_localized(e, language) for e in extra["errors"]]
        return {
            "code": self.code,
            "detail": self.message_en if language == "en" else self.message_id,
            **extra,
        }


class NotFound(Refusal):
    """The thing asked for does not exist (or may not be shown to this caller)."""


class Forbidden(Refusal):
    """The caller is known but may not do this."""


class Conflict(Refusal):
    """The request contradicts the state in force: an illegal transition, a
    stale version, a duplicate."""


class Invalid(Refusal):
    """The request is not valid; `errors` names each field and why."""

    @classmethod
    def field(cls, field_name: str, type_: str, message_id: str, message_en: str) -> Invalid:
        """A refusal about one field, shaped like the validation errors."""
        return cls(
            "invalid",
            f"Data tidak valid: {field_name}: {message_id}",
            f"The request is not valid: {field_name}: {message_en}",
            errors=[
                {
                    "field": field_name,
                    "type": type_,
                    "message_id": message_id,
                    "message_en": message_en,
                }
            ],
        )


class TooLarge(Refusal):
    """The request (an uploaded file, all files of an application) is larger than allowed."""


class UnsupportedType(Refusal):
    """The content is of a kind not accepted (checked by content, never by name)."""


class TooManyRequests(Refusal):
    """A rate limit was reached; `retry_after` says how many seconds to wait."""


def _localized(error: dict[str, Any], language: Language) -> dict[str, Any]:
    if "message_id" not in error:
        return error
    out = {k: v for k, v in error.items() if k not in ("message_id", "message_en")}
    out["message"] = error["message_en"] if language == "en" else error["message_id"]
    return out
