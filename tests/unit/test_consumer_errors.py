"""What the consumer says about an event it parks: the field and the reason,
never the offending values (they may be a citizen's NIK or phone number)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mpp_shared.events.envelope import registered_types
from mpp_shared.events.examples import EXAMPLES
from mpp_shared.messaging.consumer import describe_error

NIK = "3506042501900001"
PHONE = "+6281234567890"


def _invalid_submitted_event() -> ValidationError:
    event_type = "mpp.application.submitted.v1"
    payload = {**EXAMPLES[event_type], "application_id": NIK, "service_code": {"phone": PHONE}}
    with pytest.raises(ValidationError) as caught:
        registered_types()[event_type].model_validate(payload)
    return caught.value


def test_a_validation_error_is_told_by_field_and_reason_without_the_values() -> None:
    exc = _invalid_submitted_event()
    assert NIK in str(exc) and PHONE in str(exc)  # pydantic's own text repeats them

    told = describe_error(exc)

    assert NIK not in told and PHONE not in told
    assert "application_id: " in told and "service_code: " in told
    assert told.startswith("2 validation error(s) for ")


def test_other_errors_keep_their_type_and_message() -> None:
    assert describe_error(RuntimeError("printer offline")) == "RuntimeError: printer offline"
