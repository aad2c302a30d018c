"""The one refusal of notify's own that the edge phrases: event data given
for a template preview that does not fit its event type is answered exactly
as any invalid request data (the shared validation handler's 422), each
field named under `data`."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError

from mpp_notify.usecases.template_preview import EventDataInvalid


def invalid_event_data(exc: EventDataInvalid) -> RequestValidationError:
    return RequestValidationError([{**e, "loc": ("body", "data", *e["loc"])} for e in exc.errors])
