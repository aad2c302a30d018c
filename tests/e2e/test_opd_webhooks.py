"""Another OPD's system subscribes to the journey over a signed webhook,
verifies every delivery, survives its own outage and replays what it missed."""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import timedelta
from typing import Any

import httpx

from mpp_devstack.stack import Stack
from tests.support.auth import auth
from tests.support.clock import ServiceClock
from tests.support.identities import nik, phone
from tests.support.polling import eventually
from tests.support.providers import Providers

SECRET = "dpmptsp-webhook-secret-2026-kediri"


def opd(subject: str) -> dict[str, str]:
    return auth("opd_system", subject=subject, counter=None)


async def submit(stack: Stack, http: httpx.AsyncClient) -> dict[str, Any]:
    body = {
        "service_code": "ktp_el",
        "nik": nik(),
        "full_name": "Agus Prasetyo",
        "phone": phone("0813").typed,
        "channel": "kecamatan_desk",
        "pickup_point": "KEC-PARE",
        "documents": ["kartu_keluarga", "bukti_usia_17"],
    }
    r = await http.post(
        f"{stack.services['intake'].url}/v1/applications", json=body, headers=auth("frontdesk")
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_an_opd_subscribes_verifies_is_disabled_and_replays(
    stack: Stack, http: httpx.AsyncClient, providers: Providers, service_clock: ServiceClock
) -> None:
    notify = stack.services["notify"].url
    client = f"dpmptsp-{uuid.uuid4().hex[:6]}"
    with providers.opd_endpoint(client, secret=SECRET) as receiver:
        created = await http.post(
            f"{notify}/v1/subscriptions",
            json={
                "url": receiver.url,
                "event_types": ["mpp.application.*", "mpp.document.queued.v1"],
                "secret": SECRET,
                "description": "DPMPTSP perizinan",
            },
            headers=opd(client),
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        assert SECRET not in created.text
        sub_url = f"{notify}/v1/subscriptions/{subscription['id']}"
        other = await http.get(sub_url, headers=opd("another-opd"))
        assert other.status_code == 404

        # Live: the application's events arrive signed, without contact data.
        first = await submit(stack, http)
        verified = await http.post(
            f"{stack.services['intake'].url}/v1/applications/{first['id']}/verification",
            json={"decision": "verified"},
            headers=auth("verifier"),
        )
        assert verified.status_code == 200, verified.text
        got = await eventually(
            lambda: (
                {d["type"] for d in receiver.of(first["id"])}
                >= {
                    "mpp.application.submitted.v1",
                    "mpp.application.verified.v1",
                    "mpp.document.queued.v1",
                }
                and receiver.of(first["id"])
            )
        )
        assert not receiver.forged
        assert all("contact_sealed" not in d["data"] for d in got)
        assert not {d["type"] for d in got} - {
            "mpp.application.submitted.v1",
            "mpp.application.verified.v1",
            "mpp.document.queued.v1",
        }

        # The OPD's endpoint fails: retried, then the subscription is disabled.
        receiver.status = 500
        # Event times are the services' clock, which tests move.
        outage_started = service_clock.now() - timedelta(seconds=1)
        second = await submit(stack, http)

        async def disabled() -> dict[str, Any] | None:
            r = await http.get(sub_url, headers=opd(client))
            doc = r.json()
            return doc if doc["status"] == "disabled" else None

        off = await eventually(disabled, timeout=60)
        assert off["disabled_reason"]
        calls_when_disabled = receiver.failed_calls
        assert calls_when_disabled >= 3
        pending_when_disabled = off["deliveries"]["pending"]
        third = await submit(stack, http)  # while disabled: kept, not sent

        async def third_waiting() -> bool:
            r = await http.get(sub_url, headers=opd(client))
            return bool(r.json()["deliveries"]["pending"] > pending_when_disabled)

        await eventually(third_waiting)
        await asyncio.sleep(1.0)
        assert receiver.failed_calls == calls_when_disabled
        assert not receiver.of(third["id"])

        # Back up and re-enabled by the client: what waited is delivered.
        receiver.status = 200
        enabled = await http.post(f"{sub_url}/enable", headers=opd(client))
        assert enabled.status_code == 200, enabled.text
        for app in (second, third):
            await eventually(functools.partial(receiver.of, app["id"]), timeout=60)

        # Replay a time range: the OPD asks again for everything since the outage.
        before = len(receiver.of(second["id"]))
        replay = await http.post(
            f"{sub_url}/redeliveries",
            json={
                "from": outage_started.isoformat(),
                "to": (service_clock.now() + timedelta(seconds=1)).isoformat(),
                "event_types": ["mpp.application.submitted.v1"],
            },
            headers=opd(client),
        )
        assert replay.status_code == 202, replay.text
        assert replay.json()["queued"] >= 2
        await eventually(lambda: len(receiver.of(second["id"])) > before, timeout=60)
        replayed = [
            d for d in receiver.of(second["id"]) if d["type"] == "mpp.application.submitted.v1"
        ]
        assert len(replayed) == 2 and replayed[0]["id"] == replayed[1]["id"]
        assert not receiver.of(first["id"])[-1]["type"].endswith("replayed")
        assert not receiver.forged
