"""The WhatsApp assistant: the Cloud API webhook's payloads and signature
(`payload`, `signature`), the conversation rules (`conversation`, pure), the
internal HTTP clients to intake and complaints (`clients`) and the approved
templates for messages outside the 24-hour window (`templates`)."""
