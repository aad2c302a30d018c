"""The shipped message texts render byte for byte as recorded in
notify_default_messages.json (taken when the texts moved from Python strings
into template files): every event type with templates, in both languages,
on every channel, from the event's example and from the example without its
optional fields. A deliberate change of a text updates that file with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mpp_notify import templates
from mpp_notify.domain.template_check import sparse_example
from mpp_notify.domain.template_rendering import CHANNELS, template_event_types
from mpp_notify.domain.template_variables import variables_for
from mpp_shared.events import examples

RECORDED: dict[str, dict[str, dict[str, dict[str, Any]]]] = json.loads(
    (Path(__file__).parent / "notify_default_messages.json").read_text(encoding="utf-8")
)


def test_every_templated_type_is_recorded() -> None:
    assert sorted(RECORDED) == template_event_types()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("event_type", sorted(RECORDED))
def test_the_shipped_text_renders_as_recorded(event_type: str, language: str, channel: str) -> None:
    samples = {"example": examples.example(event_type), "sparse": sparse_example(event_type)}
    for name, data in samples.items():
        rendered = templates.render_default(
            event_type, channel, language, variables_for(data, language)
        )
        recorded = RECORDED[event_type][language][name]
        assert rendered.body == recorded["body"]
        assert rendered.subject == (recorded["subject"] if channel == "email" else None)
