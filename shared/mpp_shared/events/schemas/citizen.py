"""Closed sets about the citizen that events of more than one stream carry."""

from typing import Literal

Language = Literal["id", "en"]
ContactChannel = Literal["sms", "whatsapp", "email"]
