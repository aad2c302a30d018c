"""Approved WhatsApp templates for business-initiated messages.

WhatsApp accepts free-form text only inside the 24-hour customer-service
window opened by the citizen's last message; outside it a message must be a
template registered with Meta (`"type": "template"`: its name, its language
code and the values of its `{{1}}`, `{{2}}`, ... parameters). Which template
an event type uses is the setting WHATSAPP_TEMPLATES; event types it does not
name get `default_template` (a name derived from the event type, the
service's name and the tracking or complaint code as parameters) unless
WHATSAPP_DEFAULT_TEMPLATES=false. Parameters are template variables, never
personal data (see domain.template_variables)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

import mpp_shared.events.schemas  # noqa: F401  (registers every event type)
from mpp_shared.events.envelope import registered_types


class WhatsAppTemplate(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    # Our language -> Meta's language code of the approved translation.
    languages: dict[str, str] = Field(default_factory=lambda: {"id": "id", "en": "en"})
    # Template variables (an event's fields, or "service"), in {{n}} order.
    parameters: list[str] = Field(default_factory=list)


def default_template(event_type: str) -> WhatsAppTemplate | None:
    """`mpp_<topic>_<what>` with the complaint code, or the service and the
    tracking code, as parameters; None for an event no citizen is told of."""
    model = registered_types().get(event_type)
    if model is None or not model.citizen_facing:
        return None
    fields = model.model_fields
    if "complaint_code" in fields:
        parameters = ["complaint_code"]
    elif "tracking_code" in fields:
        parameters = ["service", "tracking_code"]
    else:
        parameters = ["service"]
    stem = event_type.removeprefix("mpp.").rsplit(".v", 1)[0]
    return WhatsAppTemplate(name="mpp_" + stem.replace(".", "_"), parameters=parameters)


def template_message(
    configured: dict[str, WhatsAppTemplate],
    use_defaults: bool,
    event_type: str,
    language: str,
    variables: dict[str, Any],
) -> dict[str, Any] | None:
    """What the delivery log keeps for sending `event_type` as a template
    (name, language code, parameter values), or None when none applies."""
    template = configured.get(event_type) or (
        default_template(event_type) if use_defaults else None
    )
    if template is None:
        return None
    code = template.languages.get(language) or template.languages.get("id") or language
    values = [str(variables.get(name) or "-") for name in template.parameters]
    return {"name": template.name, "language": code, "parameters": values}
