"""The requests of the complaint lifecycle's routes. Each may carry the
`expected_version` the caller read: a stale one is refused (409). The answer
of every route is `ComplaintState` (owned by the use cases)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mpp_complaints.domain.complaints import OPD_CODE
from mpp_complaints.domain.lifecycle import RejectionReason
from mpp_complaints.usecases.views import ComplaintState

__all__ = [
    "Assignment",
    "Closure",
    "ComplaintState",
    "Extension",
    "Progress",
    "Reopening",
    "Response",
    "Verification",
]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    expected_version: int | None = Field(default=None, description="Refused (409) when stale")


class Verification(_Change):
    decision: Literal["verified", "rejected"]
    reason: RejectionReason | None = Field(default=None, description="Required when rejected")
    duplicate_of: uuid.UUID | None = Field(default=None, description="For reason=duplicate")
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _reason(self) -> Verification:
        if self.decision == "rejected" and self.reason is None:
            raise ValueError("a rejection needs a reason: not_a_complaint or duplicate")
        if self.reason is RejectionReason.DUPLICATE and self.duplicate_of is None:
            raise ValueError("a duplicate needs duplicate_of (the other complaint's id)")
        return self


class Assignment(_Change):
    opd: str | None = Field(
        default=None, pattern=OPD_CODE, description="Default: the category's responsible OPD"
    )


class Progress(_Change):
    pass


class Response(_Change):
    text: str = Field(min_length=5, max_length=4000)


class Closure(_Change):
    complaint_code: str | None = Field(
        default=None, description="The reporter's proof (no token needed); officers omit it"
    )
    rating: int | None = Field(default=None, ge=1, le=5, description="Required from the reporter")
    comment: str | None = Field(default=None, max_length=1000)


class Reopening(_Change):
    complaint_code: str | None = Field(
        default=None, description="The reporter's proof (no token needed); officers omit it"
    )
    reason: str = Field(min_length=5, max_length=1000)


class Extension(_Change):
    reason: str = Field(
        min_length=5,
        max_length=1000,
        description="Why the answer needs more time; sent to the requester",
    )
