"""The village's reports on a real PostgreSQL: a report makes its outreach
entries in one transaction (always, even for a resident an uploaded list
already holds); with two schedulers side by side and a restart, each report
not followed up in time is escalated exactly once and a followed-up one
never; the figures count them; the resident's export finds the reports
naming them; the retention job erases a closed report's personal data."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from mpp_intake.domain.outreach import Outcome
from mpp_intake.domain.population import Kind
from mpp_intake.settings import IntakeSettings
from mpp_intake.store import outreach, personal_data, population
from mpp_intake.store import retention as intake_retention
from mpp_intake.usecases import population_figures, population_reports
from mpp_intake.usecases.outreach_entries import RecordFollowUp, record_follow_up
from mpp_intake.usecases.population_deadlines import FollowUpDeadlines
from mpp_intake.usecases.population_reports import ReportEvent
from mpp_shared.auth import Principal, Role
from mpp_shared.db import create_pool
from mpp_shared.errors import Forbidden, Invalid
from mpp_shared.events import parse_event
from mpp_shared.pii import FieldCipher
from mpp_shared.retention import RetentionJob
from mpp_shared.settings import DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY
from tests.support.clock import HandClock
from tests.support.identities import nik

CIPHER = FieldCipher(DEV_PII_ENCRYPTION_KEY, DEV_PII_INDEX_KEY)
SETTINGS = IntakeSettings()
DESA_A, DESA_B = "3506172001", "3506172002"
OFFICER_A = Principal("desa-officer-1", frozenset({Role.FRONTDESK}), f"DESA-{DESA_A}")
KECAMATAN_PARE = Principal("camat-pare", frozenset({Role.FRONTDESK}), "KEC-PARE")
KECAMATAN_PAPAR = Principal("camat-papar", frozenset({Role.FRONTDESK}), "KEC-PAPAR")
SUPERVISOR = Principal("supervisor-1", frozenset({Role.SUPERVISOR}), "MPP-01")
KK = "3506171203150004"
OVERDUE = "mpp.population.follow_up_overdue.v1"


@pytest.fixture
def pool(intake_pool: asyncpg.Pool) -> asyncpg.Pool:
    return intake_pool


async def report(
    pool: asyncpg.Pool,
    officer: Principal = OFFICER_A,
    kind: Kind = Kind.BIRTH,
    applicant: str | None = None,
    **extra: object,
) -> population_reports.PopulationReportPublic:
    fields: dict[str, object] = {
        "kind": kind,
        "occurred_on": date.today() - timedelta(days=2),
        "kk_number": KK,
        "applicant_nik": applicant or nik("350617"),
        "applicant_name": "Siti Rahayu",
        "applicant_phone": "+6285712345678",
        "papers_held": ("kartu_keluarga", "buku_nikah_orang_tua"),
    }
    if kind != Kind.BIRTH:
        fields |= {"subject_nik": nik("350617"), "subject_name": "Budi Santoso"}
    answer = await population_reports.report(
        pool,
        settings=SETTINGS,
        cipher=CIPHER,
        officer=officer,
        command=ReportEvent(**(fields | extra)),  # type: ignore[arg-type]
        language="id",
        idempotency_key=None,
    )
    assert isinstance(answer, population_reports.PopulationReportPublic)
    return answer


async def outbox(pool: asyncpg.Pool, event_type: str) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id", event_type
    )
    return [parse_event(r["payload"]).data for r in rows]


async def test_a_report_makes_its_entries_always_and_tells_no_personal_data(
    pool: asyncpg.Pool,
) -> None:
    applicant = nik("350617")
    # An uploaded list already holds the applicant for the KK service.
    list_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await outreach.insert_list(
            conn,
            list_id,
            name="Belum KK",
            uploaded_by="supervisor-1",
            counter=None,
            uploaded_at=datetime.now(UTC),
            rows_total=1,
        )
        columns: list[list[object]] = [
            [uuid.uuid4()],
            [2],
            [DESA_A],
            [CIPHER.encrypt(applicant, context="nik")],
            [CIPHER.blind_index(applicant, context="nik")],
            ["3506**********01"],
            [CIPHER.encrypt("Siti Rahayu", context="name")],
            ["S*** R***"],
            [None],
            [None],
            [None],
            ["kk"],
        ]
        assert await outreach.insert_entries(conn, list_id, datetime.now(UTC), columns) == {2}

    first = await report(pool, applicant=applicant)
    twin = await report(pool, applicant=applicant)  # twins: a second report, same applicant
    for answer in (first, twin):
        assert answer.services == ["akta_kelahiran", "kk"]
        assert answer.entries is not None
        assert [e.service_code for e in answer.entries] == ["akta_kelahiran", "kk"]
        assert all(e.origin == "report" and e.report_id == answer.id for e in answer.entries)
        assert all(
            e.papers_held == ["kartu_keluarga", "buku_nikah_orang_tua"] for e in answer.entries
        )
        assert answer.kk_masked == "3506**********04" and answer.applicant_nik_masked.startswith(
            "3506"
        )
    entries = await pool.fetchval(
        "SELECT count(*) FROM outreach_entries WHERE nik_index = $1 AND service_code = 'kk'",
        CIPHER.blind_index(applicant, context="nik"),
    )
    assert entries == 3

    # The list's own rule still holds for lists: the same resident again is skipped.
    again = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await outreach.insert_list(
            conn,
            again,
            name="lagi",
            uploaded_by="s",
            counter=None,
            uploaded_at=datetime.now(UTC),
            rows_total=1,
        )
        columns[0] = [uuid.uuid4()]
        assert await outreach.insert_entries(conn, again, datetime.now(UTC), columns) == set()

    events = await outbox(pool, "mpp.population.reported.v1")
    assert [e["report_id"] for e in events] == [str(first.id), str(twin.id)]
    assert events[0]["entry_ids"] == [str(e.id) for e in first.entries or []]
    assert events[0]["kecamatan_code"] == "350617" and events[0]["desa_code"] == DESA_A
    raw = " ".join(str(r["payload"]) for r in await pool.fetch("SELECT payload FROM outbox"))
    for secret in (applicant, KK, "Siti", "Rahayu", "6285712345678"):
        assert secret not in raw


async def test_who_may_report_and_what_is_refused(pool: asyncpg.Pool) -> None:
    with pytest.raises(Forbidden) as refused:
        await report(pool, desa_code=DESA_B)
    assert refused.value.code == "other_desa"
    # A kecamatan officer reports for a desa of their kecamatan, not another's.
    assert (await report(pool, KECAMATAN_PARE, desa_code=DESA_B)).desa_code == DESA_B
    with pytest.raises(Forbidden):
        await report(pool, KECAMATAN_PAPAR, desa_code=DESA_B)
    with pytest.raises(Invalid) as missing:
        await report(pool, SUPERVISOR)
    assert missing.value.extra["errors"][0]["field"] == "desa_code"
    with pytest.raises(Invalid) as no_nik:
        await report(pool, kind=Kind.DEATH, subject_nik=None)
    assert no_nik.value.extra["errors"][0]["field"] == "subject_nik"
    with pytest.raises(Invalid) as unknown:
        await report(pool, papers_held=("kartu_keluarga", "ijazah_sma"))
    error = unknown.value.extra["errors"][0]
    assert error["field"] == "papers_held" and "ijazah_sma" in error["message_en"]
    assert await pool.fetchval("SELECT count(*) FROM population_reports") == 1


async def test_two_schedulers_and_a_restart_escalate_each_late_report_once(
    pool: asyncpg.Pool, database: str
) -> None:
    late = [await report(pool) for _ in range(12)]
    followed = await report(pool)
    assert followed.entries is not None
    await record_follow_up(
        pool,
        OFFICER_A,
        followed.entries[1].id,
        RecordFollowUp(outcome=Outcome.NOT_HOME),
        "id",
    )
    row = await population.fetch_report(pool, followed.id)
    assert row is not None and row["followed_up_at"] is not None

    due = max(r.due_at for r in late)
    now = HandClock(min(r.due_at for r in late) - timedelta(minutes=1))
    pools = [await create_pool(database, min_size=1, max_size=4) for _ in range(2)]
    try:
        a, b = (FollowUpDeadlines(p, now=now, batch_size=5) for p in pools)
        assert await asyncio.gather(a.tick(), b.tick()) == [0, 0]
        now.at = due + timedelta(seconds=1)
        assert sum(await asyncio.gather(a.tick(), b.tick())) == 12
        assert await FollowUpDeadlines(pools[0], now=now).tick() == 0
    finally:
        for p in pools:
            await p.close()
    events = await outbox(pool, OVERDUE)
    assert sorted(str(e["report_id"]) for e in events) == sorted(str(r.id) for r in late)
    assert {e["kecamatan_code"] for e in events} == {"350617"}
    assert set(events[0]) == {
        "kecamatan_code",
        "report_id",
        "kind",
        "desa_code",
        "due_at",
        "escalated_at",
    }
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM population_reports WHERE escalated_at IS NOT NULL"
        )
        == 12
    )

    # The kecamatan's figures count them (overdue: by the service clock, here
    # moved past the due moments).
    await pool.execute(
        "UPDATE population_reports SET due_at = due_at - interval '30 days' "
        "WHERE escalated_at IS NOT NULL"
    )
    summary = await population_figures.summary(
        pool, KECAMATAN_PARE, kecamatan_code=None, occurred_from=None, occurred_to=None
    )
    [births] = summary.figures
    assert (births.desa_code, births.kind, births.reported, births.followed_up) == (
        DESA_A,
        "birth",
        13,
        1,
    )
    assert (births.escalated, births.overdue, births.applied) == (12, 12, 0)
    with pytest.raises(Forbidden):
        await population_figures.summary(
            pool, KECAMATAN_PAPAR, kecamatan_code="350617", occurred_from=None, occurred_to=None
        )


async def test_export_and_retention_of_a_report(pool: asyncpg.Pool) -> None:
    applicant, deceased = nik("350617"), nik("350617")
    answer = await report(
        pool,
        kind=Kind.DEATH,
        applicant=applicant,
        subject_nik=deceased,
        papers_held=("surat_keterangan_kematian",),
    )
    for who in (applicant, deceased):
        found = await personal_data.found_by_nik(pool, CIPHER.blind_indexes(who, context="nik"))
        assert [r["id"] for r in found["population_report"]] == [answer.id]
    row = await population.fetch_report(pool, answer.id)
    assert row is not None and CIPHER.decrypt(row["kk_enc"], context="kk") == KK
    assert CIPHER.decrypt(row["subject_nik_enc"], context="subject_nik") == deceased

    # A corrected phone reaches the report (as its applicant's), not the deceased's.
    async with pool.acquire() as conn, conn.transaction():
        for who, count in ((applicant, 1), (deceased, 0)):
            corrected = await personal_data.correct_population(
                conn,
                CIPHER.blind_indexes(who, context="nik"),
                phone_enc=CIPHER.encrypt("+6281234567890", context="phone"),
                phone_masked="+62812*****890",
            )
            assert len(corrected) == count
    row = await population.fetch_report(pool, answer.id)
    assert row is not None and row["phone_masked"] == "+62812*****890"

    # Closed (followed up) long ago: its personal data goes, its figures stay.
    long_ago = datetime.now(UTC) - timedelta(days=400)
    await pool.execute(
        "UPDATE population_reports SET followed_up_at = $2 WHERE id = $1", answer.id, long_ago
    )
    job = RetentionJob(pool, service="intake", kinds=intake_retention.kinds(SETTINGS, CIPHER))
    run = await job.run_once()
    assert run is not None and run.erased["population_reports"] == 1
    erased = await population.fetch_report(pool, answer.id)
    assert erased is not None and erased["personal_data_erased_at"] is not None
    for column in (
        "kk_enc",
        "nik_enc",
        "nik_index",
        "name_enc",
        "phone_enc",
        "subject_nik_enc",
        "subject_nik_index",
        "subject_name_enc",
        "note",
    ):
        assert erased[column] is None, column
    assert (erased["kind"], erased["desa_code"]) == ("death", DESA_A)
    found = await personal_data.found_by_nik(pool, CIPHER.blind_indexes(deceased, context="nik"))
    assert found["population_report"] == []
