"""The village's reports on the running stack: a desa reports a birth, the
entries of the documents the family needs appear on its outreach worklist,
the desa officer turns the birth certificate's entry into an application
(the papers the family holds pre-filled) that goes through to pickup; a
report left unattended is escalated once to the kecamatan's supervisor by
e-mail; the kecamatan's figures count both; each officer sees their own area
only; and the events on the real topic carry no personal data."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from mpp_devstack.stack import Stack
from mpp_shared.pii import mask_nik
from tests.e2e.test_production import _move
from tests.support.auth import auth
from tests.support.clock import WIB, ServiceClock
from tests.support.http import expect
from tests.support.identities import nik
from tests.support.opd import OutsideReader
from tests.support.polling import eventually

DESA_A, DESA_B = "3506172101", "3506172102"  # two desa of Kecamatan Pare
OFFICER_A = auth("frontdesk", subject="desa-officer-pop-a", counter=f"DESA-{DESA_A}")
OFFICER_B = auth("frontdesk", subject="desa-officer-pop-b", counter=f"DESA-{DESA_B}")
CAMAT_PARE = auth("frontdesk", subject="kecamatan-pare", counter="KEC-PARE")
CAMAT_PAPAR = auth("frontdesk", subject="kecamatan-papar", counter="KEC-PAPAR")
KK = "3506171203150004"
PAPERS = ["surat_keterangan_lahir", "buku_nikah_orang_tua", "kartu_keluarga", "ktp_el_orang_tua"]
SUPERVISOR_EMAIL = "camat.pare@kedirikab.go.id"


def birth(applicant: str, today: date, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "birth",
        "occurred_on": today.isoformat(),
        "kk_number": KK,
        "subject_name": "Bayi Anindya",
        "applicant_nik": applicant,
        "applicant_name": "Siti Rahayu",
        "applicant_phone": "085712345678",
        "papers_held": PAPERS,
        "note": "Lahir di Puskesmas Pare",
        **extra,
    }


async def post_report(
    http: httpx.AsyncClient, intake: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await http.post(f"{intake}/v1/population/reports", json=body, headers=headers)


async def test_a_birth_reported_by_the_desa_goes_through_to_pickup_and_a_forgotten_report_escalates(
    stack: Stack,
    http: httpx.AsyncClient,
    service_clock: ServiceClock,
    opd_reader: OutsideReader,
) -> None:
    intake, documents = stack.services["intake"].url, stack.services["documents"].url
    mother, other_mother = nik("350617", female=True), nik("350617", female=True)
    today = service_clock.now().astimezone(WIB).date()

    # Refusals name the field and the reason.
    bad = await post_report(
        http, intake, birth(mother, today, kk_number="9999171203150004"), OFFICER_A
    )
    assert bad.status_code == 422, bad.text
    [error] = bad.json()["errors"]
    assert (error["field"], error["type"]) == ("kk_number", "kk_region")
    assert "nomor KK tidak sah" in error["message"]
    unknown = await post_report(
        http, intake, birth(mother, today, papers_held=["ijazah"]), OFFICER_A
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "papers_held"
    death = await post_report(
        http, intake, birth(mother, today, kind="death", subject_name="Budi"), OFFICER_A
    )
    assert death.status_code == 422 and death.json()["errors"][0]["field"] == "subject_nik"
    # A desa officer reports for their own desa only.
    other = await post_report(http, intake, birth(mother, today, desa_code=DESA_B), OFFICER_A)
    assert other.status_code == 403 and other.json()["code"] == "other_desa"

    # The birth is reported (a retry with the same key answers the same).
    key = str(uuid.uuid4())
    reported = await post_report(
        http, intake, birth(mother, today), {**OFFICER_A, "Idempotency-Key": key}
    )
    assert reported.status_code == 201, reported.text
    again = await post_report(
        http, intake, birth(mother, today), {**OFFICER_A, "Idempotency-Key": key}
    )
    assert again.status_code == 201 and again.json()["id"] == reported.json()["id"]
    report = reported.json()
    assert (report["kind"], report["desa_code"], report["kecamatan_code"]) == (
        "birth",
        DESA_A,
        "350617",
    )
    assert report["applicant_nik_masked"] == mask_nik(mother)
    assert report["kk_masked"] == mask_nik(KK)
    for secret in (mother, KK, "Siti", "Rahayu", "Anindya", "85712345678"):
        assert secret not in reported.text, secret
    by_service = {e["service_code"]: e for e in report["entries"]}
    assert list(by_service) == ["akta_kelahiran", "kk"]
    assert report["entry_ids"] == [e["id"] for e in report["entries"]]

    # The entries are on the desa's outreach worklist, saying where they came from.
    worklist = await http.get(
        f"{intake}/v1/outreach/entries",
        params={"desa_code": DESA_A, "service_code": "akta_kelahiran", "page_size": 200},
        headers=OFFICER_A,
    )
    assert worklist.status_code == 200, worklist.text
    [entry] = [e for e in worklist.json()["items"] if e["report_id"] == report["id"]]
    assert (entry["origin"], entry["report_kind"], entry["list_id"]) == ("report", "birth", None)
    assert entry["papers_held"] == PAPERS and entry["nik_masked"] == mask_nik(mother)
    # Another desa's officer cannot see the report or its entries.
    assert (
        await http.get(f"{intake}/v1/population/reports/{report['id']}", headers=OFFICER_B)
    ).status_code == 403
    assert (
        await http.get(f"{intake}/v1/outreach/entries/{entry['id']}", headers=OFFICER_B)
    ).status_code == 403

    # A second birth is reported and then left unattended.
    forgotten = expect(await post_report(http, intake, birth(other_mother, today), OFFICER_A), 201)

    # The desa officer turns the birth certificate's entry into an application:
    # the papers the family holds stand for the papers handed in.
    applied = await http.post(
        f"{intake}/v1/outreach/entries/{entry['id']}/application",
        json={"preferred_channel": "sms"},
        headers={**OFFICER_A, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert applied.status_code == 201, applied.text
    application = applied.json()
    assert (application["channel"], application["service_code"]) == ("desa", "akta_kelahiran")
    assert application["status"] == "submitted"  # complete: nothing missing
    assert sorted(application["documents"]) == sorted(PAPERS)
    shown = expect(
        await http.get(f"{intake}/v1/population/reports/{report['id']}", headers=OFFICER_A)
    )
    assert shown["followed_up_at"] is not None and shown["overdue"] is False
    assert {e["service_code"]: e["status"] for e in shown["entries"]} == {
        "akta_kelahiran": "applied",
        "kk": "open",
    }

    # ... verified, produced and collected at the kecamatan by the mother.
    expect(
        await http.post(
            f"{intake}/v1/applications/{application['id']}/verification",
            json={"decision": "verified"},
            headers=auth("verifier"),
        )
    )

    async def job() -> dict[str, Any] | None:
        r = await http.get(
            f"{documents}/v1/jobs",
            params={"application_id": application["id"]},
            headers=auth("production"),
        )
        items = expect(r)["items"]
        return items[0] if items else None

    made = await eventually(job)
    for change in (
        {"to": "in_production"},
        {"to": "produced"},
        {"to": "ready_for_pickup", "pickup_point": "KEC-PARE"},
    ):
        expect(await _move(http, stack, made["id"], "production", **change))
    taken = await _move(http, stack, made["id"], "pickup", to="picked_up", collector_nik=mother)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "picked_up"

    # Left unattended past its deadline, the second report escalates once.
    conn = await asyncpg.connect(stack.services["intake"].env["DATABASE_URL"])
    try:

        async def escalations() -> list[dict[str, Any]] | None:
            rows = await conn.fetch(
                "SELECT payload FROM outbox "
                "WHERE event_type = 'mpp.population.follow_up_overdue.v1' "
                "AND convert_from(payload, 'UTF8')::jsonb -> 'data' ->> 'report_id' = $1",
                forgotten["id"],
            )
            return [json.loads(r["payload"])["data"] for r in rows] or None

        due_at = datetime.fromisoformat(forgotten["due_at"])
        service_clock.travel_to(due_at + timedelta(seconds=1))
        [escalated] = await eventually(escalations)
        assert escalated["kind"] == "birth" and escalated["desa_code"] == DESA_A
        assert escalated["kecamatan_code"] == "350617"
        await asyncio.sleep(3)  # longer than the scheduler's interval: still once
        assert len(await escalations() or []) == 1
        # The applied report was followed up in time: never escalated.
        assert (
            await conn.fetchval(
                "SELECT escalated_at FROM population_reports WHERE id = $1", uuid.UUID(report["id"])
            )
            is None
        )
    finally:
        await conn.close()

    # The kecamatan's supervisor hears of it by e-mail.
    async def supervisor_told() -> list[dict[str, Any]] | None:
        r = await http.post(
            f"{stack.services['notify'].url}/v1/notifications/search",
            json={"recipient": SUPERVISOR_EMAIL},
            headers=auth("supervisor"),
        )
        found = [
            m
            for m in expect(r)["items"]
            if m["source_event_type"] == "mpp.population.follow_up_overdue.v1"
            and forgotten["id"] in m["body"]
        ]
        return found or None

    [message] = await eventually(supervisor_told)
    assert message["channel"] == "email" and message["recipient_masked"].startswith("c***@")
    assert "Eskalasi" in message["body"] and DESA_A in message["body"]
    for secret in (other_mother, KK, "Siti", "Anindya"):
        assert secret not in message["body"]

    # The reports list shows it escalated; a kecamatan officer sees their kecamatan only.
    listed = expect(
        await http.get(
            f"{intake}/v1/population/reports",
            params={"escalated": "true", "desa_code": DESA_A},
            headers=CAMAT_PARE,
        )
    )
    assert forgotten["id"] in {r["id"] for r in listed["items"]}
    assert report["id"] not in {r["id"] for r in listed["items"]}
    assert (
        await http.get(f"{intake}/v1/population/reports/{report['id']}", headers=CAMAT_PAPAR)
    ).status_code == 403
    papar = expect(await http.get(f"{intake}/v1/population/reports", headers=CAMAT_PAPAR))
    assert not {report["id"], forgotten["id"]} & {r["id"] for r in papar["items"]}
    refused = await http.get(
        f"{intake}/v1/population/summary", params={"kecamatan_code": "350617"}, headers=CAMAT_PAPAR
    )
    assert refused.status_code == 403 and refused.json()["code"] == "other_kecamatan"
    desa_b = expect(await http.get(f"{intake}/v1/population/reports", headers=OFFICER_B))
    assert not {report["id"], forgotten["id"]} & {r["id"] for r in desa_b["items"]}

    # The kecamatan's figures count both: reported 2, followed up 1, applied 1,
    # overdue 1, escalated 1 (this desa's births in this month).
    month = datetime.fromisoformat(report["occurred_on"]).strftime("%Y-%m")
    summary = expect(
        await http.get(
            f"{intake}/v1/population/summary",
            params={"from": report["occurred_on"], "to": report["occurred_on"]},
            headers=CAMAT_PARE,
        )
    )
    assert summary["kecamatan_code"] == "350617"
    [births] = [f for f in summary["figures"] if (f["desa_code"], f["kind"]) == (DESA_A, "birth")]
    assert births == {
        "desa_code": DESA_A,
        "kind": "birth",
        "reported": 2,
        "followed_up": 1,
        "applied": 1,
        "overdue": 1,
        "escalated": 1,
    }
    period = expect(
        await http.get(
            f"{intake}/v1/population/period-report", params={"period": month}, headers=CAMAT_PARE
        )
    )
    assert births in period["figures"] and period["period"] == month
    as_csv = await http.get(
        f"{intake}/v1/population/period-report",
        params={"period": month, "format": "csv"},
        headers=CAMAT_PARE,
    )
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert f"350617,{month},{DESA_A},birth,2,1,1,1,1" in as_csv.text.splitlines()

    # The kecamatan sends the month up to the regency, once.
    sent = await http.post(
        f"{intake}/v1/population/period-reports", json={"period": month}, headers=CAMAT_PARE
    )
    assert sent.status_code == 201, sent.text
    assert births in sent.json()["figures"]
    twice = await http.post(
        f"{intake}/v1/population/period-reports", json={"period": month}, headers=CAMAT_PARE
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_sent"
    by_desa = await http.post(
        f"{intake}/v1/population/period-reports", json={"period": month}, headers=OFFICER_A
    )
    assert by_desa.status_code == 403
    regency = expect(
        await http.get(
            f"{intake}/v1/population/period-reports",
            params={"kecamatan_code": "350617", "period": month},
            headers=auth("supervisor"),
        )
    )
    assert [r["id"] for r in regency["items"]] == [sent.json()["id"]]
    trail = expect(
        await http.get(
            f"{intake}/v1/audit",
            params={"target_id": sent.json()["id"]},
            headers=auth("supervisor"),
        )
    )
    assert [e["action"] for e in trail["items"]] == ["population.period_report"]

    # The events on the real topic: no NIK, name or KK number.
    def on_topic(event_type: str, subject: str) -> list[dict[str, Any]]:
        return opd_reader.events(lambda d: d.get("type") == event_type and d["subject"] == subject)

    [told] = await eventually(lambda: on_topic("mpp.population.reported.v1", report["id"]))
    assert told["data"]["services"] == ["akta_kelahiran", "kk"]
    assert told["data"]["entry_ids"] == report["entry_ids"]
    await eventually(lambda: on_topic("mpp.population.follow_up_overdue.v1", forgotten["id"]))
    await eventually(lambda: on_topic("mpp.population.period_reported.v1", sent.json()["id"]))
    for message in opd_reader.messages:
        if message.topic.startswith("mpp.population"):
            for secret in (mother, other_mother, KK, "Siti", "Rahayu", "Anindya", "85712345678"):
                assert secret.encode() not in message.value, f"{secret} on {message.topic}"
