"""Events of `mpp.citizen`, published by intake: a resident signing in to the
online application asked for a one-time code, which notify sends.

Neither the code nor the phone number travels in clear: both are sealed to
notify's public key (`mpp_shared.pii.seal_for_notify`), so no other
subscriber of the topic, no log and no span can read them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from mpp_shared.events.envelope import EventData
from mpp_shared.events.schemas.citizen import Language
from mpp_shared.events.topics import Topic


class CitizenEvent(EventData):
    """Fields every citizen-access event starts with (the base itself is not published)."""

    topic = Topic.CITIZEN

    request_id: uuid.UUID


class SignInCodeRequestedV1(CitizenEvent):
    """A resident asked for a one-time sign-in code; notify sends it by SMS or WhatsApp."""

    event_type = "mpp.citizen.signin_code_requested.v1"

    channel: Literal["sms", "whatsapp"]
    language: Language = "id"
    # {"phone": "+62..."} sealed for notify.
    contact_sealed: str
    # {"code": "123456"} sealed for notify.
    code_sealed: str
    expires_at: datetime
