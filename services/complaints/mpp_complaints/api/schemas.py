"""The public shapes of complaints and their categories. A filed complaint
(`ComplaintCreate`, checked in the domain), the answers (owned by the use
cases) and the messages of complaints' own validation errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mpp_complaints.domain.complaints import OPD_CODE, ComplaintCreate
from mpp_complaints.usecases.categories import Category
from mpp_complaints.usecases.views import ComplaintPublic
from mpp_shared import contacts

__all__ = [
    "VALIDATION_MESSAGES",
    "Category",
    "CategoryUpdate",
    "ComplaintCreate",
    "ComplaintPublic",
]


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name_id: str = Field(min_length=2, max_length=120)
    name_en: str = Field(min_length=2, max_length=120)
    opd: str = Field(pattern=OPD_CODE)
    verify_days: int = Field(default=3, ge=1, le=60)
    followup_days: int = Field(default=5, ge=1, le=60)
    close_days: int = Field(default=10, ge=1, le=60)
    active: bool = True


VALIDATION_MESSAGES = {
    **contacts.MESSAGES,
    "unknown_category": ("kategori tidak dikenal: {value}", "unknown category: {value}"),
}
