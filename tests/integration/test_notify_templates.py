"""Notify's message templates over HTTP on a real, migrated notify database:
a saved template is what the next message uses, stale writes are refused,
the default comes back on DELETE, previews render drafts and defaults, only
supervisors and admins may touch them, and every change is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from mpp_notify import templates
from mpp_notify.api.routes import templates as templates_routes
from mpp_notify.domain import template_rendering, template_variables
from mpp_notify.usecases import message_text
from mpp_shared.auth import mint_token
from mpp_shared.events import examples
from mpp_shared.settings import DEV_JWT_SECRET
from mpp_shared.web import get_pool, install_error_handlers

NOTIFY_MIGRATIONS = (
    Path(__file__).resolve().parents[2] / "services" / "notify" / "mpp_notify" / "migrations"
)
SUBMITTED = "mpp.application.submitted.v1"
READY = "mpp.document.ready_for_pickup.v1"
ONE = f"/v1/templates/{SUBMITTED}/sms/id"
CUSTOM = "Permohonan {{ service }} Anda diterima, kode {{ tracking_code }}. Simpan kode ini."


@pytest.fixture
async def client(notify_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """The templates routes on the real database (the rest of notify not started)."""
    app = FastAPI()
    app.state.settings = SimpleNamespace(jwt_secret=DEV_JWT_SECRET, jwt_issuer="mpp")
    install_error_handlers(app)
    app.include_router(templates_routes.router)
    app.dependency_overrides[get_pool] = lambda: notify_pool
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notify") as http:
        yield http


def _as(*roles: str, subject: str = "sup-1", language: str | None = None) -> dict[str, str]:
    token = mint_token(DEV_JWT_SECRET, subject=subject, roles=list(roles), counter="MPP-01")
    headers = {"Authorization": f"Bearer {token}"}
    if language:
        headers["Accept-Language"] = language
    return headers


SUPERVISOR = _as("supervisor")


async def _render(pool: asyncpg.Pool, event_type: str, channel: str, language: str) -> Any:
    variables = template_variables.variables_for(examples.example(event_type), language)
    async with pool.acquire() as conn:
        return await message_text.render_message(conn, event_type, channel, language, variables)


async def _audit(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM audit_log ORDER BY id")


async def test_a_saved_template_is_used_by_the_next_message(
    client: httpx.AsyncClient, notify_pool: asyncpg.Pool
) -> None:
    before = await client.get(ONE, headers=SUPERVISOR)
    assert before.status_code == 200, before.text
    assert before.json()["source"] == "default" and before.json()["version"] == 0
    assert before.json()["body"] == templates.TEMPLATES[SUBMITTED]["id"]
    assert before.json()["default_body"] is None
    assert "tracking_code" in before.json()["variables"]
    assert "nik_masked" not in before.json()["variables"]
    default = await _render(notify_pool, SUBMITTED, "sms", "id")
    assert default.body.startswith("Permohonan KTP-el Anda sudah kami terima")

    saved = await client.put(ONE, headers=SUPERVISOR, json={"body": CUSTOM, "expected_version": 0})
    assert saved.status_code == 200, saved.text
    answer = saved.json()
    assert (answer["source"], answer["version"], answer["updated_by"]) == ("custom", 1, "sup-1")
    assert answer["body"] == CUSTOM and answer["subject"] is None
    assert answer["default_body"] == templates.TEMPLATES[SUBMITTED]["id"]
    message = await _render(notify_pool, SUBMITTED, "sms", "id")
    assert message == template_rendering.Rendered(
        None, "Permohonan KTP-el Anda diterima, kode ABCDEFGH2J. Simpan kode ini."
    )
    # the other channels and languages keep their defaults; an unknown language reads Indonesian
    assert (await _render(notify_pool, SUBMITTED, "whatsapp", "id")) == default
    assert (await _render(notify_pool, SUBMITTED, "sms", "en")).body.startswith("We have")
    assert (await _render(notify_pool, SUBMITTED, "sms", "fr")) == message

    # a second change takes effect at once (the compiled template is per version)
    again = await client.put(
        ONE, headers=SUPERVISOR, json={"body": "Kode {{ tracking_code }}.", "expected_version": 1}
    )
    assert again.status_code == 200 and again.json()["version"] == 2
    assert (await _render(notify_pool, SUBMITTED, "sms", "id")).body == "Kode ABCDEFGH2J."

    listing = await client.get("/v1/templates", headers=SUPERVISOR)
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert (
        listing.json()["count"]
        == len(items)
        == len(template_rendering.template_event_types()) * 3 * 2
    )
    custom = [i for i in items if i["source"] == "custom"]
    assert [(i["event_type"], i["channel"], i["language"]) for i in custom] == [
        (SUBMITTED, "sms", "id")
    ]
    assert custom[0]["version"] == 2
    only_email = await client.get(
        "/v1/templates", headers=SUPERVISOR, params={"channel": "email", "language": "en"}
    )
    assert only_email.json()["count"] == len(template_rendering.template_event_types())
    assert all(i["subject"] for i in only_email.json()["items"])


async def test_email_template_with_subject(
    client: httpx.AsyncClient, notify_pool: asyncpg.Pool
) -> None:
    path = f"/v1/templates/{READY}/email/en"
    missing = await client.put(path, headers=SUPERVISOR, json={"body": "{{ tracking_code }}"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "subject"
    saved = await client.put(
        path,
        headers=SUPERVISOR,
        json={
            "subject": "Ready: {{ tracking_code }}",
            "body": "Your {{ service }} ({{ tracking_code }}) waits at {{ pickup_point }}.",
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["default_subject"] == templates.SUBJECTS[READY]["en"]
    message = await _render(notify_pool, READY, "email", "en")
    assert message.subject == "Ready: ABCDEFGH2J"
    assert message.body == "Your electronic ID card (KTP-el) (ABCDEFGH2J) waits at MPP."
    # SMS has no subject line
    refused = await client.put(
        f"/v1/templates/{READY}/sms/en",
        headers=SUPERVISOR,
        json={"subject": "Ready", "body": "{{ tracking_code }}"},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["type"] == "subject_not_allowed"


async def test_stale_version_is_refused_with_the_current_one(
    client: httpx.AsyncClient, notify_pool: asyncpg.Pool
) -> None:
    assert (await client.put(ONE, headers=SUPERVISOR, json={"body": CUSTOM})).status_code == 200
    stale = await client.put(
        ONE, headers=SUPERVISOR, json={"body": "Kode {{ tracking_code }}", "expected_version": 0}
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert stale.json()["current_version"] == 1
    assert stale.json()["detail"].startswith("Templat sudah diubah orang lain")
    english = await client.put(
        ONE,
        headers=_as("supervisor", language="en"),
        json={"body": "Kode {{ tracking_code }}", "expected_version": 7},
    )
    assert english.status_code == 409 and "reload" in english.json()["detail"]
    # nothing changed: the message and the version are the first save's
    assert (await _render(notify_pool, SUBMITTED, "sms", "id")).body.startswith(
        "Permohonan KTP-el Anda diterima"
    )
    assert (await client.get(ONE, headers=SUPERVISOR)).json()["version"] == 1
    stale_reset = await client.delete(ONE, headers=SUPERVISOR, params={"expected_version": 3})
    assert stale_reset.status_code == 409 and stale_reset.json()["current_version"] == 1


async def test_delete_puts_the_default_back_and_changes_are_audited(
    client: httpx.AsyncClient, notify_pool: asyncpg.Pool
) -> None:
    saved = await client.put(ONE, headers=_as("admin", subject="admin-1"), json={"body": CUSTOM})
    assert saved.status_code == 200
    reset = await client.delete(ONE, headers=SUPERVISOR, params={"expected_version": 1})
    assert reset.status_code == 200, reset.text
    assert reset.json()["source"] == "default" and reset.json()["version"] == 0
    assert reset.json()["body"] == templates.TEMPLATES[SUBMITTED]["id"]
    message = await _render(notify_pool, SUBMITTED, "sms", "id")
    assert message.body.startswith("Permohonan KTP-el Anda sudah kami terima")
    assert await notify_pool.fetchval("SELECT count(*) FROM message_templates") == 0
    # resetting a default changes nothing and records nothing
    assert (await client.delete(ONE, headers=SUPERVISOR)).status_code == 200

    # saved again after the reset: version 1 again, with a new text that is used
    again = await client.put(ONE, headers=SUPERVISOR, json={"body": "Baru: {{ tracking_code }}"})
    assert again.json()["version"] == 1
    assert (await _render(notify_pool, SUBMITTED, "sms", "id")).body == "Baru: ABCDEFGH2J"

    rows = await _audit(notify_pool)
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("template.updated", "admin-1"),
        ("template.reset", "sup-1"),
        ("template.updated", "sup-1"),
    ]
    first, second, third = rows
    assert first["target_type"] == "message_template"
    assert first["target_id"] == f"{SUBMITTED}/sms/id"
    assert first["counter"] == "MPP-01" and first["roles"] == ["admin"]
    assert first["detail"]["body"] == CUSTOM and first["detail"]["version"] == 1
    assert first["detail"]["previous_version"] == 0
    assert second["detail"]["previous_body"] == CUSTOM
    assert third["detail"]["previous_version"] == 0


async def test_a_template_that_would_fail_is_refused_and_not_saved(
    client: httpx.AsyncClient, notify_pool: asyncpg.Pool
) -> None:
    unknown = await client.put(
        ONE, headers=SUPERVISOR, json={"body": "Kode {{ tracking_code }}, {{ nama }}"}
    )
    assert unknown.status_code == 422
    error = unknown.json()["errors"][0]
    assert (error["field"], error["type"], error["unknown"]) == (
        "body",
        "unknown_variable",
        ["nama"],
    )
    assert "tracking_code" in error["allowed"]
    assert "variabel tidak dikenal" in error["message"]
    assert unknown.json()["detail"].startswith("Data tidak valid: body:")
    english = await client.put(
        ONE, headers=_as("supervisor", language="en"), json={"body": "{{ nik_masked }}"}
    )
    assert english.status_code == 422
    assert english.json()["errors"][0]["type"] == "personal_data"
    assert "personal data" in english.json()["errors"][0]["message"]
    syntax = await client.put(ONE, headers=SUPERVISOR, json={"body": "a\n{{ tracking_code }"})
    assert syntax.json()["errors"][0]["line"] == 2
    filtered = await client.put(ONE, headers=SUPERVISOR, json={"body": "{{ service | teriak }}"})
    assert filtered.json()["errors"][0]["type"] == "unknown_filter"
    broken = await client.put(
        ONE, headers=SUPERVISOR, json={"body": "{{ tracking_code }} {{ submitted_at.day }}"}
    )
    assert broken.json()["errors"][0]["type"] == "render_failed"
    assert await notify_pool.fetchval("SELECT count(*) FROM message_templates") == 0
    assert await _audit(notify_pool) == []

    not_templated = await client.put(
        "/v1/templates/mpp.document.queued.v1/sms/id", headers=SUPERVISOR, json={"body": "x"}
    )
    assert not_templated.status_code == 404
    assert SUBMITTED in not_templated.json()["event_types"]
    bad_channel = await client.get(f"/v1/templates/{SUBMITTED}/fax/id", headers=SUPERVISOR)
    assert bad_channel.status_code == 422
    assert bad_channel.json()["errors"][0]["field"] == "channel"


async def test_a_stored_template_that_breaks_at_send_time_falls_back_to_the_default(
    notify_pool: asyncpg.Pool,
) -> None:
    # written behind the API's back, so never checked
    await notify_pool.execute(
        "INSERT INTO message_templates (event_type, channel, language, body, updated_by) "
        "VALUES ($1, 'sms', 'id', '{{ tidak_ada }}', 'psql')",
        SUBMITTED,
    )
    message = await _render(notify_pool, SUBMITTED, "sms", "id")
    assert message.body.startswith("Permohonan KTP-el Anda sudah kami terima")


async def test_preview_with_data_and_with_defaults(
    client: httpx.AsyncClient, notify_pool: asyncpg.Pool
) -> None:
    defaults = await client.post(
        "/v1/templates/preview",
        headers=SUPERVISOR,
        json={"event_type": SUBMITTED, "channel": "email", "language": "en"},
    )
    assert defaults.status_code == 200, defaults.text
    shown = defaults.json()
    expected = templates.render_default(
        SUBMITTED,
        "email",
        "en",
        template_variables.variables_for(examples.example(SUBMITTED), "en"),
    )
    assert (shown["subject"], shown["body"]) == (expected.subject, expected.body)
    assert shown["source"] == "default"
    assert shown["characters"] == len(expected.body)
    assert shown["sms_segments"] == 1
    assert shown["variables_used"] == ["expected_ready_at", "service", "tracking_code"]

    data = {
        **examples.EXAMPLES[SUBMITTED],
        "tracking_code": "QWERTYUI2J",
        "pickup_point": "KEC-PARE",
    }
    data = {k: str(v) if not isinstance(v, int | str) else v for k, v in data.items()}
    draft = await client.post(
        "/v1/templates/preview",
        headers=SUPERVISOR,
        json={
            "event_type": SUBMITTED,
            "channel": "sms",
            "language": "id",
            "body": "Kode {{ tracking_code }}, ambil di {{ pickup_point }} – {{ service }}",
            "data": data,
        },
    )
    assert draft.status_code == 200, draft.text
    assert draft.json()["body"] == "Kode QWERTYUI2J, ambil di KEC-PARE – KTP-el"
    assert draft.json()["source"] == "draft" and draft.json()["subject"] is None
    assert draft.json()["sms_segments"] == 1  # the dash makes it UCS-2, still one
    assert draft.json()["variables_used"] == ["pickup_point", "service", "tracking_code"]

    # the saved template is what a preview without text shows
    await client.put(ONE, headers=SUPERVISOR, json={"body": CUSTOM})
    in_force = await client.post(
        "/v1/templates/preview",
        headers=SUPERVISOR,
        json={"event_type": SUBMITTED, "channel": "sms", "language": "id"},
    )
    assert in_force.json()["source"] == "custom"
    assert (
        in_force.json()["body"]
        == "Permohonan KTP-el Anda diterima, kode ABCDEFGH2J. Simpan kode ini."
    )


async def test_preview_refuses_bad_data_and_bad_drafts(client: httpx.AsyncClient) -> None:
    data = {k: v for k, v in examples.EXAMPLES[SUBMITTED].items() if k != "tracking_code"}
    data = {k: str(v) if not isinstance(v, int | str) else v for k, v in data.items()}
    missing = await client.post(
        "/v1/templates/preview",
        headers=SUPERVISOR,
        json={"event_type": SUBMITTED, "channel": "sms", "data": data},
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "data.tracking_code"
    assert missing.json()["errors"][0]["message"] == "wajib diisi"
    wrong = await client.post(
        "/v1/templates/preview",
        headers=_as("supervisor", language="en"),
        json={
            "event_type": SUBMITTED,
            "channel": "sms",
            "data": {**data, "tracking_code": "X", "catalog_version": "dua"},
        },
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0] == {
        "field": "data.catalog_version",
        "message": "must be a whole number",
        "type": "int_parsing",
    }
    unknown_variable = await client.post(
        "/v1/templates/preview",
        headers=SUPERVISOR,
        json={"event_type": SUBMITTED, "channel": "sms", "body": "{{ alamat }}"},
    )
    assert unknown_variable.status_code == 422
    assert unknown_variable.json()["errors"][0]["unknown"] == ["alamat"]
    unknown_type = await client.post(
        "/v1/templates/preview",
        headers=SUPERVISOR,
        json={"event_type": "mpp.nothing.v1", "channel": "pigeon"},
    )
    assert unknown_type.status_code == 422
    fields = {e["field"] for e in unknown_type.json()["errors"]}
    assert fields == {"event_type", "channel"}


@pytest.mark.parametrize("roles", [("frontdesk",), ("complaint_officer",), ("opd_system",)])
async def test_only_supervisors_and_admins_touch_templates(
    client: httpx.AsyncClient, notify_pool: asyncpg.Pool, roles: tuple[str, ...]
) -> None:
    other = _as(*roles)
    preview = {"event_type": SUBMITTED, "channel": "sms"}
    assert (await client.get("/v1/templates", headers=other)).status_code == 403
    assert (await client.get(ONE, headers=other)).status_code == 403
    assert (await client.put(ONE, headers=other, json={"body": CUSTOM})).status_code == 403
    assert (await client.delete(ONE, headers=other)).status_code == 403
    assert (
        await client.post("/v1/templates/preview", headers=other, json=preview)
    ).status_code == 403
    assert (await client.get(ONE)).status_code == 401
    assert await notify_pool.fetchval("SELECT count(*) FROM message_templates") == 0
    assert (await client.get(ONE, headers=_as("admin"))).status_code == 200
    assert (
        await client.post("/v1/templates/preview", headers=SUPERVISOR, json=preview)
    ).status_code == 200
